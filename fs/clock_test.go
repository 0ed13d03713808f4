package fs

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/store"
)

// Tests that move the filesystem's clock instead of sleeping.

func TestUploadRetryWaitsItsPauseOnTheClock(t *testing.T) {
	clock := clockwork.NewFakeClock()
	env := newMemEnv(t, Options{Clock: clock, UploadRetry: backoff.Policy{Initial: time.Minute, Max: time.Hour}})
	env.store.FailNext("Put", errors.New("unavailable"), store.ErrTemporary)
	require.ErrorIs(t, os.WriteFile(env.path("a.png"), []byte("content"), 0o644), syscall.EIO)

	// A second at a time: a worker that computes its wait while the clock
	// jumps would set its timer a jump late, and a single jump of 59 s
	// could then not be told from a wrong pause.
	var advanced atomic.Int64
	require.Eventually(t, func() bool {
		if env.store.Calls("Put") > 1 {
			return true
		}
		clock.Advance(time.Second)
		advanced.Add(int64(time.Second))
		return false
	}, 10*time.Second, 2*time.Millisecond, "a second attempt, once the pause is over")
	assert.GreaterOrEqual(t, time.Duration(advanced.Load()), time.Minute, "no new attempt before the pause is over")
	assert.Equal(t, 2, env.store.Calls("Put"))
	require.NoError(t, env.fsys.Sync(t.Context()))
	assert.Equal(t, map[string]string{"a.png": "content"}, env.held(t, ""))
}

func TestUnlinksGatherForTheDeleteWindowOnTheClock(t *testing.T) {
	clock := clockwork.NewFakeClock()
	env := newMemEnv(t, Options{Clock: clock, DeleteWindow: time.Second})
	for _, name := range []string{"a", "b", "c"} {
		require.NoError(t, os.WriteFile(env.path(name), []byte(name), 0o644))
	}
	require.Len(t, env.held(t, ""), 3)
	for _, name := range []string{"a", "b", "c"} {
		require.NoError(t, os.Remove(env.path(name)))
	}
	assert.Never(t, func() bool { return env.store.Calls("Delete") > 0 }, 200*time.Millisecond, 10*time.Millisecond,
		"the deletes wait for the window")
	clock.Advance(time.Second)
	require.Eventually(t, func() bool { return len(env.held(t, "")) == 0 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, 1, env.store.Calls("Delete"), "one call for the three files")
}
