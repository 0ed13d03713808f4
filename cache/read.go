package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// ReadAt reads len(p) bytes at off of the file k, which is size bytes long,
// with io.ReaderAt semantics. Runs of cached blocks are read from disk with
// one pread each; runs of consecutive missing blocks are fetched with one
// fetch call each, stored and served; blocks another read is fetching are
// awaited. On error n counts the bytes of p filled before the failing
// block. After Close it fails with ErrClosed.
func (c *BlockCache) ReadAt(ctx context.Context, k Key, size int64, fetch Fetcher, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("cache: read at negative offset %d", off)
	}
	if c.closed.Load() {
		return 0, ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), size-off)
	var n int
	var err error
	if c.maxBytes < c.blockSize {
		n, err = c.readThrough(ctx, fetch, p[:want], off)
	} else {
		n, err = c.readBlocks(ctx, c.keyID(k), size, fetch, p[:want], off)
	}
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// Prefetch brings the blocks of [off, off+length) into the cache, fetching
// the missing ones that no one is fetching yet, and returns when done.
// It is best effort: errors are dropped. For read-ahead, call it in its own
// goroutine with a context that outlives the read that triggered it.
func (c *BlockCache) Prefetch(ctx context.Context, k Key, size int64, fetch Fetcher, off, length int64) {
	if c.maxBytes < c.blockSize || off < 0 || length <= 0 || off >= size {
		return
	}
	kid := c.keyID(k)
	last := (min(off+length, size) - 1) / c.blockSize
	for n := off / c.blockSize; n <= last; {
		c.mu.Lock()
		if c.closed.Load() {
			c.mu.Unlock()
			return
		}
		var run []*flight
		id := blockID{kid, n}
		if c.inflight[id] == nil && !c.lru.Contains(id) {
			run = c.claimLocked(kid, n, last)
		}
		c.mu.Unlock()
		if run == nil {
			n++
			continue
		}
		if c.fetchRun(ctx, kid, size, fetch, n, run, nil) != nil {
			return
		}
		n += int64(len(run))
	}
}

// readThrough serves p from one fetch of exactly its bytes, caching nothing.
func (c *BlockCache) readThrough(ctx context.Context, fetch Fetcher, p []byte, off int64) (int, error) {
	c.fetches.Add(1)
	c.misses.Add((off+int64(len(p))-1)/c.blockSize - off/c.blockSize + 1)
	body, err := fetch(ctx, off, int64(len(p)))
	if err != nil {
		return 0, fmt.Errorf("cache: fetch [%d, %d): %w", off, off+int64(len(p)), err)
	}
	defer body.Close()
	n, err := io.ReadFull(body, p)
	c.bytesFetched.Add(int64(n))
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("%w: got %d of %d bytes at %d", ErrShortFetch, n, len(p), off)
	}
	if err != nil {
		return n, fmt.Errorf("cache: fetch: %w", err)
	}
	return n, nil
}

// cached is a run of consecutive cached blocks of one key file, pinned,
// with a referenced descriptor of the file.
type cached struct {
	h            *handle
	first, count int64
}

// readBlocks fills p, which lies within the file, block by block.
func (c *BlockCache) readBlocks(ctx context.Context, kid keyID, size int64, fetch Fetcher, p []byte, off int64) (int, error) {
	n := 0
	deliver := func(b int64, data []byte) { n += c.copyPart(p, off, b, data) }
	last := (off + int64(len(p)) - 1) / c.blockSize
	for b := off / c.blockSize; b <= last; {
		hit, fl, run, err := c.lookup(kid, b, last, size)
		switch {
		case err != nil:
			return n, err
		case hit.h != nil:
			got, ok := c.readCached(kid, hit, p[n:], off+int64(n))
			if !ok {
				continue // the blocks were bad and are gone: fetch them
			}
			n += got
			c.hits.Add(hit.count)
			b += hit.count
		case fl != nil:
			data, err := fl.wait(ctx)
			if err != nil {
				if ctx.Err() == nil && (fl.hole != nil || fl.canceled) {
					continue // evicted, or its reader gave up, not the remote: try again
				}
				return n, err
			}
			deliver(b, data)
			c.shared.Add(1)
			b++
		default:
			if err := c.fetchRun(ctx, kid, size, fetch, b, run, deliver); err != nil {
				return n, err
			}
			b += int64(len(run))
		}
	}
	return n, nil
}

// lookup finds block b of the key file kid: a run of cached blocks from b
// up to last at most, pinned, a flight to wait for, or, when neither
// exists, the flights of a run of missing blocks from b up to last, now
// owned by the caller.
func (c *BlockCache) lookup(kid keyID, b, last, size int64) (hit cached, fl *flight, run []*flight, err error) {
	var holes []*hole
	c.mu.Lock()
	hit, fl, run, err = c.lookupLocked(kid, b, last, size, &holes)
	c.mu.Unlock()
	c.punch(holes)
	return hit, fl, run, err
}

func (c *BlockCache) lookupLocked(kid keyID, b, last, size int64, holes *[]*hole) (cached, *flight, []*flight, error) {
	if c.closed.Load() {
		return cached{}, nil, nil, ErrClosed
	}
	id := blockID{kid, b}
	if fl := c.inflight[id]; fl != nil {
		fl.shared = true
		return cached{}, fl, nil, nil
	}
	l, ok := c.lru.Get(id)
	if !ok {
		return cached{}, nil, c.claimLocked(kid, b, last), nil
	}
	if l != c.blockLen(b, size) {
		*holes = appendHole(*holes, c.dropLocked(id))
		return cached{}, nil, c.claimLocked(kid, b, last), nil
	}
	kf := c.keys[kid]
	h, err := c.acquireLocked(kf, false)
	if err != nil {
		c.dropKeyLocked(kf)
		return cached{}, nil, c.claimLocked(kid, b, last), nil
	}
	count := int64(1)
	for n := b + 1; n <= last; n++ {
		if l, ok := c.lru.Get(blockID{kid, n}); !ok || l != c.blockLen(n, size) {
			break
		}
		count++
	}
	for n := b; n < b+count; n++ {
		c.pins[blockID{kid, n}]++
	}
	return cached{h: h, first: b, count: count}, nil, nil, nil
}

// claimLocked registers flights for block b, which must be neither cached
// nor in flight, and the blocks after it up to last that are neither.
// Call with mu held.
func (c *BlockCache) claimLocked(kid keyID, b, last int64) []*flight {
	var run []*flight
	for n := b; n <= last; n++ {
		id := blockID{kid, n}
		if n > b && (c.inflight[id] != nil || c.lru.Contains(id)) {
			break
		}
		fl := &flight{done: make(chan struct{})}
		c.inflight[id] = fl
		run = append(run, fl)
	}
	return run
}

// readCached reads the part of the cached run hit that p covers with one
// pread, then unpins the run and releases its descriptor. p starts at file
// offset off, inside the run, and ends within the file. If the file cannot
// supply the part, the run's blocks are dropped and readCached returns
// false.
func (c *BlockCache) readCached(kid keyID, hit cached, p []byte, off int64) (int, bool) {
	want := min(int64(len(p)), (hit.first+hit.count)*c.blockSize-off)
	if c.testHookRead != nil {
		c.testHookRead()
	}
	_, err := hit.h.f.ReadAt(p[:want], off)
	var holes []*hole
	c.mu.Lock()
	for n := hit.first; n < hit.first+hit.count; n++ {
		id := blockID{kid, n}
		if pins := c.pins[id] - 1; pins > 0 {
			c.pins[id] = pins
			continue
		}
		delete(c.pins, id)
		if fl := c.inflight[id]; fl != nil && fl.hole != nil && fl.hole.deferred {
			fl.hole.deferred = false
			holes = append(holes, fl.hole) // it was evicted while we read it
		}
	}
	if err != nil {
		for n := hit.first; n < hit.first+hit.count; n++ {
			holes = appendHole(holes, c.dropLocked(blockID{kid, n}))
		}
	}
	c.releaseLocked(hit.h)
	c.mu.Unlock()
	c.punch(holes)
	return int(want), err == nil
}

// copyPart copies the part of block b (data) that p, which starts at file
// offset off, covers, and returns its length.
func (c *BlockCache) copyPart(p []byte, off, b int64, data []byte) int {
	from := max(off, b*c.blockSize)
	return copy(p[from-off:], data[from-b*c.blockSize:])
}
