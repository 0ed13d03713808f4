package emulator

import (
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// Faults are probabilities (0..1), rolled per API call and per slice PUT
// (never for downloads or /__emulator/). Slow is rolled on its own and may
// combine with another fault; the others exclude each other.
type Faults struct {
	P5xx      float64 // HTTP 500/502/503, half of them after the call was applied
	Reset     float64 // connection closed without an answer, half after applying
	Slow      float64 // answer delayed by SlowDelay
	TooMany   float64 // body code 429 (HTTP 429 for a slice PUT)
	Verifying float64 // code 20103; only upload_complete and upload_async_result
	SlowDelay time.Duration
}

// ParseFaults reads "5xx=0.1,reset=0.05,429=0.1,slow=0.05,verifying=0.2"
// (also "slow_delay=2s"). "" gives no faults.
func ParseFaults(list string) (Faults, error) {
	var f Faults
	for _, kv := range wire.SplitList(list) {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok {
			return Faults{}, fmt.Errorf("fault %q: want NAME=VALUE", kv)
		}
		if k == "slow_delay" || k == "slowdelay" || k == "slow-delay" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return Faults{}, fmt.Errorf("fault %s: %q is not a duration", k, v)
			}
			f.SlowDelay = d
			continue
		}
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 1 {
			return Faults{}, fmt.Errorf("fault %s: %q is not a probability between 0 and 1", k, v)
		}
		switch k {
		case "5xx":
			f.P5xx = p
		case "reset":
			f.Reset = p
		case "slow":
			f.Slow = p
		case "429":
			f.TooMany = p
		case "verifying":
			f.Verifying = p
		default:
			return Faults{}, fmt.Errorf("unknown fault %q (want 5xx, reset, slow, 429, verifying, slow_delay)", k)
		}
	}
	return f, nil
}

// String is the ParseFaults form.
func (f Faults) String() string {
	s := fmt.Sprintf("5xx=%g,reset=%g,429=%g,slow=%g,verifying=%g", f.P5xx, f.Reset, f.TooMany, f.Slow, f.Verifying)
	if f.SlowDelay > 0 {
		s += ",slow_delay=" + f.SlowDelay.String()
	}
	return s
}

func (f Faults) validate() error {
	for _, p := range []float64{f.P5xx, f.Reset, f.Slow, f.TooMany, f.Verifying} {
		if p < 0 || p > 1 {
			return fmt.Errorf("fault probability %g is not between 0 and 1", p)
		}
	}
	return nil
}

// QPSNames are the endpoint names ParseQPS accepts: the last path element
// of each API call. copy/process and offline/download/process share
// "process"; offline/download is "download".
func QPSNames() []string {
	seen := map[string]bool{}
	for _, p := range []string{wire.PathAccessToken, wire.PathMkdir, wire.PathCreate, wire.PathGetUploadURL,
		wire.PathListUploadParts, wire.PathUploadComplete, wire.PathUploadAsyncResult, wire.PathDetail,
		wire.PathList, wire.PathDelete, wire.PathMove, wire.PathCopy, wire.PathCopyProcess, wire.PathCopyFail,
		wire.PathOffline, wire.PathOfflineProcess, wire.PathUserInfo} {
		seen[p[strings.LastIndex(p, "/")+1:]] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ParseQPS reads "delete=1,list=4,create=2". "" gives no limits.
func ParseQPS(list string) (map[string]float64, error) {
	return wire.ParseRates(list, QPSNames(), false)
}

// fault is the outcome of one roll.
type fault struct {
	slow time.Duration
	kind string // "", "5xx", "reset", "429", "verifying"
	late bool   // 5xx and reset: strike after the call was applied
}

// rollFault decides the faults of one call or PUT.
func (s *Server) rollFault(r *http.Request, verifying bool) fault {
	f := s.ctl.getFaults()
	var out fault
	if f.Slow > 0 && s.randFloat() < f.Slow {
		out.slow = f.SlowDelay
		if out.slow <= 0 {
			out.slow = DefaultSlowDelay
		}
	}
	v := 0.0
	if verifying {
		v = f.Verifying
	}
	x := s.randFloat()
	for _, c := range []struct {
		kind string
		p    float64
	}{{"5xx", f.P5xx}, {"reset", f.Reset}, {"429", f.TooMany}, {"verifying", v}} {
		if x < c.p {
			out.kind = c.kind
			break
		}
		x -= c.p
	}
	if out.kind == "5xx" || out.kind == "reset" {
		out.late = s.randFloat() < 0.5
	}
	if out.slow > 0 || out.kind != "" {
		s.stats.faults.Add(1)
		s.log.Info("injecting fault", "call", r.Method+" "+r.URL.Path, "kind", out.kind, "after", out.late, "slow", out.slow)
	}
	return out
}

// before strikes the faults that come before the call is applied; true when
// the answer has been given. api selects envelope or plain answers.
func (f fault) before(s *Server, w http.ResponseWriter, r *http.Request, api bool) bool {
	if f.slow > 0 && !s.sleepCtx(f.slow) {
		abort(w)
		return true
	}
	if f.late {
		return false
	}
	switch f.kind {
	case "429":
		if api {
			s.writeEnvelope(w, http.StatusOK, nil, errf(wire.CodeTooMany, "too many requests (injected)"))
		} else {
			http.Error(w, "<Error><Code>SlowDown</Code><Message>too many requests (injected)</Message></Error>", http.StatusTooManyRequests)
		}
		return true
	case "verifying":
		s.writeEnvelope(w, http.StatusOK, nil, errf(wire.CodeVerifying, "file is being verified, retry in 1 s (injected)"))
		return true
	case "5xx":
		s.write5xx(w, api)
		return true
	case "reset":
		abort(w)
		return true
	}
	return false
}

// after strikes the faults that come once the call was applied.
func (f fault) after(s *Server, w http.ResponseWriter, r *http.Request, api bool) bool {
	if !f.late {
		return false
	}
	if f.kind == "5xx" {
		s.write5xx(w, api)
	} else {
		abort(w)
	}
	return true
}

// write5xx answers 500, 502 or 503, with a JSON or an HTML body.
func (s *Server) write5xx(w http.ResponseWriter, api bool) {
	status := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[s.randIntN(3)]
	if api && s.randIntN(2) == 0 {
		s.writeEnvelope(w, status, nil, errf(wire.CodeInternal, "internal server error (injected %d)", status))
		return
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html><body><h1>%d %s</h1><p>injected by the emulator</p></body></html>\n", status, http.StatusText(status))
}

// abort closes the connection without an answer (a TCP reset when it can).
func abort(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
