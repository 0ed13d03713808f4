package cache

import (
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
	tmp := ""
	if l <= c.maxBytes && c.makeRoom(l) {
		tmp = c.writeTemp(id, data)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inflight, id)
	if tmp == "" {
		return
	}
	if err := os.Rename(tmp, c.blockPath(id)); err != nil {
		os.Remove(tmp)
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

// makeRoom evicts least recently used blocks until storing l more bytes
// leaves MinFree bytes free on disk, and reports whether it does.
func (c *BlockCache) makeRoom(l int64) bool {
	if c.minFree <= 0 {
		return true
	}
	free, err := c.freeSpace(c.dir)
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for free-l < c.minFree {
		n, ok := c.evictOldestLocked()
		if !ok {
			return false
		}
		free += n
	}
	return true
}

// writeTemp writes data to a temporary file beside id's block file and
// returns its path, or "" if that failed. It is not fsync'd: the cache is
// disposable, and a block cut short by a power loss fails the length check
// when it is read or re-indexed.
func (c *BlockCache) writeTemp(id blockID, data []byte) string {
	dir := filepath.Join(c.dir, id.dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return ""
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return ""
	}
	return f.Name()
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
