package fs

import (
	"os"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListingTTLFollowsTheClock(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Unix(1_700_000_000, 0))
	env := newTestEnv(t, Options{Clock: clock, DirTTL: 30 * time.Second})
	_, err := env.check.Mkdir(t.Context(), "", "album")
	require.NoError(t, err)
	lists := func() int64 { return env.calls("POST /api/v1/oss/file/list") }

	_, err = os.ReadDir(env.mnt)
	require.NoError(t, err)
	before := lists()
	_, err = os.ReadDir(env.mnt)
	require.NoError(t, err)
	assert.Equal(t, before, lists(), "within the TTL: no list call")

	clock.Advance(31 * time.Second)
	_, err = env.check.Mkdir(t.Context(), "", "added elsewhere")
	require.NoError(t, err)
	ents, err := os.ReadDir(env.mnt)
	require.NoError(t, err)
	assert.Equal(t, before+1, lists(), "past the TTL: listed again")
	assert.Len(t, ents, 2, "and the change made elsewhere shows")
}

func TestListingsAreBoundedInMemory(t *testing.T) {
	env := newTestEnv(t, Options{MaxListed: 10})
	for _, d := range []string{"a", "b", "c", "d"} {
		id, err := env.check.Mkdir(t.Context(), "", d)
		require.NoError(t, err)
		for i := 0; i < 6; i++ {
			_, err := env.check.Upload(t.Context(), uploadOf(id, string(rune('0'+i))+".png", []byte("x")))
			require.NoError(t, err)
		}
	}
	for _, d := range []string{"a", "b", "c"} {
		ents, err := os.ReadDir(env.path(d))
		require.NoError(t, err)
		require.Len(t, ents, 6)
	}
	// The kernel holds the entries it was given; make it let go, as memory
	// pressure would, so that the listings may be dropped.
	require.NoError(t, os.WriteFile("/proc/sys/vm/drop_caches", []byte("2"), 0))
	time.Sleep(200 * time.Millisecond)
	ents, err := os.ReadDir(env.path("d"))
	require.NoError(t, err)
	require.Len(t, ents, 6)
	assert.LessOrEqual(t, env.fsys.listings.Entries(), 10+6, "old listings are dropped once over the bound")
	ents, err = os.ReadDir(env.path("a"))
	require.NoError(t, err)
	assert.Len(t, ents, 6, "a dropped listing is loaded again when needed")
}
