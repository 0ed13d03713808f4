package remote

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pan123fs/pan123fs/internal/durable"
)

// How an adaptive endpoint finds its limit. No table names it and the
// service's only signal is a refusal (code 429), so the client probes.
// While no refusal is known, or the rate is below nearCeiling × the last
// refused rate, it grows by growFast (up to that point) once probeFast requests that the bucket
// held back have succeeded and fastEvery has passed since the last change;
// near or above the last refused rate by growSlow after probeSlow such
// requests and slowEvery. The time condition matters: a service whose
// bucket has a burst refuses only once the burst is spent, so growing on
// counts alone would overshoot far before the first refusal. A refusal
// cuts the rate by cutFactor; the answers to requests sent before a cut
// (at the old rate) change nothing, neither refusals nor successes. Requests
// that did not wait for the bucket say nothing: the caller was slower than
// the limit.
const (
	probeFast   = 10
	fastEvery   = time.Second
	growFast    = 1.1
	nearCeiling = 0.85
	probeSlow   = 50
	slowEvery   = 3 * time.Second
	growSlow    = 1.02
	cutFactor   = 0.7
	minAdaptive = 0.2
	maxAdaptive = 200
)

// adaptive is the rate controller of one endpoint.
type adaptive struct {
	now func() time.Time

	mu      sync.Mutex
	qps     float64   // GUARDED_BY(mu) the rate allowed now
	ceiling float64   // GUARDED_BY(mu) the rate of the last refusal; 0: none yet
	good    int       // GUARDED_BY(mu) held-back successes since the last change
	changed time.Time // GUARDED_BY(mu) the last change of qps
	cutAt   time.Time // GUARDED_BY(mu) the last cut
	learnt  bool      // GUARDED_BY(mu) refused once, or restored from a saved state
}

func newAdaptive(start float64, now func() time.Time) *adaptive {
	return &adaptive{now: now, qps: start}
}

// current is the rate allowed now.
func (a *adaptive) current() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.qps
}

// success records an accepted request that the bucket let through at sent;
// waited says whether the bucket held it back. It returns the rate and
// whether it changed.
func (a *adaptive) success(sent time.Time, waited bool) (float64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if !waited || sent.Before(a.cutAt) {
		return a.qps, false
	}
	a.good++
	next, count, every := a.qps*growFast, probeFast, fastEvery
	if a.ceiling > 0 {
		if near := nearCeiling * a.ceiling; a.qps >= near {
			next, count, every = a.qps*growSlow, probeSlow, slowEvery
		} else {
			next = min(next, near)
		}
	}
	if a.good < count || now.Sub(a.changed) < every || a.qps >= maxAdaptive {
		return a.qps, false
	}
	a.good, a.changed = 0, now
	a.qps = min(next, maxAdaptive)
	return a.qps, true
}

// refused records a refusal for the rate of a request that the bucket let
// through at sent. It returns the rate and whether it changed.
func (a *adaptive) refused(sent time.Time) (float64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if sent.Before(a.cutAt) {
		return a.qps, false
	}
	a.learnt = true
	a.ceiling = a.qps
	a.qps = max(a.qps*cutFactor, minAdaptive)
	a.good = 0
	a.cutAt, a.changed = now, now
	return a.qps, true
}

// cutSince tells whether the rate was cut after t.
func (a *adaptive) cutSince(t time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cutAt.After(t)
}

// reset starts again from start unless a rate has been learnt; it returns
// the rate allowed now.
func (a *adaptive) reset(start float64) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.learnt {
		a.qps, a.good = start, 0
	}
	return a.qps
}

// learntRate is what is saved of one endpoint.
type learntRate struct {
	QPS     float64 `json:"qps"`
	Ceiling float64 `json:"ceiling,omitempty"`
}

func (a *adaptive) snapshot() learntRate {
	a.mu.Lock()
	defer a.mu.Unlock()
	return learntRate{QPS: a.qps, Ceiling: a.ceiling}
}

// restore takes up a saved state; nonsense values are ignored.
func (a *adaptive) restore(s learntRate) {
	if !(s.QPS >= minAdaptive && s.QPS <= maxAdaptive) || s.Ceiling < 0 || s.Ceiling > maxAdaptive {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.qps, a.ceiling, a.learnt, a.good = s.QPS, s.Ceiling, true, 0
}

// rateStore keeps the learnt rates of one client ID and service in
// StateDir, in rates-<hash of the client ID>.json. Increases are saved at
// most every saveEvery (a crash loses only some of the cautious
// direction); cuts at once.
type rateStore struct {
	path     string
	clientID string
	base     string
	now      func() time.Time
	log      *slog.Logger

	mu   sync.Mutex // serialises writes of path
	last time.Time  // GUARDED_BY(mu) the last write
}

const saveEvery = 10 * time.Second

type savedRates struct {
	ClientID string                `json:"clientID"`
	BaseURL  string                `json:"baseURL"`
	Rates    map[string]learntRate `json:"rates"`
}

// newRateStore is nil (nothing saved) when dir is "".
func newRateStore(dir, clientID, base string, now func() time.Time, log *slog.Logger) *rateStore {
	if dir == "" {
		return nil
	}
	h := sha256.Sum256([]byte(clientID))
	name := "rates-" + hex.EncodeToString(h[:8]) + ".json"
	return &rateStore{path: filepath.Join(dir, name), clientID: clientID, base: base, now: now, log: log}
}

// load reads the saved rates; nil if there are none for this client and
// service.
func (s *rateStore) load() map[string]learntRate {
	if s == nil {
		return nil
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("123pan: cannot read the learnt rates", "err", err)
		}
		return nil
	}
	var v savedRates
	if err := json.Unmarshal(b, &v); err != nil {
		s.log.Warn("123pan: ignoring malformed learnt rates", "file", s.path)
		return nil
	}
	if v.ClientID != s.clientID || v.BaseURL != s.base {
		return nil
	}
	return v.Rates
}

// save writes what rates returns durably if force or saveEvery has passed
// since the last write. rates is called under s.mu, so that a later state
// is never overwritten by an earlier one (lock order: rateStore.mu, then
// adaptive.mu).
func (s *rateStore) save(rates func() map[string]learntRate, force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !force && !s.last.IsZero() && now.Sub(s.last) < saveEvery {
		return nil
	}
	b, err := json.MarshalIndent(savedRates{ClientID: s.clientID, BaseURL: s.base, Rates: rates()}, "", "  ")
	if err != nil {
		return err
	}
	s.last = now
	return durable.WriteFile(s.path, append(b, '\n'), 0o600)
}
