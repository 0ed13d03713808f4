package cache

import (
	"os"
)

// Cache files: all blocks of a key live in one sparse file, Dir/<key id>,
// block n at offset n*BlockSize. Reads and writes use pread and pwrite on
// descriptors kept open in the descriptor LRU (c.files, at most
// maxOpenFiles). A descriptor is reference counted: the LRU holds one
// reference while the descriptor is in it, and each read, write or punch
// holds one while it uses the descriptor outside mu; the last release
// closes it. So a descriptor evicted from the LRU, or whose file was
// deleted, stays usable by whoever holds it, and a file deleted while a
// read holds its descriptor keeps its data until that read is done.

// keyFile is the cache file of one key. Once the file is deleted (gone), a
// new keyFile stands for the name; writes into the old one are not
// indexed.
type keyFile struct {
	id     keyID
	blocks int   // GUARDED_BY(mu): blocks of the file in the LRU
	top    int64 // GUARDED_BY(mu): 1 + the highest block number it has held
	stores int   // GUARDED_BY(mu): writes into the file under way
	gone   bool  // GUARDED_BY(mu): deleted, no longer in c.keys
}

// handle is an open descriptor of a key file.
type handle struct {
	f    *os.File
	refs int // GUARDED_BY(mu)
}

// keyLocked returns the key file of k, making one if needed.
// Call with mu held.
func (c *BlockCache) keyLocked(k keyID) *keyFile {
	kf := c.keys[k]
	if kf == nil {
		kf = &keyFile{id: k}
		c.keys[k] = kf
	}
	return kf
}

// acquireLocked returns a referenced descriptor of kf's file, opening it
// (and creating it if create) when it is not in the descriptor LRU. The
// caller must releaseLocked it. Call with mu held.
func (c *BlockCache) acquireLocked(kf *keyFile, create bool) (*handle, error) {
	if h, ok := c.files.Get(kf); ok {
		h.refs++
		return h, nil
	}
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	f, err := os.OpenFile(c.path(kf.id), flag, 0o600)
	if err != nil {
		return nil, err
	}
	c.openFiles.Add(1)
	h := &handle{f: f, refs: 2} // the LRU's and the caller's
	c.files.Add(kf, h)          // may release the least recently used one
	return h, nil
}

// releaseLocked drops a reference to h, closing it with the last one.
// Call with mu held.
func (c *BlockCache) releaseLocked(h *handle) {
	h.refs--
	if h.refs == 0 {
		h.f.Close()
		c.openFiles.Add(-1)
	}
}

// deleteFileLocked deletes kf's file, which must have no blocks in the
// LRU. Writes under way into it will not be indexed. Call with mu held.
func (c *BlockCache) deleteFileLocked(kf *keyFile) {
	if kf.gone {
		return
	}
	kf.gone = true
	delete(c.keys, kf.id)
	c.files.Remove(kf)
	os.Remove(c.path(kf.id))
}

// dropKeyLocked drops every block of kf from the LRU, without counting
// evictions, and deletes its file. Call with mu held.
func (c *BlockCache) dropKeyLocked(kf *keyFile) {
	// The file's own block numbers, not the whole LRU: Forget runs for
	// every deleted file.
	for n := int64(0); n < kf.top && kf.blocks > 0; n++ {
		id := blockID{kf.id, n}
		if l, ok := c.lru.Peek(id); ok {
			c.lru.Remove(id)
			c.bytes -= l
			kf.blocks--
		}
	}
	c.deleteFileLocked(kf)
}

// addedLocked counts block n of kf, just added to the LRU. Call with mu held.
func (kf *keyFile) addedLocked(n int64) {
	kf.blocks++
	kf.top = max(kf.top, n+1)
}
