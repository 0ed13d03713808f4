package fs

import (
	"errors"
	"os"
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

	clock.Advance(59 * time.Second)
	assert.Never(t, func() bool { return env.store.Calls("Put") > 1 }, 200*time.Millisecond, 10*time.Millisecond,
		"no new attempt before the pause is over")
	clock.Advance(2 * time.Second)
	require.Eventually(t, func() bool { return env.store.Calls("Put") == 2 }, 5*time.Second, time.Millisecond,
		"the second attempt once a minute has passed")
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
