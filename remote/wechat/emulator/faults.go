package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// Fault is one injected failure: the next Count calls to Path answer it
// instead of being served.
type Fault struct {
	// Path is the route: an API path ("/tcb/uploadfile", "/cgi-bin/token"),
	// "/cos" for every COS form upload, "/dl" for every download; "" for
	// all of them.
	Path string `json:"path"`
	// ErrCode answers a JSON body with this errcode (HTTP 200), e.g. -1 or
	// -501002.
	ErrCode int `json:"errcode,omitempty"`
	// Status answers this HTTP status instead: with a COS XML
	// InternalError body on "/cos" and "/dl", an empty body elsewhere.
	Status int `json:"status,omitempty"`
	// Reset closes the connection without an answer.
	Reset bool `json:"reset,omitempty"`
	// DelayMS holds the call this many milliseconds first (wall time);
	// alone it makes a slow call that is then served normally.
	DelayMS int `json:"delay_ms,omitempty"`
	// Count is how many calls it applies to; 0 = every call until the
	// faults are cleared.
	Count int `json:"count,omitempty"`
}

// ParseFaults reads a Fault or a JSON array of them; blank text is none
// (nil).
func ParseFaults(text string) ([]Fault, error) {
	text = strings.TrimSpace(text)
	var faults []Fault
	var err error
	switch {
	case text == "":
		return nil, nil
	case text[0] == '[':
		err = json.Unmarshal([]byte(text), &faults)
	default:
		var f Fault
		err = json.Unmarshal([]byte(text), &f)
		faults = []Fault{f}
	}
	if err != nil {
		return nil, fmt.Errorf("faults: %w", err)
	}
	if faults == nil {
		faults = []Fault{}
	}
	return faults, nil
}

// faultList is the faults waiting, in the order they were added.
type faultList struct {
	mu   sync.Mutex
	list []*pendingFault // GUARDED_BY(mu)
}

type pendingFault struct {
	Fault
	left int // calls still to fault; < 0 = unlimited
}

// set replaces the list.
func (fl *faultList) set(faults []Fault) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.list = nil
	for _, f := range faults {
		fl.addLocked(f)
	}
}

// add appends faults.
func (fl *faultList) add(faults []Fault) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	for _, f := range faults {
		fl.addLocked(f)
	}
}

// addLocked appends f. Call with mu held.
func (fl *faultList) addLocked(f Fault) {
	left := f.Count
	if left <= 0 {
		left = -1
	}
	fl.list = append(fl.list, &pendingFault{Fault: f, left: left})
}

// pending is the faults waiting, with Count = calls left (0 = unlimited).
func (fl *faultList) pending() []Fault {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	out := make([]Fault, 0, len(fl.list))
	for _, pf := range fl.list {
		f := pf.Fault
		f.Count = max(pf.left, 0)
		out = append(out, f)
	}
	return out
}

// take uses up one call of the first fault for route.
func (fl *faultList) take(route string) (Fault, bool) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	for i, pf := range fl.list {
		if pf.Path != "" && pf.Path != route {
			continue
		}
		if pf.left > 0 {
			if pf.left--; pf.left == 0 {
				fl.list = append(fl.list[:i:i], fl.list[i+1:]...)
			}
		}
		return pf.Fault, true
	}
	return Fault{}, false
}

// injectFault applies the next fault for route, if any, and says whether it
// answered the request.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, route string) bool {
	f, found := s.faults.take(route)
	if !found {
		return false
	}
	s.stats.faults.Add(1)
	s.log.Debug("fault", "route", route, "fault", f)
	if f.DelayMS > 0 {
		t := time.NewTimer(time.Duration(f.DelayMS) * time.Millisecond)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	switch {
	case f.Reset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	case f.Status != 0:
		if strings.HasPrefix(route, "/cos") || strings.HasPrefix(route, "/dl") {
			writeCosError(w, f.Status, wire.CosInternalError, "injected fault")
		} else {
			w.WriteHeader(f.Status)
		}
		return true
	case f.ErrCode != 0:
		writeJSON(w, errorf(f.ErrCode, "injected fault"))
		return true
	}
	return false
}
