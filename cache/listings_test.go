package cache

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
)

func TestListingsTTL(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Unix(1000, 0))
	l := NewListings[string](30*time.Second, 0, clock, nil)
	assert.False(t, l.Fresh("a"), "never loaded")
	l.Loaded("a", 3)
	assert.True(t, l.Fresh("a"))
	clock.Advance(29 * time.Second)
	assert.True(t, l.Fresh("a"), "within the TTL")
	clock.Advance(2 * time.Second)
	assert.False(t, l.Fresh("a"), "past the TTL")
	l.Loaded("a", 3)
	l.Invalidate("a")
	assert.False(t, l.Fresh("a"), "invalidated")
	assert.Equal(t, 3, l.Entries())
}

func TestListingsEvictLeastRecentlyUsedBeyondTheBound(t *testing.T) {
	var evicted []string
	refuse := map[string]bool{"busy": true}
	l := NewListings[string](time.Hour, 100, nil, func(k string) bool {
		evicted = append(evicted, k)
		return !refuse[k]
	})
	l.Loaded("busy", 40)
	l.Loaded("old", 40)
	l.Loaded("recent", 10)
	assert.True(t, l.Fresh("busy")) // now the most recently used... but refuses anyway
	l.Fresh("recent")
	l.Loaded("new", 30) // 120 entries: over by 20
	assert.Equal(t, []string{"old"}, evicted, "the least recently used listing goes first")
	assert.False(t, l.Fresh("old"))
	assert.Equal(t, 80, l.Entries())

	evicted = nil
	l.Loaded("huge", 90) // 170: over by 70
	assert.Contains(t, evicted, "busy")
	assert.True(t, l.Fresh("busy"), "a listing its owner still needs stays")
	assert.True(t, l.Fresh("huge"), "the listing just loaded is never the victim")
}
