package fs

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReadAheadGrowsWithSequentialReads(t *testing.T) {
	var r readAhead
	const size = 1 << 30
	const chunk = 128 << 10
	_, n := r.advise(0, chunk, size)
	assert.Zero(t, n, "the first read fetches nothing ahead")
	_, n = r.advise(chunk, chunk, size)
	assert.Zero(t, n, "nor does a short run of reads")
	var windows []int64
	for off := int64(chunk); off < 64<<20; off += chunk {
		if s, n := r.advise(off, chunk, size); n > 0 {
			assert.GreaterOrEqual(t, s, off+chunk, "read-ahead starts past the read")
			windows = append(windows, n)
		}
	}
	assert.Equal(t, int64(raMin), windows[0])
	assert.Equal(t, int64(raMax), windows[len(windows)-1], "the window grows to its bound")
	for i := 1; i < len(windows); i++ {
		assert.GreaterOrEqual(t, windows[i], windows[i-1], "the window never shrinks while reads follow each other")
	}
}

func TestReadAheadStaysSmallForScatteredReads(t *testing.T) {
	var r readAhead
	const size = 1 << 30
	for _, off := range []int64{0, 50 << 20, 3 << 20, 700 << 20, 12345} {
		_, n := r.advise(off, 64<<10, size)
		assert.Zero(t, n, "scattered read at %d", off)
	}
	var n int64
	for off := int64(12345 + 64<<10); n == 0; off += 64 << 10 {
		_, n = r.advise(off, 64<<10, size)
		assert.LessOrEqual(t, off+64<<10-12345, int64(raAfter), "the window opens after raAfter bytes in a row")
	}
	assert.Equal(t, int64(raMin), n, "a run of sequential reads after scattered ones opens the smallest window")
}

func TestReadAheadStopsAtTheEnd(t *testing.T) {
	var r readAhead
	const size = 1200 << 10
	var s, n int64
	for off := int64(0); n == 0; off += 128 << 10 {
		s, n = r.advise(off, 128<<10, size)
	}
	assert.Equal(t, int64(size), s+n, "never past the end of the file")
	_, n = r.advise(s, size-s, size)
	assert.Zero(t, n)
}
