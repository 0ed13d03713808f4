package fs

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// opRecorder is an OpObserver that keeps the errnos seen per operation.
type opRecorder struct {
	mu  sync.Mutex
	ops map[string][]syscall.Errno // GUARDED_BY(mu)
}

func (r *opRecorder) Op(op string, errno syscall.Errno, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ops == nil {
		r.ops = map[string][]syscall.Errno{}
	}
	r.ops[op] = append(r.ops[op], errno)
}

func (r *opRecorder) seen(op string) []syscall.Errno {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]syscall.Errno(nil), r.ops[op]...)
}

// TestOpsObservedWithTheirErrnos: every request the kernel sends is seen
// by Options.Ops with the errno the caller got.
func TestOpsObservedWithTheirErrnos(t *testing.T) {
	rec := &opRecorder{}
	e := newMemEnv(t, Options{Ops: rec})
	require.NoError(t, os.WriteFile(e.path("a.jpg"), []byte("hello"), 0o644))
	err := os.Mkdir(e.path(".Trash"), 0o755)
	require.True(t, errors.Is(err, syscall.EPERM), "mkdir .Trash: %v, want EPERM", err)

	for _, op := range []string{"create", "write", "flush"} {
		assert.Contains(t, rec.seen(op), syscall.Errno(0), "%s answered with success", op)
	}
	assert.Equal(t, []syscall.Errno{syscall.EPERM}, rec.seen("mkdir"), "mkdir .Trash")
}

// TestStatsCountUploadsAndDeletes: Stats counts what was put and deleted,
// and shows nothing left once synced.
func TestStatsCountUploadsAndDeletes(t *testing.T) {
	e := newMemEnv(t, Options{})
	require.NoError(t, os.WriteFile(e.path("a.jpg"), []byte("hello"), 0o644))
	require.NoError(t, os.WriteFile(e.path("b.jpg"), []byte("world!"), 0o644))
	require.NoError(t, os.Remove(e.path("a.jpg")))
	require.NoError(t, e.fsys.Sync(t.Context()))

	st := e.fsys.Stats()
	assert.Equal(t, int64(2), st.Uploads)
	assert.Equal(t, int64(11), st.UploadBytes, "bytes of a.jpg and b.jpg")
	assert.Equal(t, int64(1), st.DeleteCalls)
	assert.Zero(t, st.DeleteFailures)
	assert.Zero(t, st.Writing+st.Pending+st.Uploading+st.Failed, "files left after sync")
	assert.Zero(t, st.DeletesQueued)
	assert.Equal(t, map[string]string{"b.jpg": "world!"}, e.held(t, ""))
}
