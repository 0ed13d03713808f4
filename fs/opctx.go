package fs

import (
	"context"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// opCtx is an operation's context: its parent's cancellation (the
// kernel's interrupt, or none for a change) and the operation's time
// limit, which a wait that is bounded by its own progress can hold (a
// folder listing of many pages: see dirNode.load). Holding stops the
// limit's clock; releasing restarts it in full, so that the calls that
// follow get the whole limit.
type opCtx struct {
	context.Context // the parent
	limit           time.Duration
	clock           clockwork.Clock
	done            chan struct{}

	mu       sync.Mutex
	err      error           // set once, when done is closed; GUARDED_BY(mu)
	timer    clockwork.Timer // the running limit, nil while held; GUARDED_BY(mu)
	deadline time.Time       // GUARDED_BY(mu)
	holds    int             // GUARDED_BY(mu)
}

func newOpCtx(parent context.Context, clock clockwork.Clock, limit time.Duration) (*opCtx, context.CancelFunc) {
	c := &opCtx{Context: parent, limit: limit, clock: clock, done: make(chan struct{})}
	c.mu.Lock()
	c.startLocked()
	c.mu.Unlock()
	stop := context.AfterFunc(parent, func() { c.end(parent.Err()) })
	return c, func() {
		stop()
		c.end(context.Canceled)
	}
}

// startLocked starts the limit in full.
//
// call with c.mu held
func (c *opCtx) startLocked() {
	c.deadline = c.clock.Now().Add(c.limit)
	c.timer = c.clock.AfterFunc(c.limit, func() { c.end(context.DeadlineExceeded) })
}

func (c *opCtx) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	if c.timer != nil {
		c.timer.Stop()
	}
	close(c.done)
}

func (c *opCtx) Done() <-chan struct{} { return c.done }

func (c *opCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Deadline is when the limit ends if nothing holds it; none while held.
func (c *opCtx) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holds > 0 {
		return time.Time{}, false
	}
	return c.deadline, true
}

// holdLimit stops ctx's time limit, if ctx is an operation's context, until
// the returned function is called; that restarts the limit in full.
func holdLimit(ctx context.Context) (release func()) {
	c, ok := ctx.(*opCtx)
	if !ok {
		return func() {}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return func() {}
	}
	c.holds++
	if c.holds == 1 && c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.holds--
			if c.holds == 0 && c.err == nil {
				c.startLocked()
			}
		})
	}
}
