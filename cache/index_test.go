package cache

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func closeCache(t *testing.T, c *BlockCache) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestCloseAndReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	r := newRemote(t, 4*bs)
	c := newCache(t, Options{Dir: dir, MaxBytes: 1000, BlockSize: bs})
	read(t, c, r, 0, 3*bs) // stored 0, 1, 2
	read(t, c, r, 0, 1)    // LRU: 1, 2, 0
	closeCache(t, c)
	if _, err := os.Stat(filepath.Join(dir, indexName)); err != nil {
		t.Fatalf("index after Close: %v", err)
	}
	tmp, stray := filepath.Join(dir, indexTmpName), filepath.Join(dir, "notes.txt")
	for _, p := range []string{tmp, stray} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	c = newCache(t, Options{Dir: dir, MaxBytes: 2 * bs, BlockSize: bs})
	if st := c.Stats(); st.Blocks != 2 || st.Bytes != 2*bs || st.Evictions != 1 {
		t.Errorf("reopened Stats = %+v, want 2 blocks within MaxBytes, 1 eviction", st)
	}
	if got := blockFiles(t, c); !slices.Equal(got, []string{"0", "2"}) {
		t.Errorf("blocks on disk = %v, want [0 2] (1, the oldest, evicted)", got)
	}
	if got := cacheFiles(t, dir); !slices.Equal(got, []string{c.fileOf(key), "notes.txt"}) {
		t.Errorf("files after reopening = %v, want the key file and the unknown file (index deleted)", got)
	}
	read(t, c, r, 0, 1)
	read(t, c, r, 2*bs, bs)
	if got := r.numCalls(); got != 1 {
		t.Errorf("blocks kept across Close fetched again: %s", r.callList())
	}
	if st := c.Stats(); st.Hits != 2 {
		t.Errorf("Stats = %+v, want 2 hits", st)
	}

	// Blocks cut to another size are not misread.
	closeCache(t, c)
	c = newCache(t, Options{Dir: dir, MaxBytes: 1000, BlockSize: 2 * bs})
	if got := cacheFiles(t, dir); !slices.Equal(got, []string{"notes.txt"}) {
		t.Errorf("files after reopening with another block size = %v, want only the unknown file", got)
	}
	read(t, c, r, 0, 4*bs)
	if got := r.numCalls(); got != 2 {
		t.Errorf("fetches with another block size = %s, want a new fetch", r.callList())
	}
}

func TestRestartWithoutClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	r := newRemote(t, 4*bs)
	c := newCache(t, Options{Dir: dir, MaxBytes: 1000, BlockSize: bs})
	read(t, c, r, 0, 4*bs)
	// The process dies: no Close, no index.
	c = newCache(t, Options{Dir: dir, MaxBytes: 1000, BlockSize: bs})
	if st := c.Stats(); st.Blocks != 0 || st.Bytes != 0 {
		t.Errorf("Stats after a crash = %+v, want an empty cache", st)
	}
	if got := cacheFiles(t, dir); len(got) != 0 {
		t.Errorf("files after a crash = %v, want none", got)
	}
	read(t, c, r, 0, 4*bs)
	if got := r.callList(); got != "[[0 64] [0 64]]" {
		t.Errorf("fetches = %s, want the file fetched again", got)
	}

	// An index that survived a crash after the start that read it is
	// gone; a damaged one is not trusted.
	closeCache(t, c)
	index := filepath.Join(dir, indexName)
	b, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-5] ^= 1
	if err := os.WriteFile(index, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c = newCache(t, Options{Dir: dir, MaxBytes: 1000, BlockSize: bs})
	if st := c.Stats(); st.Blocks != 0 {
		t.Errorf("Stats with a damaged index = %+v, want an empty cache", st)
	}
	if got := cacheFiles(t, dir); len(got) != 0 {
		t.Errorf("files with a damaged index = %v, want none", got)
	}
}

func TestReopenIgnoresMissingAndShortFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	r := newRemote(t, 4*bs)
	other := Key{FileID: "1002", Etag: key.Etag}
	otherData := keyData(2, 2*bs)
	c := newCache(t, Options{Dir: dir, MaxBytes: 1000, BlockSize: bs})
	read(t, c, r, 0, 4*bs)
	readKey(t, c, other, otherData, memFetch(otherData), 0, 2*bs)
	closeCache(t, c)
	if err := os.Truncate(filepath.Join(dir, c.fileOf(key)), 2*bs+3); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, c.fileOf(other))); err != nil {
		t.Fatal(err)
	}
	c = newCache(t, Options{Dir: dir, MaxBytes: 1000, BlockSize: bs})
	if st := c.Stats(); st.Blocks != 2 || st.Bytes != 2*bs {
		t.Errorf("Stats = %+v, want the 2 whole blocks left", st)
	}
	read(t, c, r, 0, 4*bs)
	if got := r.callList(); got != "[[0 64] [32 32]]" {
		t.Errorf("fetches = %s, want blocks 2-3 fetched again", got)
	}
	readKey(t, c, other, otherData, memFetch(otherData), 0, 2*bs)
}

func TestOldLayoutRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	old := filepath.Join(dir, "0123456789abcdef0123456789abcdef")
	if err := os.MkdirAll(old, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"0", "1", "tmp-123"} {
		if err := os.WriteFile(filepath.Join(old, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCache(t, Options{Dir: dir, MaxBytes: 1000, BlockSize: bs})
	if got := cacheFiles(t, dir); !slices.Equal(got, []string{"notes.txt"}) {
		t.Errorf("files = %v, want the old layout gone and the unknown file kept", got)
	}
	r := newRemote(t, 2*bs)
	read(t, c, r, 0, 2*bs)
}

func TestForgetAndKeys(t *testing.T) {
	r := newRemote(t, 2*bs)
	c := newCache(t, Options{MaxBytes: 1000, BlockSize: bs})
	read(t, c, r, 0, 2*bs)
	other := Key{FileID: "1002", Etag: key.Etag}
	otherData := []byte(fmt.Sprintf("%032d", 7))
	fetchOther := func(ctx context.Context, off, length int64) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(otherData[off : off+length])), nil
	}
	p := make([]byte, 2*bs)
	if n, err := c.ReadAt(context.Background(), other, 2*bs, fetchOther, p, 0); n != 2*bs || err != nil || string(p) != string(otherData) {
		t.Errorf("ReadAt of a second key = %d, %v, %q", n, err, p)
	}
	c.Forget(key)
	if st := c.Stats(); st.Blocks != 2 || st.Evictions != 0 {
		t.Errorf("Stats after Forget = %+v, want the other key's 2 blocks, no evictions", st)
	}
	if _, err := os.Stat(filepath.Join(c.dir, c.fileOf(key))); !os.IsNotExist(err) {
		t.Errorf("key file after Forget: %v, want gone", err)
	}
	if _, err := os.Stat(filepath.Join(c.dir, c.fileOf(other))); err != nil {
		t.Errorf("other key's file after Forget: %v", err)
	}
	read(t, c, r, 0, 2*bs)
	if got := r.numCalls(); got != 2 {
		t.Errorf("fetches after Forget = %s, want the file fetched again", r.callList())
	}
}

func TestReadAfterClose(t *testing.T) {
	r := newRemote(t, 2*bs)
	c := newCache(t, Options{MaxBytes: 1000, BlockSize: bs})
	read(t, c, r, 0, 2*bs)
	closeCache(t, c)
	closeCache(t, c) // again: nothing
	if n, err := c.ReadAt(context.Background(), key, 2*bs, r.fetch, make([]byte, 4), 0); n != 0 || err != ErrClosed {
		t.Errorf("ReadAt after Close = %d, %v; want 0, ErrClosed", n, err)
	}
	c.Prefetch(context.Background(), key, 2*bs, r.fetch, 0, 2*bs)
	if got := r.numCalls(); got != 1 {
		t.Errorf("fetches after Close = %s", r.callList())
	}
	if got := c.openFiles.Load(); got != 0 {
		t.Errorf("%d descriptors open after Close, want 0", got)
	}
}
