package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// blockFiles lists the blocks on disk, as "<block number>" for every
// block-sized part of a key file that is not all zeros (the test data has
// no run of 16 zeros; an evicted block is punched out and reads as zeros),
// key file after key file.
func blockFiles(t *testing.T, c *BlockCache) []string {
	t.Helper()
	var names []string
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !isKeyName(e.Name()) || !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(c.dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for n := int64(0); n*c.blockSize < int64(len(data)); n++ {
			if slices.ContainsFunc(data[n*c.blockSize:min(int64(len(data)), (n+1)*c.blockSize)], func(b byte) bool { return b != 0 }) {
				names = append(names, strconv.FormatInt(n, 10))
			}
		}
	}
	return names
}

// cacheFiles lists the names in c's directory.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// readKey reads [off, off+n) of a key through c and checks it against data.
func readKey(t *testing.T, c *BlockCache, k Key, data []byte, fetch Fetcher, off int64, n int) {
	t.Helper()
	p := make([]byte, n)
	got, err := c.ReadAt(context.Background(), k, int64(len(data)), fetch, p, off)
	want, wantErr := bytes.NewReader(data).ReadAt(make([]byte, n), off)
	if got != want || err != wantErr {
		t.Errorf("ReadAt(%v, %d bytes at %d) = %d, %v; want %d, %v", k, n, off, got, err, want, wantErr)
		return
	}
	if got > 0 && !bytes.Equal(p[:got], data[off:off+int64(got)]) {
		t.Errorf("ReadAt(%v, %d bytes at %d) returned wrong bytes", k, n, off)
	}
}

// keyData makes the content of the i-th of several keys.
func keyData(i, size int) []byte {
	data := make([]byte, size)
	for j := range data {
		data[j] = byte(j*31+j/256) ^ byte(i*7+1)
	}
	return data
}

// memFetch serves data from memory.
func memFetch(data []byte) Fetcher {
	return func(ctx context.Context, off, length int64) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data[off : off+length])), nil
	}
}

// fileOf names the cache file of k's blocks.
func (c *BlockCache) fileOf(k Key) string { return c.keyID(k).name() }
