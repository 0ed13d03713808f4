package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// adminPrefix is the emulator's own control surface: no auth, not counted,
// never faulted.
//
//	GET  /__emulator/stats         Stats as JSON
//	POST /__emulator/stats/reset   zero the counters
//	GET  /__emulator/faults        current faults, {"faults": "5xx=...,..."}
//	POST /__emulator/faults        body: ParseFaults text ("5xx=0.1,reset=0.05");
//	                               a body starting with "{" is JSON of Faults
//	                               (SlowDelay in nanoseconds); empty = none
//	GET  /__emulator/qps           current limits as a JSON object
//	POST /__emulator/qps           body: ParseQPS text ("delete=1,list=4"); empty = none
//	POST /__emulator/drive?name=X  raw body = content; answers {"fileId": "..."}
//	POST /__emulator/status        {"fileId": "...", "status": N} sets the audit status
//	GET  /__emulator/domain        the custom domain, {"domain": "http://host:port"}
//	POST /__emulator/domain        body: the custom domain's base URL, which userSelfURL
//	                               then names (it must reach this emulator to be
//	                               served: "http://localhost:PORT", say); empty = none
const adminPrefix = "/__emulator/"

func (s *Server) adminRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__emulator/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("POST /__emulator/stats/reset", func(w http.ResponseWriter, r *http.Request) {
		s.stats.reset()
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("GET /__emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"faults": s.ctl.getFaults().String()})
	})
	mux.HandleFunc("POST /__emulator/faults", s.adminFaults)
	mux.HandleFunc("GET /__emulator/qps", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.ctl.getQPS())
	})
	mux.HandleFunc("POST /__emulator/qps", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			adminError(w, err)
			return
		}
		m, err := ParseQPS(string(b))
		if err != nil {
			adminError(w, err)
			return
		}
		s.SetQPS(m)
		s.log.Info("qps changed", "qps", m)
		writeJSON(w, http.StatusOK, m)
	})
	mux.HandleFunc("POST /__emulator/drive", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		b, err := io.ReadAll(r.Body)
		if err != nil {
			adminError(w, err)
			return
		}
		id, err := s.SeedDrive(name, b)
		if err != nil {
			adminError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"fileId": id})
	})
	mux.HandleFunc("POST /__emulator/status", s.adminStatus)
	mux.HandleFunc("GET /__emulator/domain", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"domain": s.ctl.getOwnDomain()})
	})
	mux.HandleFunc("POST /__emulator/domain", s.adminDomain)
	return mux
}

func (s *Server) adminFaults(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		adminError(w, err)
		return
	}
	var f Faults
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '{' {
		err = json.Unmarshal(b, &f)
		if err == nil {
			err = f.validate()
		}
	} else {
		f, err = ParseFaults(string(b))
	}
	if err != nil {
		adminError(w, err)
		return
	}
	s.SetFaults(f)
	s.log.Info("faults changed", "faults", f.String())
	writeJSON(w, http.StatusOK, map[string]string{"faults": f.String()})
}

// adminStatus sets a file's audit status (> 100 = rejected by moderation).
func (s *Server) adminStatus(w http.ResponseWriter, r *http.Request) {
	var req struct {
		FileID string `json:"fileId"`
		Status *int   `json:"status"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&req); err != nil || req.Status == nil || req.FileID == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"fileId": "...", "status": N}`})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.st.entries[req.FileID]
	if e == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such file"})
		return
	}
	ne := *e
	ne.Status, ne.Updated = *req.Status, time.Now()
	if err := s.commitLocked(&op{Put: []*entry{&ne}}); err != nil {
		adminError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.wireEntryLocked(&ne, requestBase(r)))
}

// adminDomain sets the account's custom domain: an http(s) base URL
// without a path, or nothing.
func (s *Server) adminDomain(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		adminError(w, err)
		return
	}
	base := strings.TrimRight(strings.TrimSpace(string(b)), "/")
	if base != "" {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want a base URL such as http://localhost:8080"})
			return
		}
	}
	s.ctl.setOwnDomain(base)
	writeJSON(w, http.StatusOK, map[string]string{"domain": base})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func adminError(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
}
