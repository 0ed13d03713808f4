package emulator

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Stats is what GET /__emulator/stats answers.
type Stats struct {
	// Calls counts requests by "METHOD route", where route is the API path,
	// "/cos" for COS form uploads or "/dl" for downloads.
	Calls        map[string]int64 `json:"calls"`
	Faults       int64            `json:"faults"`        // requests a fault answered or delayed
	QuotaRefused int64            `json:"quota_refused"` // calls refused by Quotas
	Objects      int              `json:"objects"`       // stored objects
	Bytes        int64            `json:"bytes"`         // their total size
	Documents    int              `json:"documents"`     // documents in all collections
}

type statsCounter struct {
	mu           sync.Mutex
	calls        map[string]int64 // GUARDED_BY(mu)
	faults       atomic.Int64
	quotaRefused atomic.Int64
}

func (c *statsCounter) count(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int64{}
	}
	c.calls[key]++
}

func (c *statsCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
	c.faults.Store(0)
	c.quotaRefused.Store(0)
}

// Stats returns the counters and what is stored.
func (s *Server) Stats() Stats {
	s.stats.mu.Lock()
	calls := maps.Clone(s.stats.calls)
	s.stats.mu.Unlock()
	if calls == nil {
		calls = map[string]int64{}
	}
	objects, bytes := s.storage.count()
	return Stats{
		Calls:        calls,
		Faults:       s.stats.faults.Load(),
		QuotaRefused: s.stats.quotaRefused.Load(),
		Objects:      objects,
		Bytes:        bytes,
		Documents:    s.db.count(),
	}
}
