package cache

import (
	"errors"
	"os"
	"path/filepath"
)

// tmpPrefix starts the names of block files being written.
const tmpPrefix = "tmp-"

// store writes data as block id, if it may be cached, and ends id's flight:
// the block leaves the in-flight map in the same critical section in which
// it enters the LRU, so a reader always finds it in one or the other.
// Failing to store is not an error: the data has been served already.
func (c *BlockCache) store(id blockID, data []byte) {
	l := int64(len(data))
	stored := false
	if l <= c.maxBytes && c.makeRoom(l) {
		stored = c.writeBlock(id, data)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inflight, id)
	if !stored {
		return
	}
	c.lru.Add(id, l)
	c.bytes += l
	c.bytesStored.Add(l)
	// l <= maxBytes, so the block just added is never the one evicted.
	for c.bytes > c.maxBytes {
		c.evictOldestLocked()
	}
}

// statfsEvery is how many bytes may be stored between two statfs calls
// while free space is well above MinFree.
const statfsEvery = 16 << 20

// makeRoom evicts least recently used blocks until storing l more bytes
// leaves MinFree bytes free on disk, and reports whether it does.
func (c *BlockCache) makeRoom(l int64) bool {
	if c.minFree <= 0 {
		return true
	}
	c.mu.Lock()
	if c.freeKnown > 0 && c.sinceStatfs+l < statfsEvery && c.freeKnown-c.sinceStatfs-l >= c.minFree+statfsEvery {
		// Far from the floor: no need to ask the disk for every block.
		c.sinceStatfs += l
		c.mu.Unlock()
		return true
	}
	c.mu.Unlock()
	free, err := c.freeSpace(c.dir)
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.freeKnown, c.sinceStatfs = free, l
	for free-l < c.minFree {
		n, ok := c.evictOldestLocked()
		if !ok {
			return false
		}
		free += n
	}
	return true
}

// writeBlock writes data as id's block file. It is written in place, not
// fsync'd: a block enters the index (and so is read) only once it is
// whole, the cache is disposable, and a block cut short by a crash fails
// the length check when it is re-indexed.
func (c *BlockCache) writeBlock(id blockID, data []byte) bool {
	path := c.blockPath(id)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
			f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		}
	}
	if err != nil {
		return false
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return false
	}
	return true
}

// evictOldestLocked deletes the least recently used block and returns its
// length. Call with mu held.
func (c *BlockCache) evictOldestLocked() (int64, bool) {
	id, n, ok := c.lru.RemoveOldest()
	if !ok {
		return 0, false
	}
	os.Remove(c.blockPath(id))
	c.bytes -= n
	c.evictions.Add(1)
	return n, true
}

// dropLocked deletes block id, if cached, without counting an eviction.
// Call with mu held.
func (c *BlockCache) dropLocked(id blockID) {
	n, ok := c.lru.Peek(id)
	if !ok {
		return
	}
	c.lru.Remove(id)
	os.Remove(c.blockPath(id))
	c.bytes -= n
}
