package emulator

import (
	"maps"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// controls hold the run-time adjustable faults and rate limits.
type controls struct {
	mu       sync.Mutex
	faults   Faults
	qps      map[string]float64
	limiters map[string]*rate.Limiter
	// ownDomain is the base URL of the account's custom domain, "" for
	// none: userSelfURL names it instead of the emulator's own address.
	ownDomain string
}

func (c *controls) setFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = f
	return nil
}

func (c *controls) getFaults() Faults {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.faults
}

// setQPS installs one token bucket per endpoint, burst max(1, qps).
func (c *controls) setQPS(m map[string]float64) error {
	lim := map[string]*rate.Limiter{}
	for k, q := range m {
		if q <= 0 {
			continue
		}
		lim[k] = rate.NewLimiter(rate.Limit(q), max(1, int(q)))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.qps = maps.Clone(m)
	c.limiters = lim
	return nil
}

func (c *controls) getQPS() map[string]float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.qps)
}

func (c *controls) qpsOf(name string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.qps[name]
}

// allow takes a token from the endpoint's bucket; unlimited endpoints always pass.
func (c *controls) allow(name string) bool {
	c.mu.Lock()
	l := c.limiters[name]
	c.mu.Unlock()
	return l == nil || l.Allow()
}

// Stats is what GET /__emulator/stats answers.
type Stats struct {
	Calls       map[string]int64 `json:"calls"`
	Faults      int64            `json:"faults"`
	RateLimited int64            `json:"rate_limited"`
}

type statsCounter struct {
	mu          sync.Mutex
	calls       map[string]int64
	faults      atomic.Int64
	rateLimited atomic.Int64
}

func (c *statsCounter) count(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int64{}
	}
	c.calls[key]++
}

func (c *statsCounter) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := maps.Clone(c.calls)
	if calls == nil {
		calls = map[string]int64{}
	}
	return Stats{Calls: calls, Faults: c.faults.Load(), RateLimited: c.rateLimited.Load()}
}

func (c *statsCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
	c.faults.Store(0)
	c.rateLimited.Store(0)
}

// Stats counts calls by "METHOD /path", injected faults and rate-limited calls.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// setOwnDomain sets the base ("http://host:port") of the account's custom
// domain; "" means none.
func (c *controls) setOwnDomain(base string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ownDomain = base
}

func (c *controls) getOwnDomain() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ownDomain
}
