package emulator

import (
	"io"
	"net/http"
)

// adminPrefix is the emulator's own control surface: no token, not counted,
// never faulted.
//
//	GET    /__emulator/stats        Stats as JSON
//	POST   /__emulator/stats/reset  zero the counters
//	GET    /__emulator/faults       the faults waiting, {"faults": [Fault...]}
//	POST   /__emulator/faults       body: a Fault or an array of them, appended;
//	                                an empty body clears them all
//	DELETE /__emulator/faults       clear them all
const adminPrefix = "/__emulator/"

func (s *Server) adminRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__emulator/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.Stats())
	})
	mux.HandleFunc("POST /__emulator/stats/reset", func(w http.ResponseWriter, r *http.Request) {
		s.stats.reset()
		writeJSON(w, s.Stats())
	})
	mux.HandleFunc("GET /__emulator/faults", s.listFaults)
	mux.HandleFunc("POST /__emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		faults, err := ParseFaults(string(b))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if faults == nil {
			s.faults.set(nil)
		}
		s.faults.add(faults)
		s.listFaults(w, r)
	})
	mux.HandleFunc("DELETE /__emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		s.faults.set(nil)
		s.listFaults(w, r)
	})
	return mux
}

func (s *Server) listFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string][]Fault{"faults": s.faults.pending()})
}

// AddFaults appends faults, as POST /__emulator/faults does.
func (s *Server) AddFaults(faults ...Fault) { s.faults.add(faults) }
