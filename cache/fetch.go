package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// flight is one block being fetched, or, with hole set, an evicted block
// being punched out of its file. The fetching reader owns it; others wait
// on done. data, err and canceled are written before done is closed and
// only read after; hole is set before the flight is published.
type flight struct {
	done     chan struct{}
	data     []byte // the block, if the fetch succeeded
	err      error
	canceled bool  // the owner's context ended: a waiter may fetch itself
	hole     *hole // an evicted block: waiters look it up again
	shared   bool  // GUARDED_BY(mu): handed to a reader other than the owner
}

// wait returns the block's data once the flight is over.
func (fl *flight) wait(ctx context.Context) ([]byte, error) {
	select {
	case <-fl.done:
		return fl.data, fl.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fetchRun fetches the consecutive blocks first, first+1, ... whose flights
// the caller owns (run), with one Fetcher call, one block in memory at a
// time. Each block is handed to deliver (if not nil), to the flight's
// waiters, and to the disk; on error the flights not yet resolved fail
// with it and nothing of them is stored. A block buffer is reused for the
// next block, and for later runs, unless a waiter was handed it.
func (c *BlockCache) fetchRun(ctx context.Context, kid keyID, size int64, fetch Fetcher,
	first int64, run []*flight, deliver func(n int64, data []byte)) (err error) {
	next := 0 // run[next:] are unresolved
	var bufp *[]byte
	defer func() {
		if err != nil {
			c.fail(kid, first+int64(next), run[next:], err, ctx.Err() != nil)
		}
		if bufp != nil {
			c.bufs.Put(bufp)
		}
	}()
	off := first * c.blockSize
	end := min((first+int64(len(run)))*c.blockSize, size)
	c.fetches.Add(1)
	c.misses.Add(int64(len(run)))
	body, err := fetch(ctx, off, end-off)
	if err != nil {
		return fmt.Errorf("cache: fetch [%d, %d): %w", off, end, err)
	}
	defer body.Close()
	for ; next < len(run); next++ {
		n := first + int64(next)
		if bufp == nil {
			bufp = c.bufs.Get().(*[]byte)
		}
		buf := (*bufp)[:c.blockLen(n, size)]
		got, err := io.ReadFull(body, buf)
		c.bytesFetched.Add(int64(got))
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: body of [%d, %d) ended at %d",
				ErrShortFetch, off, end, n*c.blockSize+int64(got))
		}
		if err != nil {
			return fmt.Errorf("cache: fetch block %d: %w", n, err)
		}
		fl := run[next]
		fl.data = buf
		close(fl.done)
		if deliver != nil {
			deliver(n, buf)
		}
		if !c.store(blockID{kid, n}, fl, buf) {
			bufp = nil // waiters may still be reading it
		}
	}
	return nil
}

// fail ends the flights of blocks from, from+1, ... with err.
func (c *BlockCache) fail(kid keyID, from int64, flights []*flight, err error, canceled bool) {
	c.mu.Lock()
	for i := range flights {
		delete(c.inflight, blockID{kid, from + int64(i)})
	}
	c.mu.Unlock()
	for _, fl := range flights {
		fl.err, fl.canceled = err, canceled
		close(fl.done)
	}
}
