package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

const bs = 16

func TestReadAtRanges(t *testing.T) {
	tests := []struct {
		name string
		off  int64
		n    int
	}{
		{"inside one block", 3, 5},
		{"one whole block", 16, 16},
		{"across a boundary", 10, 12},
		{"across three blocks", 5, 40},
		{"last short block", 96, 4},
		{"into the last block", 90, 10},
		{"past the end", 95, 20},
		{"whole file", 0, 100},
		{"at the end", 100, 5},
		{"beyond the end", 150, 5},
		{"empty", 50, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRemote(t, 100) // blocks 0..5, block 6 has 4 bytes
			c := newCache(t, Options{MaxBytes: 1000, BlockSize: bs})
			read(t, c, r, tt.off, tt.n)
			calls := r.numCalls()
			if calls > 1 {
				t.Errorf("first read made %d fetches %s, want at most 1", calls, r.callList())
			}
			read(t, c, r, tt.off, tt.n)
			if got := r.numCalls(); got != calls {
				t.Errorf("second read fetched again: %s", r.callList())
			}
		})
	}
}

func TestHitsDoNotFetch(t *testing.T) {
	r := newRemote(t, 10*bs)
	c := newCache(t, Options{MaxBytes: 1000, BlockSize: bs})
	read(t, c, r, 0, 10*bs)
	if got := r.callList(); got != "[[0 160]]" {
		t.Fatalf("fetches = %s, want one of the whole file", got)
	}
	for off := int64(0); off < 10*bs; off += 7 {
		read(t, c, r, off, 9)
	}
	if got := r.numCalls(); got != 1 {
		t.Errorf("fetches after hits = %d, want 1", got)
	}
	st := c.Stats()
	if st.Hits == 0 || st.Misses != 10 || st.Fetches != 1 || st.BytesFetched != 160 || st.BytesStored != 160 {
		t.Errorf("Stats = %+v, want hits, 10 misses, 1 fetch, 160 bytes fetched and stored", st)
	}
}

func TestRunsOfMissingBlocks(t *testing.T) {
	r := newRemote(t, 8*bs)
	c := newCache(t, Options{MaxBytes: 1000, BlockSize: bs})
	read(t, c, r, 2*bs, 1)   // caches block 2
	read(t, c, r, 5*bs+3, 1) // caches block 5
	read(t, c, r, 1, 7*bs-2) // [1, 111): blocks 0-1, 3-4 and 6 are missing
	want := "[[32 16] [80 16] [0 32] [48 32] [96 16]]"
	if got := r.callList(); got != want {
		t.Errorf("fetches = %s, want %s", got, want)
	}
}

func TestEvictionOrderAndBound(t *testing.T) {
	r := newRemote(t, 8*bs)
	c := newCache(t, Options{MaxBytes: 3 * bs, BlockSize: bs})
	for _, b := range []int64{0, 1, 2, 0, 3} { // LRU after: 2, 0, 3
		read(t, c, r, b*bs, 1)
	}
	if got := blockFiles(t, c); !slices.Equal(got, []string{"0", "2", "3"}) {
		t.Errorf("block files = %v, want [0 2 3] (1 evicted)", got)
	}
	st := c.Stats()
	if st.Bytes != 3*bs || st.Blocks != 3 || st.Evictions != 1 {
		t.Errorf("Stats = %+v, want 48 bytes in 3 blocks, 1 eviction", st)
	}
	calls := r.numCalls()
	read(t, c, r, 0, 1) // a hit, which makes 2 the oldest
	if got := r.numCalls(); got != calls {
		t.Errorf("read of block 0 fetched: %s", r.callList())
	}
	read(t, c, r, 1*bs, 1) // evicts 2
	if got := blockFiles(t, c); !slices.Equal(got, []string{"0", "1", "3"}) {
		t.Errorf("block files = %v, want [0 1 3] (2 evicted)", got)
	}
	if st := c.Stats(); st.Bytes > 3*bs {
		t.Errorf("cached %d bytes, bound is %d", st.Bytes, 3*bs)
	}
}

func TestLastShortBlock(t *testing.T) {
	r := newRemote(t, 2*bs+5)
	c := newCache(t, Options{MaxBytes: 1000, BlockSize: bs})
	read(t, c, r, 2*bs+1, 10) // 4 bytes and EOF
	if got := r.callList(); got != "[[32 5]]" {
		t.Errorf("fetches = %s, want [[32 5]]", got)
	}
	st, err := os.Stat(filepath.Join(c.dir, c.fileOf(key)))
	if err != nil || st.Size() != 2*bs+5 {
		t.Fatalf("key file: %v, %v; want %d bytes", st, err, 2*bs+5)
	}
	if got := blockFiles(t, c); !slices.Equal(got, []string{"2"}) {
		t.Errorf("blocks on disk = %v, want [2]", got)
	}
	read(t, c, r, 2*bs, 5)
	if got := r.numCalls(); got != 1 {
		t.Errorf("the short block was fetched again: %s", r.callList())
	}
}

func TestConcurrentReadersFetchOnce(t *testing.T) {
	r := newRemote(t, 4*bs)
	c := newCache(t, Options{MaxBytes: 1000, BlockSize: bs})
	gate := make(chan struct{})
	r.set(func(r *remote) { r.gate = gate })
	const readers = 16
	var started, wg sync.WaitGroup
	started.Add(readers)
	for i := range readers {
		wg.Go(func() {
			started.Done()
			p := make([]byte, 4)
			n, err := c.ReadAt(context.Background(), key, int64(len(r.data)), r.fetch, p, int64(bs+i%8))
			if n != 4 || err != nil || string(p) != string(r.data[bs+i%8:bs+i%8+4]) {
				t.Errorf("reader %d: ReadAt = %d, %v or wrong bytes", i, n, err)
			}
		})
	}
	started.Wait()
	time.Sleep(20 * time.Millisecond) // let the readers reach the flight
	close(gate)
	wg.Wait()
	if got := r.callList(); got != "[[16 16]]" {
		t.Errorf("fetches = %s, want one of block 1", got)
	}
	if st := c.Stats(); st.Hits+st.Shared != readers-1 {
		t.Errorf("Stats = %+v, want %d reads served by the one fetch", st, readers-1)
	}
}

func TestCanceledOwnerDoesNotFailWaiters(t *testing.T) {
	r := newRemote(t, 2*bs)
	c := newCache(t, Options{MaxBytes: 1000, BlockSize: bs})
	r.set(func(r *remote) { r.gate = make(chan struct{}) }) // never opens
	ctx, cancel := context.WithCancel(context.Background())
	ownerDone := make(chan error)
	go func() {
		_, err := c.ReadAt(ctx, key, int64(len(r.data)), r.fetch, make([]byte, 4), 0)
		ownerDone <- err
	}()
	for r.numCalls() == 0 {
		time.Sleep(time.Millisecond)
	}
	waiterDone := make(chan error)
	go func() {
		p := make([]byte, 4)
		_, err := c.ReadAt(context.Background(), key, int64(len(r.data)), r.fetch, p, 0)
		if err == nil && string(p) != string(r.data[:4]) {
			err = errors.New("wrong bytes")
		}
		waiterDone <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the waiter reach the flight
	cancel()
	if err := <-ownerDone; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled reader: err = %v, want context.Canceled", err)
	}
	if err := <-waiterDone; err != nil {
		t.Errorf("waiting reader: err = %v, want it to fetch for itself", err)
	}
}

func TestFetchErrorsAreNotCached(t *testing.T) {
	r := newRemote(t, 4*bs)
	c := newCache(t, Options{MaxBytes: 1000, BlockSize: bs})
	boom := errors.New("boom")
	r.set(func(r *remote) { r.err = boom })
	p := make([]byte, 4*bs)
	if n, err := c.ReadAt(context.Background(), key, int64(len(r.data)), r.fetch, p, 0); n != 0 || !errors.Is(err, boom) {
		t.Errorf("ReadAt with failing fetch = %d, %v; want 0, boom", n, err)
	}
	// A body that ends inside block 1: block 0 is served and cached, the rest not.
	r.set(func(r *remote) { r.err, r.short = nil, 2*bs+5 })
	n, err := c.ReadAt(context.Background(), key, int64(len(r.data)), r.fetch, p, 0)
	if n != bs || !errors.Is(err, ErrShortFetch) {
		t.Errorf("ReadAt with short body = %d, %v; want %d, ErrShortFetch", n, err, bs)
	}
	if got := blockFiles(t, c); !slices.Equal(got, []string{"0"}) {
		t.Errorf("block files = %v, want [0]", got)
	}
	r.set(func(r *remote) { r.short = 0 })
	read(t, c, r, 0, 4*bs)
	if got := r.callList(); got != "[[0 64] [0 64] [16 48]]" {
		t.Errorf("fetches = %s, want the failed blocks fetched again", got)
	}
}

func TestMaxBytesBelowBlockSizeReadsThrough(t *testing.T) {
	r := newRemote(t, 4*bs)
	c := newCache(t, Options{MaxBytes: bs - 1, BlockSize: bs})
	read(t, c, r, 5, 20)
	read(t, c, r, 5, 20)
	read(t, c, r, 60, 10)
	c.Prefetch(context.Background(), key, int64(len(r.data)), r.fetch, 0, 4*bs)
	if got := r.callList(); got != "[[5 20] [5 20] [60 4]]" {
		t.Errorf("fetches = %s, want exactly the bytes read, every time", got)
	}
	if got := blockFiles(t, c); len(got) != 0 {
		t.Errorf("block files = %v, want none", got)
	}
}

func TestPrefetch(t *testing.T) {
	r := newRemote(t, 6*bs)
	c := newCache(t, Options{MaxBytes: 1000, BlockSize: bs})
	read(t, c, r, 2*bs, 1)
	c.Prefetch(context.Background(), key, int64(len(r.data)), r.fetch, bs+3, 4*bs-4) // [19, 79): blocks 1-4
	if got := r.callList(); got != "[[32 16] [16 16] [48 32]]" {
		t.Errorf("fetches = %s, want blocks 1 and 3-4 prefetched", got)
	}
	read(t, c, r, bs, 4*bs)
	if got := r.numCalls(); got != 3 {
		t.Errorf("read after prefetch fetched: %s", r.callList())
	}
}

func TestMinFree(t *testing.T) {
	r := newRemote(t, 4*bs)
	c := newCache(t, Options{MaxBytes: 1000, BlockSize: bs, MinFree: 1000})
	// The disk has room for 2.5 blocks above MinFree.
	c.disk.Statfs = func(string) (int64, error) {
		if !c.mu.TryLock() {
			t.Error("statfs with the cache's lock held: every reader waits for it")
			return 0, nil
		}
		c.mu.Unlock()
		return 1000 + 40 - c.Stats().Bytes, nil
	}
	for b := range int64(4) {
		read(t, c, r, b*bs, 1)
	}
	if got := blockFiles(t, c); !slices.Equal(got, []string{"2", "3"}) {
		t.Errorf("block files = %v, want [2 3]", got)
	}
	c.disk.Statfs = func(string) (int64, error) { return 0, nil }
	read(t, c, r, 0, 1)
	if got := blockFiles(t, c); len(got) != 0 {
		t.Errorf("block files with a full disk = %v, want none", got)
	}
}

// A cache file's name is the key's hash: it must not change between
// versions, or a restart would lose the cache its index describes.
func TestCacheFileNamesAreStable(t *testing.T) {
	c := &BlockCache{blockSize: 65536}
	k := Key{FileID: "123twqysi86s1akbatpbclxrrc6tjpnkm4n3lf881p64", Etag: "d41d8cd98f00b204e9800998ecf8427e"}
	if got := c.fileOf(k); got != "5c2d1665f9b268b6876e05e31b730b3d" {
		t.Errorf("cache file of %v = %s, want the name earlier versions gave it", k, got)
	}
}
