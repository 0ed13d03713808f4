package spool

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// watchWriteback records the ranges whose writeback is started, for the
// duration of the test.
func watchWriteback(t *testing.T) func() [][2]int64 {
	var mu sync.Mutex
	var got [][2]int64
	old := writeback
	writeback = func(fd int, off, n int64) {
		mu.Lock()
		got = append(got, [2]int64{off, n})
		mu.Unlock()
		old(fd, off, n)
	}
	t.Cleanup(func() { writeback = old })
	return func() [][2]int64 {
		mu.Lock()
		defer mu.Unlock()
		return append([][2]int64(nil), got...)
	}
}

// writeMiB writes n MiB sequentially and waits for a started writeback to
// be over, so that the next chunk may start one.
func writeMiB(t *testing.T, f *File, n int) {
	buf := make([]byte, 1<<20)
	for range n {
		_, err := f.WriteAt(buf, f.Size())
		require.NoError(t, err)
		require.Eventually(t, func() bool { return !f.flush.running.Load() }, 5*time.Second, time.Millisecond)
	}
}

// newSpoolFile makes a file in a spool of its own, with flush-behind or not.
func newSpoolFile(t *testing.T, flushBehind bool) *File {
	s, err := Open(t.TempDir(), 0, 0)
	require.NoError(t, err)
	if flushBehind {
		s.EnableFlushBehind()
	}
	f, err := s.Create()
	require.NoError(t, err)
	t.Cleanup(func() { f.Remove() })
	return f
}

func TestFlushBehindCoversLargeFilesInChunks(t *testing.T) {
	ranges := watchWriteback(t)
	f := newSpoolFile(t, true)
	writeMiB(t, f, 3*flushChunk>>20+3)

	got := ranges()
	require.Len(t, got, 3)
	var next int64
	for _, r := range got {
		assert.Equal(t, next, r[0], "ranges follow each other")
		assert.GreaterOrEqual(t, r[1], int64(flushChunk))
		next = r[0] + r[1]
	}
	assert.Equal(t, int64(3*flushChunk), next, "the tail short of a chunk waits")
}

func TestFlushBehindOffOrSmall(t *testing.T) {
	ranges := watchWriteback(t)
	writeMiB(t, newSpoolFile(t, false), 2*flushChunk>>20)
	assert.Empty(t, ranges(), "not enabled")
	writeMiB(t, newSpoolFile(t, true), flushChunk>>20-1)
	assert.Empty(t, ranges(), "a file below one chunk")
}

// A truncated file is flushed again from where the truncation left it, so
// that rewriting a large file (open with O_TRUNC) starts its writeback at once.
func TestFlushBehindAfterTruncate(t *testing.T) {
	ranges := watchWriteback(t)
	f := newSpoolFile(t, true)
	writeMiB(t, f, 2*flushChunk>>20)
	require.Len(t, ranges(), 2)
	require.NoError(t, f.Truncate(0))
	writeMiB(t, f, flushChunk>>20)
	got := ranges()
	require.Len(t, got, 3)
	assert.Equal(t, [2]int64{0, flushChunk}, got[2])
}
