package cache

import (
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/jonboulle/clockwork"
)

// Listings keeps track of the folder listings held in memory: how long each
// is trusted (the TTL) and, least recently used first, which to drop once
// they hold more than maxEntries entries in all. The listings themselves
// stay with their owner (K is the owner's folder handle); Listings calls
// evict for a folder whose listing should go, and the owner may refuse
// (return false) while it needs the listing, e.g. while the kernel holds
// its entries. Safe for concurrent use; evict is called without the lock.
type Listings[K comparable] struct {
	ttl        time.Duration
	maxEntries int
	clock      clockwork.Clock
	evict      func(K) bool

	mu    sync.Mutex
	lru   *simplelru.LRU[K, listing] // GUARDED_BY(mu)
	total int                        // entries in all listings; GUARDED_BY(mu)
}

type listing struct {
	loaded  time.Time
	entries int
}

// NewListings makes a tracker. clock tells the time the TTL is measured
// in (tests pass a clockwork.FakeClock and move it instead of sleeping);
// nil means the real clock.
func NewListings[K comparable](ttl time.Duration, maxEntries int, clock clockwork.Clock, evict func(K) bool) *Listings[K] {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	lru, _ := simplelru.NewLRU[K, listing](math.MaxInt, nil) // cannot fail with a positive size
	return &Listings[K]{ttl: ttl, maxEntries: maxEntries, clock: clock, evict: evict, lru: lru}
}

// Fresh tells whether k's listing was loaded less than the TTL ago, and
// marks it recently used.
func (l *Listings[K]) Fresh(k K) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.lru.Get(k)
	return ok && l.clock.Now().Sub(v.loaded) < l.ttl
}

// Loaded records that k's listing, of entries entries, was just loaded,
// and drops least recently used listings beyond the bound.
func (l *Listings[K]) Loaded(k K, entries int) {
	l.mu.Lock()
	if old, ok := l.lru.Peek(k); ok {
		l.total -= old.entries
	}
	l.lru.Add(k, listing{loaded: l.clock.Now(), entries: entries})
	l.total += entries
	var victims []K
	if over := l.total - l.maxEntries; l.maxEntries > 0 && over > 0 {
		for _, key := range l.lru.Keys() { // oldest first (a copy: only when over the bound)
			if over <= 0 {
				break
			}
			if key == k {
				continue
			}
			v, _ := l.lru.Peek(key)
			victims = append(victims, key)
			over -= v.entries
		}
	}
	l.mu.Unlock()
	for _, key := range victims {
		if l.evict == nil || l.evict(key) {
			l.Forget(key)
		}
	}
}

// Invalidate makes k's listing stale: the next access loads it again.
func (l *Listings[K]) Invalidate(k K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.lru.Peek(k); ok {
		v.loaded = time.Time{}
		l.lru.Add(k, v)
	}
}

// Forget drops k (its listing is gone from memory).
func (l *Listings[K]) Forget(k K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.lru.Peek(k); ok {
		l.total -= v.entries
		l.lru.Remove(k)
	}
}

// Entries is how many entries the tracked listings hold in all.
func (l *Listings[K]) Entries() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}
