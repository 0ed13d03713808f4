package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// ReadAt reads len(p) bytes at off of the file k, which is size bytes long,
// with io.ReaderAt semantics. Cached blocks are read from disk; runs of
// consecutive missing blocks are fetched with one fetch call each, stored
// and served; blocks another read is fetching are awaited. On error n
// counts the bytes of p filled before the failing block.
func (c *BlockCache) ReadAt(ctx context.Context, k Key, size int64, fetch Fetcher, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("cache: read at negative offset %d", off)
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
		n, err = c.readBlocks(ctx, c.keyDir(k), size, fetch, p[:want], off)
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
	kd := c.keyDir(k)
	last := (min(off+length, size) - 1) / c.blockSize
	for n := off / c.blockSize; n <= last; {
		c.mu.Lock()
		var run []*flight
		id := blockID{kd, n}
		if c.inflight[id] == nil && !c.lru.Contains(id) {
			run = c.claimLocked(kd, n, last)
		}
		c.mu.Unlock()
		if run == nil {
			n++
			continue
		}
		if c.fetchRun(ctx, kd, size, fetch, n, run, nil) != nil {
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

// readBlocks fills p, which lies within the file, block by block.
func (c *BlockCache) readBlocks(ctx context.Context, kd string, size int64, fetch Fetcher, p []byte, off int64) (int, error) {
	n := 0
	deliver := func(b int64, data []byte) { n += c.copyPart(p, off, b, data) }
	last := (off + int64(len(p)) - 1) / c.blockSize
	for b := off / c.blockSize; b <= last; {
		fd, fl, run := c.lookup(kd, b, last, size)
		switch {
		case fd != nil:
			got, ok := c.readCached(fd, blockID{kd, b}, p[n:], off+int64(n))
			if !ok {
				continue // the block file was bad and is gone: fetch it
			}
			n += got
			c.hits.Add(1)
		case fl != nil:
			data, err := fl.wait(ctx)
			if err != nil {
				if fl.canceled && ctx.Err() == nil {
					continue // its reader gave up, not the remote: try again
				}
				return n, err
			}
			deliver(b, data)
			c.shared.Add(1)
		default:
			if err := c.fetchRun(ctx, kd, size, fetch, b, run, deliver); err != nil {
				return n, err
			}
			b += int64(len(run))
			continue
		}
		b++
	}
	return n, nil
}

// lookup finds block b of the file in kd: an open cached file, a flight to
// wait for, or, when neither exists, the flights of a run of missing blocks
// from b up to last, now owned by the caller.
func (c *BlockCache) lookup(kd string, b, last, size int64) (*os.File, *flight, []*flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := blockID{kd, b}
	if fl := c.inflight[id]; fl != nil {
		return nil, fl, nil
	}
	if l, ok := c.lru.Get(id); ok {
		if l == c.blockLen(b, size) {
			if fd, err := os.Open(c.blockPath(id)); err == nil {
				return fd, nil, nil
			}
		}
		c.dropLocked(id)
	}
	return nil, nil, c.claimLocked(kd, b, last)
}

// claimLocked registers flights for block b, which must be neither cached
// nor in flight, and the blocks after it up to last that are neither.
// Call with mu held.
func (c *BlockCache) claimLocked(kd string, b, last int64) []*flight {
	var run []*flight
	for n := b; n <= last; n++ {
		id := blockID{kd, n}
		if n > b && (c.inflight[id] != nil || c.lru.Contains(id)) {
			break
		}
		fl := &flight{done: make(chan struct{})}
		c.inflight[id] = fl
		run = append(run, fl)
	}
	return run
}

// readCached reads the part of block id that p covers from the block's
// open file, and closes it. p starts at file offset off, inside the block,
// and ends within the file. If the file cannot supply the part, the block
// is dropped and readCached returns false.
func (c *BlockCache) readCached(fd *os.File, id blockID, p []byte, off int64) (int, bool) {
	defer fd.Close()
	start := id.n * c.blockSize
	want := min(int64(len(p)), start+c.blockSize-off)
	if _, err := fd.ReadAt(p[:want], off-start); err != nil {
		c.mu.Lock()
		c.dropLocked(id)
		c.mu.Unlock()
		return 0, false
	}
	return int(want), true
}

// copyPart copies the part of block b (data) that p, which starts at file
// offset off, covers, and returns its length.
func (c *BlockCache) copyPart(p []byte, off, b int64, data []byte) int {
	from := max(off, b*c.blockSize)
	return copy(p[from-off:], data[from-b*c.blockSize:])
}
