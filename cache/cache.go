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

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/pan123fs/pan123fs/internal/diskfree"
)

// DefaultBlockSize is the block size used when Options.BlockSize is 0.
const DefaultBlockSize = 1 << 20

// maxOpenFiles bounds the cache files kept open between reads and writes.
const maxOpenFiles = 64

// ErrShortFetch is returned (wrapped) when a Fetcher's body ends before the
// requested length. Nothing of the missing part is cached.
var ErrShortFetch = errors.New("cache: remote returned fewer bytes than requested")

// ErrClosed is returned by reads once Close has been called.
var ErrClosed = errors.New("cache: closed")

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
// Locking: mu guards the block LRU, the byte count, the in-flight map, the
// pins, the key files and their descriptor LRU, and the free-space
// estimate. Cache files are opened, created and deleted with mu held;
// fetching, writing block data (pwrite), reading it (pread) and punching
// evicted blocks out of their files happen outside mu, on a descriptor
// whose reference the caller holds (see files.go).
//
// A block enters the LRU only once its bytes are written: it is written
// while it is in flight, which keeps everyone else off it, and it leaves
// the in-flight map in the critical section in which it enters the LRU. An
// evicted block is in flight again (a hole flight, whose waiters retry)
// until it has been punched out of its file, so that no one stores it anew
// before the punch; and a block being read is pinned, which defers punching
// it until the last of its readers is done.
type BlockCache struct {
	dir       string
	blockSize int64
	maxBytes  int64
	punchHole func(f *os.File, off, length int64) error // tests replace it
	bufs      sync.Pool                                 // *[]byte of blockSize, for fetches

	mu       sync.Mutex
	idle     sync.Cond                         // signalled when ops drops to 0; L is &mu
	lru      *simplelru.LRU[blockID, int64]    // GUARDED_BY(mu): block -> length
	bytes    int64                             // GUARDED_BY(mu): sum of the lengths in lru
	inflight map[blockID]*flight               // GUARDED_BY(mu): blocks being fetched or punched
	pins     map[blockID]int32                 // GUARDED_BY(mu): reads of cached blocks under way
	keys     map[keyID]*keyFile                // GUARDED_BY(mu): key files with blocks or writes
	files    *simplelru.LRU[*keyFile, *handle] // GUARDED_BY(mu): open descriptors
	ops      int                               // GUARDED_BY(mu): writes and punches under way
	disk     diskfree.Gauge                    // GUARDED_BY(mu): free space (floor MinFree); tests replace its Statfs
	closed   atomic.Bool                       // set under mu by Close

	openFiles                            atomic.Int64 // descriptors open now (tests)
	hits, misses, shared, fetches        atomic.Int64
	bytesFetched, bytesStored, evictions atomic.Int64

	testHookRead func() // if set, called between finding cached blocks and reading them
}

// keyID is the hash of a key and the block size; its hex form names the
// key's cache file.
type keyID [16]byte

func (k keyID) name() string { return hex.EncodeToString(k[:]) }

// blockID names one block: its key file and its number.
type blockID struct {
	k keyID
	n int64
}

// NewBlockCache opens (creating if needed) the cache in o.Dir. It keeps the
// blocks listed in the index a Close left, and deletes every other cache
// file (see the package documentation).
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
		disk:      diskfree.Gauge{Dir: o.Dir, Floor: o.MinFree},
		punchHole: punchHole,
		lru:       lru,
		inflight:  make(map[blockID]*flight),
		pins:      make(map[blockID]int32),
		keys:      make(map[keyID]*keyFile),
	}
	c.idle.L = &c.mu
	c.bufs.New = func() any {
		b := make([]byte, c.blockSize)
		return &b
	}
	c.files, err = simplelru.NewLRU(maxOpenFiles, func(kf *keyFile, h *handle) { c.releaseLocked(h) })
	if err != nil {
		return nil, err
	}
	if err := c.load(); err != nil {
		c.files.Purge() // no one else has c yet: no lock needed
		return nil, fmt.Errorf("cache: load %s: %w", o.Dir, err)
	}
	return c, nil
}

// Close waits for the block writes and punches under way, writes the index
// of the cached blocks that the next NewBlockCache on Dir will trust, and
// closes the cache files. Reads and prefetches started after Close fail
// with ErrClosed (prefetches do nothing), and so do reads under way when
// they reach a cached block; fetches under way still serve their readers
// but store nothing more. Forget after Close only deletes files. Calling
// Close again does nothing.
func (c *BlockCache) Close() error {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return nil
	}
	c.closed.Store(true)
	for c.ops > 0 {
		c.idle.Wait()
	}
	entries := c.indexEntriesLocked()
	c.files.Purge() // descriptors in use close when released
	c.mu.Unlock()
	if err := c.writeIndex(entries); err != nil {
		return fmt.Errorf("cache: write index: %w", err)
	}
	return nil
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

// Forget drops every cached block of k and deletes its file, e.g. after
// the remote file was deleted. Blocks of k that a fetch under way has yet
// to store are not stored.
func (c *BlockCache) Forget(k Key) {
	id := c.keyID(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	if kf := c.keys[id]; kf != nil {
		c.dropKeyLocked(kf)
	}
}

// keyID hashes k. The block size is part of the hash so that blocks cut to
// another size are never misread.
// It is hashed on every read: the input is built in a stack buffer.
func (c *BlockCache) keyID(k Key) keyID {
	var buf [160]byte
	b := strconv.AppendInt(buf[:0], c.blockSize, 10)
	b = append(append(append(append(b, 0), k.FileID...), 0), k.Etag...)
	sum := sha256.Sum256(b)
	return keyID(sum[:len(keyID{})])
}

func (c *BlockCache) path(k keyID) string { return filepath.Join(c.dir, k.name()) }

// blockLen is the length of block n of a file of size bytes.
func (c *BlockCache) blockLen(n, size int64) int64 {
	return min(c.blockSize, size-n*c.blockSize)
}
