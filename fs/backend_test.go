package fs

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/store"
)

// Tests of how the filesystem treats its backend's answers, over the
// in-memory backend.

func TestTemporaryPutFailureFailsCloseAndIsRetried(t *testing.T) {
	env := newMemEnv(t, Options{UploadRetry: backoff.Policy{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond}})
	env.store.FailNext("Put", errors.New("service unavailable"), store.ErrTemporary)
	err := os.WriteFile(env.path("a.png"), []byte("content"), 0o644)
	require.ErrorIs(t, err, syscall.EIO, "close reports the failed upload")
	require.NoError(t, env.fsys.Sync(t.Context()), "the queue tries again and succeeds")
	assert.Equal(t, map[string]string{"a.png": "content"}, env.held(t, ""))
	assert.Equal(t, 2, env.store.Calls("Put"))
}

func TestPermanentPutFailureKeepsTheDataAndIsNotRetried(t *testing.T) {
	env := newMemEnv(t, Options{UploadRetry: backoff.Policy{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond}})
	env.store.FailNext("Put", errors.New("refused"), store.ErrPermanent)
	err := os.WriteFile(env.path("a.png"), []byte("content"), 0o644)
	require.ErrorIs(t, err, syscall.EIO)
	require.Error(t, env.fsys.Sync(t.Context()), "sync reports the refused file")
	assert.Equal(t, 1, env.store.Calls("Put"), "a permanent refusal is not tried again")
	got, err := os.ReadFile(env.path("a.png"))
	require.NoError(t, err)
	assert.Equal(t, "content", string(got), "the data stays readable in the mount")
	assert.Empty(t, env.held(t, ""))
}

func TestBackendErrorsBecomeErrnos(t *testing.T) {
	cases := []struct {
		kind error
		want syscall.Errno
	}{
		{store.ErrExists, syscall.EEXIST},
		{store.ErrQuota, syscall.EDQUOT},
		{store.ErrAuth, syscall.EACCES},
		{store.ErrInvalidName, syscall.EINVAL},
		{store.ErrNameTooLong, syscall.ENAMETOOLONG},
		{store.ErrTemporary, syscall.EIO},
	}
	env := newMemEnv(t, Options{})
	for _, tc := range cases {
		env.store.FailNext("Mkdir", errors.New("no"), tc.kind)
		err := os.Mkdir(env.path("d"), 0o755)
		assert.ErrorIs(t, err, tc.want, "mkdir failing with %v", tc.kind)
	}
	assert.Empty(t, env.held(t, ""))
}

func TestHangingBackendListingEndsWithEIO(t *testing.T) {
	env := newMemEnv(t, Options{OpTimeout: 300 * time.Millisecond})
	gate := env.store.Block("List")
	defer gate.Release()
	_, err := os.Stat(env.path("a.png"))
	assert.ErrorIs(t, err, syscall.EIO, "a listing that never answers fails the lookup")
}
