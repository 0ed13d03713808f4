package cache

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// The benchmarks read a file the way the mount does: 128 KiB reads in
// order, 64 KiB blocks, and a read-ahead window of 16 MiB asked for with
// Prefetch in its own goroutine whenever less than half of it is left.
const (
	benchFileSize  = 256 << 20
	benchReadSize  = 128 << 10
	benchBlockSize = 64 << 10
	benchWindow    = 16 << 20
)

var benchData = sync.OnceValue(func() []byte {
	data := make([]byte, benchFileSize)
	for i := range data {
		data[i] = byte(i*31 + i/4096)
	}
	return data
})

// benchFetch serves the benchmark file from memory.
func benchFetch(ctx context.Context, off, length int64) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(benchData()[off : off+length])), nil
}

func newBenchCache(b *testing.B, dir string, maxBytes int64) *BlockCache {
	b.Helper()
	c, err := NewBlockCache(Options{Dir: dir, MaxBytes: maxBytes, MinFree: 256 << 20, BlockSize: benchBlockSize})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// readSequential reads the whole file through c and waits for its
// read-ahead.
func readSequential(b *testing.B, c *BlockCache, k Key) {
	ctx := context.Background()
	p := make([]byte, benchReadSize)
	var wg sync.WaitGroup
	ahead := int64(0)
	for off := int64(0); off < benchFileSize; off += benchReadSize {
		end := off + benchReadSize
		if ahead < benchFileSize && ahead-end < benchWindow/2 {
			start := max(ahead, end)
			length := min(int64(benchWindow), benchFileSize-start)
			if length > 0 {
				wg.Go(func() { c.Prefetch(ctx, k, benchFileSize, benchFetch, start, length) })
			}
			ahead = start + length
		}
		n, err := c.ReadAt(ctx, k, benchFileSize, benchFetch, p, off)
		if n != benchReadSize || (err != nil && err != io.EOF) {
			b.Fatalf("ReadAt at %d = %d, %v", off, n, err)
		}
	}
	wg.Wait()
}

func BenchmarkColdSequential(b *testing.B) { benchCold(b, 2*benchFileSize) }

// BenchmarkColdSequentialEvicting reads through a cache of a quarter of
// the file: once it is full, every block stored evicts one.
func BenchmarkColdSequentialEvicting(b *testing.B) { benchCold(b, benchFileSize/4) }

func benchCold(b *testing.B, maxBytes int64) {
	benchData()
	root := b.TempDir()
	k := Key{FileID: "1", Etag: "e"}
	b.SetBytes(benchFileSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := filepath.Join(root, strconv.Itoa(i))
		c := newBenchCache(b, dir, maxBytes)
		b.StartTimer()
		readSequential(b, c, k)
		b.StopTimer()
		closeBenchCache(b, c)
		os.RemoveAll(dir)
		b.StartTimer()
	}
}

func BenchmarkHitSequential(b *testing.B) {
	benchData()
	k := Key{FileID: "1", Etag: "e"}
	c := newBenchCache(b, b.TempDir(), 2*benchFileSize)
	readSequential(b, c, k)
	if st := c.Stats(); st.Blocks != benchFileSize/benchBlockSize {
		b.Fatalf("cached %d blocks after a first read, want all %d", st.Blocks, benchFileSize/benchBlockSize)
	}
	fetches := c.Stats().Fetches
	b.SetBytes(benchFileSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		readSequential(b, c, k)
	}
	b.StopTimer()
	if got := c.Stats().Fetches; got != fetches {
		b.Fatalf("reads of a cached file fetched %d times", got-fetches)
	}
	closeBenchCache(b, c)
}

func closeBenchCache(b *testing.B, c *BlockCache) {
	b.Helper()
	if err := c.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkForget forgets a small cached file while the cache holds a
// 256 MiB one besides (4,096 blocks), as after `rm` of an image.
func BenchmarkForget(b *testing.B) {
	c := newBenchCache(b, b.TempDir(), 1<<30)
	defer c.Close()
	readSequential(b, c, Key{FileID: "big", Etag: "e"})
	small := benchData()[:2*benchBlockSize]
	p := make([]byte, len(small))
	b.ResetTimer()
	for i := range b.N {
		k := Key{FileID: "small" + strconv.Itoa(i), Etag: "e"}
		if _, err := c.ReadAt(context.Background(), k, int64(len(small)), benchFetch, p, 0); err != nil {
			b.Fatal(err)
		}
		c.Forget(k)
	}
}
