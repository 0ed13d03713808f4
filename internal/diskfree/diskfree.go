// Package diskfree tells how much room a filesystem has left without a
// statfs(2) for every write: the spool and the block cache both keep a
// floor of free space and write in small pieces.
package diskfree

import (
	"sync"
	"syscall"
)

// Every is how many bytes may be written between two statfs calls while
// the estimate stays at least Every above the floor.
const Every = 16 << 20

// Of returns the bytes free to unprivileged users on dir's filesystem.
func Of(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// Gauge estimates the free space of Dir's filesystem: it asks statfs, then
// subtracts the bytes written since, and asks again after Every bytes or
// once the estimate comes within Every of Floor. It is safe for concurrent
// use, and has a lock of its own so that its owners need not hold theirs
// across the statfs.
type Gauge struct {
	Dir    string
	Floor  int64
	Statfs func(dir string) (int64, error) // Of if nil; tests replace it

	mu           sync.Mutex
	known, since int64 // the last statfs, and the bytes counted since; GUARDED_BY(mu)
}

// Left counts n bytes about to be written and returns the free space they
// would leave.
func (g *Gauge) Left(n int64) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.known > 0 && g.since+n < Every && g.known-g.since-n >= g.Floor+Every {
		g.since += n
		return g.known - g.since, nil
	}
	statfs := g.Statfs
	if statfs == nil {
		statfs = Of
	}
	free, err := statfs(g.Dir)
	if err != nil {
		return 0, err
	}
	g.known, g.since = free, n
	return free - n, nil
}

// Freed gives back n bytes counted by Left that were not written after
// all, or were freed since.
func (g *Gauge) Freed(n int64) {
	g.mu.Lock()
	g.since -= n
	g.mu.Unlock()
}
