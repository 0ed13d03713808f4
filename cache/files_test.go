package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// failFetch fails every fetch.
func failFetch(ctx context.Context, off, length int64) (io.ReadCloser, error) {
	return nil, fmt.Errorf("unexpected fetch [%d, %d)", off, off+length)
}

// keyBlocks lists the blocks of k on disk, like blockFiles.
func keyBlocks(t *testing.T, c *BlockCache, k Key) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(c.dir, c.fileOf(k)))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := int64(0); n*c.blockSize < int64(len(data)); n++ {
		if slices.ContainsFunc(data[n*c.blockSize:min(int64(len(data)), (n+1)*c.blockSize)], func(b byte) bool { return b != 0 }) {
			names = append(names, strconv.FormatInt(n, 10))
		}
	}
	return names
}

// checkInvariants checks the books of an idle cache.
func checkInvariants(t *testing.T, c *BlockCache) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.inflight) != 0 || len(c.pins) != 0 || c.ops != 0 {
		t.Errorf("idle cache: %d in flight, %d pinned, %d ops", len(c.inflight), len(c.pins), c.ops)
	}
	blocks := make(map[keyID]int)
	var bytes int64
	for _, id := range c.lru.Keys() {
		l, _ := c.lru.Peek(id)
		bytes += l
		blocks[id.k]++
	}
	if bytes != c.bytes {
		t.Errorf("bytes = %d, the LRU holds %d", c.bytes, bytes)
	}
	for k, kf := range c.keys {
		if kf.gone || kf.id != k || kf.stores != 0 || kf.blocks != blocks[k] || kf.blocks == 0 {
			t.Errorf("key file %s: %+v, %d blocks in the LRU", k.name(), *kf, blocks[k])
		}
		if _, err := os.Stat(c.path(k)); err != nil {
			t.Errorf("key file %s: %v", k.name(), err)
		}
	}
	if len(c.keys) != len(blocks) {
		t.Errorf("%d key files, %d keys in the LRU", len(c.keys), len(blocks))
	}
	if got := int64(c.files.Len()); got > c.openFiles.Load() {
		t.Errorf("%d descriptors in the LRU, %d open", got, c.openFiles.Load())
	}
}

// skipWithoutPunch skips the test if dir's filesystem cannot punch holes.
func skipWithoutPunch(t *testing.T, dir string) {
	t.Helper()
	f, err := os.CreateTemp(dir, "punch")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(make([]byte, 1<<16)); err != nil {
		t.Fatal(err)
	}
	var errno syscall.Errno
	if err := punchHole(f, 0, 1<<16); errors.As(err, &errno) {
		t.Skipf("the filesystem of %s cannot punch holes: %v (errno %d)", dir, err, int(errno))
	} else if err != nil {
		t.Skipf("cannot punch holes: %v", err)
	}
}

func allocated(t *testing.T, path string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

func TestEvictionFreesDiskSpace(t *testing.T) {
	const bs = 64 << 10
	dir := filepath.Join(t.TempDir(), "cache")
	c := newCache(t, Options{Dir: dir, MaxBytes: 4 * bs, BlockSize: bs})
	skipWithoutPunch(t, dir)
	data := keyData(1, 8*bs)
	readKey(t, c, key, data, memFetch(data), 0, 4*bs)
	path := filepath.Join(dir, c.fileOf(key))
	before := allocated(t, path)
	if before < 4*bs {
		t.Fatalf("key file of 4 blocks takes %d bytes", before)
	}
	other := Key{FileID: "1002", Etag: key.Etag}
	otherData := keyData(2, 2*bs)
	readKey(t, c, other, otherData, memFetch(otherData), 0, 2*bs) // evicts key's blocks 0 and 1
	after := allocated(t, path)
	if after > before-2*bs {
		t.Errorf("key file takes %d bytes after 2 of its 4 blocks were evicted, %d before", after, before)
	}
	if got := keyBlocks(t, c, key); !slices.Equal(got, []string{"2", "3"}) {
		t.Errorf("key's blocks on disk = %v, want [2 3]", got)
	}
	if st := c.Stats(); st.Evictions != 2 || st.Blocks != 4 || st.Bytes != 4*bs {
		t.Errorf("Stats = %+v, want 2 evictions, 4 blocks", st)
	}
	readKey(t, c, key, data, memFetch(data), 2*bs, 2*bs) // hits
	readKey(t, c, key, data, memFetch(data), 0, 8*bs)
	checkInvariants(t, c)
}

func TestLastBlockEvictedRemovesFile(t *testing.T) {
	r := newRemote(t, 4*bs)
	c := newCache(t, Options{MaxBytes: 2 * bs, BlockSize: bs})
	read(t, c, r, 0, 1)
	path := filepath.Join(c.dir, c.fileOf(key))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("key file: %v", err)
	}
	other := Key{FileID: "1002", Etag: key.Etag}
	otherData := keyData(2, 2*bs)
	readKey(t, c, other, otherData, memFetch(otherData), 0, 2*bs)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("key file after its only block was evicted: %v, want gone", err)
	}
	if got := cacheFiles(t, c.dir); !slices.Equal(got, []string{c.fileOf(other)}) {
		t.Errorf("files = %v, want the other key's", got)
	}
	checkInvariants(t, c)
	read(t, c, r, 0, 1)
	if got := r.numCalls(); got != 2 {
		t.Errorf("fetches = %s, want the evicted block fetched again", r.callList())
	}
	checkInvariants(t, c)
}

func TestPunchFailureDropsTheKey(t *testing.T) {
	r := newRemote(t, 4*bs)
	c := newCache(t, Options{MaxBytes: 3 * bs, BlockSize: bs})
	c.punchHole = func(*os.File, int64, int64) error { return unix.EOPNOTSUPP }
	read(t, c, r, 0, 3*bs)
	other := Key{FileID: "1002", Etag: key.Etag}
	otherData := keyData(2, 2*bs)
	readKey(t, c, other, otherData, memFetch(otherData), 0, bs) // evicts block 0 of key
	if _, err := os.Stat(filepath.Join(c.dir, c.fileOf(key))); !os.IsNotExist(err) {
		t.Errorf("key file after a failed punch: %v, want gone", err)
	}
	if st := c.Stats(); st.Blocks != 1 || st.Bytes != bs || st.Evictions != 1 {
		t.Errorf("Stats = %+v, want only the other key's block, 1 eviction", st)
	}
	checkInvariants(t, c)
	read(t, c, r, 0, 4*bs)
	if got := r.callList(); got != "[[0 48] [0 64]]" {
		t.Errorf("fetches = %s, want the dropped blocks fetched again", got)
	}
	checkInvariants(t, c)
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}

func TestDescriptorsBounded(t *testing.T) {
	const keys = 200
	c := newCache(t, Options{MaxBytes: 1 << 20, BlockSize: bs})
	fds := countFDs(t)
	data := make([][]byte, keys)
	for i := range keys {
		data[i] = keyData(i, 2*bs+3)
	}
	k := func(i int) Key { return Key{FileID: strconv.Itoa(i), Etag: "e"} }
	for round := range 2 { // stores, then hits
		for i := range keys {
			readKey(t, c, k(i), data[i], memFetch(data[i]), 0, 2*bs+3)
			if open := c.openFiles.Load(); open > maxOpenFiles {
				t.Fatalf("round %d, key %d: %d descriptors open, bound is %d", round, i, open, maxOpenFiles)
			}
		}
		if got := countFDs(t); got > fds+maxOpenFiles {
			t.Errorf("round %d: %d descriptors open, %d before", round, got, fds)
		}
	}
	if st := c.Stats(); st.Fetches != keys || st.Blocks != 3*keys {
		t.Errorf("Stats = %+v, want one fetch per key", st)
	}
	checkInvariants(t, c)
	closeCache(t, c)
	if got := c.openFiles.Load(); got != 0 {
		t.Errorf("%d descriptors open after Close", got)
	}
	if got := countFDs(t); got > fds {
		t.Errorf("%d descriptors open after Close, %d before", got, fds)
	}
}

// TestEvictedDuringRead evicts, while a read of two cached blocks is under
// way, its descriptor from the descriptor LRU and one of its blocks from
// the cache: the read still gets the blocks' bytes, and the block is
// punched out after it.
func TestEvictedDuringRead(t *testing.T) {
	r := newRemote(t, 4*bs)
	c := newCache(t, Options{MaxBytes: 3 * bs, BlockSize: bs})
	read(t, c, r, 2*bs, 1)
	read(t, c, r, 0, 2*bs) // LRU: 2, 0, 1
	c.mu.Lock()
	c.files.Resize(1)
	c.mu.Unlock()
	other := Key{FileID: "1002", Etag: key.Etag}
	otherData := keyData(2, 2*bs)
	hooked := false
	c.testHookRead = func() {
		if hooked {
			return
		}
		hooked = true
		// The read has pinned 0 and 1 (LRU: 2, 0, 1). Evict 2 and 0.
		readKey(t, c, other, otherData, memFetch(otherData), 0, 2*bs)
		if got := c.Stats().Evictions; got != 2 {
			t.Errorf("evictions in the hook = %d, want 2", got)
		}
		if got := keyBlocks(t, c, key); !slices.Equal(got, []string{"0", "1"}) {
			t.Errorf("key's blocks on disk during the read = %v, want [0 1] (2 punched, 0 deferred)", got)
		}
	}
	read(t, c, r, 0, 2*bs)
	if !hooked {
		t.Fatal("the read did not reach the hook")
	}
	c.testHookRead = nil
	if got := keyBlocks(t, c, key); !slices.Equal(got, []string{"1"}) {
		t.Errorf("key's blocks on disk after the read = %v, want [1]", got)
	}
	if got := c.openFiles.Load(); got != 1 {
		t.Errorf("%d descriptors open, want 1 (the bound)", got)
	}
	checkInvariants(t, c)
	read(t, c, r, 0, 4*bs)
	checkInvariants(t, c)

	// The same while the read's file is deleted: its last block is evicted.
	c = newCache(t, Options{MaxBytes: 2 * bs, BlockSize: bs})
	read(t, c, r, 0, 2*bs)
	calls := r.numCalls()
	hooked = false
	c.testHookRead = func() {
		if !hooked {
			hooked = true
			readKey(t, c, other, otherData, memFetch(otherData), 0, 2*bs)
			if _, err := os.Stat(filepath.Join(c.dir, c.fileOf(key))); !os.IsNotExist(err) {
				t.Errorf("key file during the read: %v, want gone", err)
			}
		}
	}
	read(t, c, r, 0, 2*bs)
	c.testHookRead = nil
	if !hooked {
		t.Fatal("the read never reached the hook")
	}
	checkInvariants(t, c)
	if got := r.numCalls(); got != calls {
		t.Errorf("fetches = %s, want no more than %d", r.callList(), calls)
	}
}

// TestConcurrentReadsWithEvictions reads many keys from many goroutines
// through a cache too small for them, with few descriptors.
func TestConcurrentReadsWithEvictions(t *testing.T) {
	const keys, size = 12, 10*bs + 5
	c := newCache(t, Options{MaxBytes: 25 * bs, BlockSize: bs})
	c.mu.Lock()
	c.files.Resize(3)
	c.mu.Unlock()
	data := make([][]byte, keys)
	for i := range data {
		data[i] = keyData(i, size)
	}
	k := func(i int) Key { return Key{FileID: strconv.Itoa(i), Etag: "e"} }
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(g), 1))
			for range 300 {
				i := rnd.IntN(keys)
				off := rnd.Int64N(size)
				n := 1 + rnd.IntN(4*bs)
				switch rnd.IntN(20) {
				case 0:
					c.Forget(k(i))
				case 1:
					c.Prefetch(context.Background(), k(i), size, memFetch(data[i]), off, int64(n))
				default:
					readKey(t, c, k(i), data[i], memFetch(data[i]), off, n)
				}
			}
		})
	}
	wg.Wait()
	checkInvariants(t, c)
	if st := c.Stats(); st.Bytes > 25*bs {
		t.Errorf("Stats = %+v, over the bound", st)
	}
	if open := c.openFiles.Load(); open > 3 {
		t.Errorf("%d descriptors open, bound is 3", open)
	}
	for i := range keys {
		readKey(t, c, k(i), data[i], memFetch(data[i]), 0, size)
	}
	checkInvariants(t, c)
}

// TestCloseDuringReads closes the cache while reads go on, then checks
// that every block the next cache serves from disk is right.
func TestCloseDuringReads(t *testing.T) {
	const keys, size = 6, 8*bs + 3
	dir := filepath.Join(t.TempDir(), "cache")
	c := newCache(t, Options{Dir: dir, MaxBytes: 20 * bs, BlockSize: bs})
	data := make([][]byte, keys)
	for i := range data {
		data[i] = keyData(i, size)
	}
	k := func(i int) Key { return Key{FileID: strconv.Itoa(i), Etag: "e"} }
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range 6 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(g), 2))
			<-start
			for j := 0; ; j++ {
				i := rnd.IntN(keys)
				off := rnd.Int64N(size)
				p := make([]byte, 1+rnd.IntN(3*bs))
				n, err := c.ReadAt(context.Background(), k(i), size, memFetch(data[i]), p, off)
				if errors.Is(err, ErrClosed) {
					return
				}
				if !slices.Equal(p[:n], data[i][off:off+int64(n)]) {
					t.Errorf("read %d of key %d at %d: wrong bytes", j, i, off)
				}
			}
		})
	}
	close(start)
	for c.Stats().Evictions < 20 {
		readKey(t, c, k(0), data[0], memFetch(data[0]), 0, size)
	}
	closeCache(t, c)
	wg.Wait()
	c2 := newCache(t, Options{Dir: dir, MaxBytes: 20 * bs, BlockSize: bs})
	blocks := c2.Stats().Blocks
	if blocks == 0 {
		t.Fatal("no block survived Close: the index was not written or not read")
	}
	// Every block the index kept must read right without fetching.
	hits := 0
	for i := range keys {
		for b := int64(0); b*bs < size; b++ {
			c2.mu.Lock()
			cached := c2.lru.Contains(blockID{c2.keyID(k(i)), b})
			c2.mu.Unlock()
			if cached {
				readKey(t, c2, k(i), data[i], failFetch, b*bs, bs)
				hits++
			}
		}
	}
	if int64(hits) != blocks {
		t.Errorf("read %d cached blocks, Stats said %d", hits, blocks)
	}
	if st := c2.Stats(); st.Fetches != 0 {
		t.Errorf("Stats = %+v, want no fetches", st)
	}
	checkInvariants(t, c2)
}
