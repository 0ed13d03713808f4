package cache

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestReindex(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	r := newRemote(t, 4*bs)
	c := newCache(t, Options{Dir: dir, MaxBytes: 1000, BlockSize: bs})
	read(t, c, r, 0, 3*bs)
	kd := filepath.Join(dir, c.keyDir(key))
	tmp, stray := filepath.Join(kd, tmpPrefix+"123"), filepath.Join(dir, "notes.txt")
	for _, p := range []string{tmp, stray} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	c = newCache(t, Options{Dir: dir, MaxBytes: 2 * bs, BlockSize: bs})
	if st := c.Stats(); st.Blocks != 2 || st.Bytes != 2*bs {
		t.Errorf("re-indexed Stats = %+v, want 2 blocks within MaxBytes", st)
	}
	read(t, c, r, bs, 2*bs)
	if got := r.numCalls(); got != 1 {
		t.Errorf("re-indexed blocks fetched again: %s", r.callList())
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary file survived re-indexing: %v", err)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("unknown file was touched: %v", err)
	}

	// Blocks cut to another size are not misread.
	c = newCache(t, Options{Dir: dir, MaxBytes: 1000, BlockSize: 2 * bs})
	read(t, c, r, 0, 4*bs)
	if got := r.numCalls(); got != 2 {
		t.Errorf("fetches with another block size = %s, want a new fetch", r.callList())
	}
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
	if _, err := os.Stat(filepath.Join(c.dir, c.keyDir(key))); !os.IsNotExist(err) {
		t.Errorf("key directory after Forget: %v, want gone", err)
	}
	read(t, c, r, 0, 2*bs)
	if got := r.numCalls(); got != 2 {
		t.Errorf("fetches after Forget = %s, want the file fetched again", r.callList())
	}
}
