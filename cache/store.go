package cache

import "errors"

// errEvicted ends the flight of an evicted block once it has been punched
// out of its file; its waiters look the block up again.
var errEvicted = errors.New("cache: block evicted")

// hole is an evicted block to punch out of its file. Until it is punched
// its hole flight sits in the in-flight map, so the block cannot be
// fetched and stored anew in the meantime.
type hole struct {
	id       blockID
	kf       *keyFile
	h        *handle // referenced
	len      int64
	fl       *flight
	deferred bool // GUARDED_BY(mu): the block is being read; the last reader punches it
}

// store writes data as block id, if it may be cached, and ends its flight
// fl: the block leaves the in-flight map in the same critical section in
// which it enters the LRU, so a reader always finds it in one or the
// other. It reports whether data may be reused by the caller, which it may
// unless a reader other than the owner was handed fl. Failing to store is
// not an error: the data has been served already.
func (c *BlockCache) store(id blockID, fl *flight, data []byte) (reuse bool) {
	l := int64(len(data))
	ok := l <= c.maxBytes && !c.closed.Load()
	if ok {
		var holes []*hole
		ok, holes = c.makeRoom(l)
		c.punch(holes) // before writing: the room is on disk
	}
	var kf *keyFile
	var h *handle
	c.mu.Lock()
	if ok && !c.closed.Load() {
		kf = c.keyLocked(id.k)
		var err error
		// The file is created only if it has no blocks: if one that has
		// is missing, its blocks are gone.
		if h, err = c.acquireLocked(kf, kf.blocks == 0); err != nil {
			c.dropKeyLocked(kf)
			ok = false
		}
	} else {
		ok = false
	}
	if !ok {
		delete(c.inflight, id)
		reuse = !fl.shared
		c.mu.Unlock()
		return reuse
	}
	kf.stores++
	c.ops++
	c.mu.Unlock()

	_, err := h.f.WriteAt(data, id.n*c.blockSize)

	var holes []*hole
	c.mu.Lock()
	kf.stores--
	c.releaseLocked(h)
	delete(c.inflight, id)
	reuse = !fl.shared
	switch {
	case err == nil && !kf.gone:
		c.lru.Add(id, l)
		c.bytes += l
		kf.addedLocked(id.n)
		c.bytesStored.Add(l)
		// l <= maxBytes, so the block just added is never the one evicted.
		for c.bytes > c.maxBytes {
			ho, _, _ := c.evictOldestLocked()
			holes = appendHole(holes, ho)
		}
	case kf.blocks == 0 && kf.stores == 0:
		c.deleteFileLocked(kf)
	}
	c.opDoneLocked()
	c.mu.Unlock()
	c.punch(holes)
	return reuse
}

// makeRoom evicts least recently used blocks until storing l more bytes
// leaves MinFree bytes free on disk, and reports whether it does. The
// caller must punch the holes it returns.
func (c *BlockCache) makeRoom(l int64) (bool, []*hole) {
	if c.disk.Floor <= 0 {
		return true, nil
	}
	left, err := c.disk.Left(l) // its statfs, when due, runs without mu
	if err != nil {
		return false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var holes []*hole
	for left < c.disk.Floor {
		ho, n, ok := c.evictOldestLocked()
		if !ok {
			c.disk.Freed(l)
			return false, holes
		}
		holes = appendHole(holes, ho)
		left += n
		c.disk.Freed(n)
	}
	return true, holes
}

// evictOldestLocked evicts the least recently used block and returns its
// length and the hole to punch, if any. Call with mu held.
func (c *BlockCache) evictOldestLocked() (*hole, int64, bool) {
	id, l, ok := c.lru.RemoveOldest()
	if !ok {
		return nil, 0, false
	}
	c.evictions.Add(1)
	return c.removedLocked(id, l), l, true
}

// dropLocked drops block id, if cached, without counting an eviction, and
// returns the hole to punch, if any. Call with mu held.
func (c *BlockCache) dropLocked(id blockID) *hole {
	l, ok := c.lru.Peek(id)
	if !ok {
		return nil
	}
	c.lru.Remove(id)
	return c.removedLocked(id, l)
}

// removedLocked accounts for block id, of length l, just taken out of the
// LRU, and frees its disk space: it deletes the block's file if that was
// its last block and no write into it is under way, and otherwise returns
// the hole to punch (nil if the punch is deferred to the block's last
// reader). Once Close has begun, files are left alone but for deletions.
// Call with mu held.
func (c *BlockCache) removedLocked(id blockID, l int64) *hole {
	c.bytes -= l
	kf := c.keys[id.k]
	kf.blocks--
	if kf.blocks == 0 && kf.stores == 0 {
		c.deleteFileLocked(kf)
		return nil
	}
	if c.closed.Load() {
		return nil // the index will not list the block: its bytes are never read
	}
	h, err := c.acquireLocked(kf, false)
	if err != nil {
		c.dropKeyLocked(kf)
		return nil
	}
	fl := &flight{done: make(chan struct{}), err: errEvicted}
	ho := &hole{id: id, kf: kf, h: h, len: l, fl: fl}
	fl.hole = ho
	c.inflight[id] = fl
	c.ops++
	if c.pins[id] > 0 {
		ho.deferred = true
		return nil
	}
	return ho
}

// punch punches the holes out of their files and ends their flights. If a
// file cannot have holes punched, it is deleted with all its blocks.
// Call without mu.
func (c *BlockCache) punch(holes []*hole) {
	for _, ho := range holes {
		err := c.punchHole(ho.h.f, ho.id.n*c.blockSize, ho.len)
		c.mu.Lock()
		delete(c.inflight, ho.id)
		if err != nil && !ho.kf.gone {
			c.dropKeyLocked(ho.kf)
		}
		c.releaseLocked(ho.h)
		c.opDoneLocked()
		c.mu.Unlock()
		close(ho.fl.done)
	}
}

func appendHole(holes []*hole, ho *hole) []*hole {
	if ho != nil {
		holes = append(holes, ho)
	}
	return holes
}

// opDoneLocked ends a write or punch counted in ops. Call with mu held.
func (c *BlockCache) opDoneLocked() {
	c.ops--
	if c.ops == 0 {
		c.idle.Broadcast()
	}
}
