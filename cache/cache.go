package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// DefaultBlockSize is the block size used when Options.BlockSize is 0.
const DefaultBlockSize = 1 << 20

// ErrShortFetch is returned (wrapped) when a Fetcher's body ends before the
// requested length. Nothing of the missing part is cached.
var ErrShortFetch = errors.New("cache: remote returned fewer bytes than requested")

// Key names the content of one remote file. The content for a Key never
// changes: a new upload gets a new file ID.
type Key struct{ FileID, Etag string }

// Fetcher reads [off, off+length) of a remote file. The cache reads the
// body to the end of the range at most, then closes it.
type Fetcher func(ctx context.Context, off, length int64) (io.ReadCloser, error)

// Options configure a BlockCache.
type Options struct {
	Dir string // created with mode 0700 if missing
	// MaxBytes bounds the bytes of cached blocks. If it is smaller than
	// BlockSize the cache stores nothing and ReadAt fetches exactly the
	// bytes asked for, every time.
	MaxBytes  int64
	BlockSize int64 // 0: DefaultBlockSize
	// MinFree is the free disk space (statfs of Dir) that storing a block
	// must leave; least recently used blocks are evicted to keep it, and a
	// block that still does not fit is served without being stored.
	MinFree int64
}

// Stats are counters since NewBlockCache, and the cache's current size.
type Stats struct {
	Hits         int64 // blocks read from disk
	Misses       int64 // blocks fetched (or, in pass-through, touched by a fetch)
	Shared       int64 // blocks a read took from another read's fetch
	Fetches      int64 // Fetcher calls
	BytesFetched int64 // bytes read from Fetcher bodies
	BytesStored  int64 // bytes written into the cache
	Evictions    int64 // blocks evicted to respect MaxBytes or MinFree
	Bytes        int64 // bytes cached now
	Blocks       int64 // blocks cached now
}

// BlockCache is an on-disk LRU cache of fixed-size blocks of remote files.
// It is safe for concurrent use.
//
// Locking: mu guards the LRU, the byte count, the in-flight map and the
// free-space estimate, and is held while a block file is opened for reading
// or deleted. A block enters the LRU only once its file is whole (it is
// written while the block is in flight, which keeps everyone else off it).
// Fetching, writing block data and reading it happen outside mu.
type BlockCache struct {
	dir       string
	blockSize int64
	maxBytes  int64
	minFree   int64
	freeSpace func(dir string) (int64, error) // statfs; tests replace it

	freeKnown   int64 // free bytes at the last statfs; GUARDED_BY(mu)
	sinceStatfs int64 // bytes stored since; GUARDED_BY(mu)

	mu       sync.Mutex
	lru      *simplelru.LRU[blockID, int64] // GUARDED_BY(mu): block -> length
	bytes    int64                          // GUARDED_BY(mu): sum of the lengths in lru
	inflight map[blockID]*flight            // GUARDED_BY(mu): blocks being fetched

	hits, misses, shared, fetches        atomic.Int64
	bytesFetched, bytesStored, evictions atomic.Int64
}

// blockID names one block: the directory of its key and its number.
type blockID struct {
	dir string
	n   int64
}

// NewBlockCache opens (creating if needed) the cache in o.Dir and indexes
// the blocks already there.
func NewBlockCache(o Options) (*BlockCache, error) {
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.Dir == "" || o.BlockSize < 0 || o.MaxBytes < 0 || o.MinFree < 0 {
		return nil, fmt.Errorf("cache: bad options %+v", o)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	lru, err := simplelru.NewLRU[blockID, int64](math.MaxInt, nil)
	if err != nil {
		return nil, err
	}
	c := &BlockCache{
		dir:       o.Dir,
		blockSize: o.BlockSize,
		maxBytes:  o.MaxBytes,
		minFree:   o.MinFree,
		freeSpace: statfsFree,
		lru:       lru,
		inflight:  make(map[blockID]*flight),
	}
	if err := c.reindex(); err != nil {
		return nil, fmt.Errorf("cache: index %s: %w", o.Dir, err)
	}
	return c, nil
}

// Stats returns the counters and the current size.
func (c *BlockCache) Stats() Stats {
	c.mu.Lock()
	bytes, blocks := c.bytes, int64(c.lru.Len())
	c.mu.Unlock()
	return Stats{
		Hits:         c.hits.Load(),
		Misses:       c.misses.Load(),
		Shared:       c.shared.Load(),
		Fetches:      c.fetches.Load(),
		BytesFetched: c.bytesFetched.Load(),
		BytesStored:  c.bytesStored.Load(),
		Evictions:    c.evictions.Load(),
		Bytes:        bytes,
		Blocks:       blocks,
	}
}

// Forget drops every cached block of k, e.g. after the file was deleted.
// A fetch of k already under way may still store its blocks afterwards;
// they are valid content and age out like any other.
func (c *BlockCache) Forget(k Key) {
	d := c.keyDir(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range c.lru.Keys() {
		if id.dir == d {
			c.dropLocked(id)
		}
	}
	os.RemoveAll(filepath.Join(c.dir, d))
}

// keyDir names the directory of k's blocks. The block size is part of the
// name so that blocks cut to another size are never misread.
func (c *BlockCache) keyDir(k Key) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%s", c.blockSize, k.FileID, k.Etag)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (c *BlockCache) blockPath(id blockID) string {
	return filepath.Join(c.dir, id.dir, strconv.FormatInt(id.n, 10))
}

// blockLen is the length of block n of a file of size bytes.
func (c *BlockCache) blockLen(n, size int64) int64 {
	return min(c.blockSize, size-n*c.blockSize)
}

func statfsFree(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
