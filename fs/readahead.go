package fs

import "sync"

// Read-ahead: once reads that follow each other have covered raAfter bytes,
// a window opens that doubles from raMin to raMax; a read elsewhere closes
// it. Short reads never read ahead (the kernel's own read-ahead already rounds
// them up, to twice a file's first read at most), so a file manager that
// reads the start of many images (thumbnails) downloads about what it reads.
const (
	raAfter = 512 << 10
	raMin   = 1 << 20
	raMax   = 16 << 20
)

// readAhead follows one handle's reads.
type readAhead struct {
	mu     sync.Mutex
	next   int64 // where a sequential read would start; GUARDED_BY(mu)
	run    int64 // where the current run of sequential reads started; GUARDED_BY(mu)
	window int64 // current read-ahead size, 0 while reads look scattered; GUARDED_BY(mu)
	ahead  int64 // end of what was asked ahead; GUARDED_BY(mu)
}

// advise records a read of n bytes at off in a file of size bytes and says
// what to fetch ahead (length 0: nothing).
func (r *readAhead) advise(off, n, size int64) (start, length int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	end := off + n
	switch {
	case off != r.next:
		r.window, r.ahead, r.run = 0, 0, off
	case end-r.run >= raAfter:
		r.window = min(max(2*r.window, raMin), raMax)
	}
	r.next = end
	if r.window == 0 || end >= size {
		return 0, 0
	}
	r.ahead = max(r.ahead, end)
	if r.ahead-end >= r.window/2 || r.ahead >= size {
		return 0, 0 // enough is on its way
	}
	start = r.ahead
	length = min(r.window, size-start)
	r.ahead = start + length
	return start, length
}
