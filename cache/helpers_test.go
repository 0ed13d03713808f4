package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// remote is a fake remote file that records the ranges it is asked for.
type remote struct {
	t    *testing.T
	data []byte

	mu    sync.Mutex
	calls [][2]int64    // GUARDED_BY(mu): off, length of each fetch
	err   error         // GUARDED_BY(mu): if set, fetch fails with it
	short int64         // GUARDED_BY(mu): bodies end this many bytes early
	gate  chan struct{} // GUARDED_BY(mu): if set, the next fetch waits for it to close
}

func newRemote(t *testing.T, size int) *remote {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*31 + i/256)
	}
	return &remote{t: t, data: data}
}

func (r *remote) fetch(ctx context.Context, off, length int64) (io.ReadCloser, error) {
	r.mu.Lock()
	r.calls = append(r.calls, [2]int64{off, length})
	err, short, gate := r.err, r.short, r.gate
	r.gate = nil
	r.mu.Unlock()
	if off < 0 || length <= 0 || off+length > int64(len(r.data)) {
		r.t.Errorf("fetch(%d, %d) outside a file of %d bytes", off, length, len(r.data))
		return nil, errors.New("bad range")
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(r.data[off : off+length-min(short, length)])), nil
}

func (r *remote) numCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func (r *remote) callList() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprint(r.calls)
}

func (r *remote) set(f func(r *remote)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

func newCache(t *testing.T, o Options) *BlockCache {
	t.Helper()
	if o.Dir == "" {
		o.Dir = filepath.Join(t.TempDir(), "cache")
	}
	c, err := NewBlockCache(o)
	if err != nil {
		t.Fatalf("NewBlockCache(%+v): %v", o, err)
	}
	return c
}

var key = Key{FileID: "1001", Etag: "d41d8cd98f00b204e9800998ecf8427e"}

// read reads [off, off+n) through c and checks it against r with
// io.ReaderAt semantics.
func read(t *testing.T, c *BlockCache, r *remote, off int64, n int) {
	t.Helper()
	p := make([]byte, n)
	got, err := c.ReadAt(context.Background(), key, int64(len(r.data)), r.fetch, p, off)
	want, wantErr := bytes.NewReader(r.data).ReadAt(make([]byte, n), off)
	if got != want || err != wantErr {
		t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d, %v", n, off, got, err, want, wantErr)
	}
	if got > 0 && !bytes.Equal(p[:got], r.data[off:off+int64(got)]) {
		t.Fatalf("ReadAt(%d bytes at %d) returned wrong bytes", n, off)
	}
}

// blockFiles lists the block files on disk, as "<block number>" per key
// directory, sorted.
func blockFiles(t *testing.T, c *BlockCache) []string {
	t.Helper()
	var names []string
	dirs, _ := os.ReadDir(c.dir)
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(c.dir, d.Name()))
		for _, f := range files {
			if !strings.HasPrefix(f.Name(), tmpPrefix) {
				names = append(names, f.Name())
			}
		}
	}
	return names
}
