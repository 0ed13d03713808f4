// Package deleter coalesces deletes into batched calls (temporary shim; replaced by the clock branch).
package deleter

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/pan123fs/pan123fs/store"
)

// Options configure a Deleter.
type Options struct {
	// Window is how long the first queued ID waits for others to join its
	// call (default 200 ms). While a call is in flight (or waiting for the
	// rate limiter) new IDs gather for the next one anyway.
	Window time.Duration
	// CallTimeout bounds one delete call, retries included (default 2 min).
	CallTimeout time.Duration
	Logger      *slog.Logger
	// Rounds is how many times IDs whose call failed for a reason that may
	// pass (after the client's own retries) are queued again, waiting
	// RoundBackoff, doubling up to a minute, before each (defaults 5 and 2 s).
	// After that the delete is given up.
	Rounds       int
	RoundBackoff time.Duration
	// Journal, if set, records queued IDs so that a restart can send them:
	// each is added when queued, made durable before its call, and marked
	// done after the call (sent or given up).
	Journal Journal
}

// Journal is where a Deleter records its queue (spool.Journal is one).
type Journal interface {
	AddDeletes(ids []string, sync bool) error
	DoneDeletes(ids []string) error
	SyncDeletes() error
}

// Deleter coalesces deletes into calls of up to 100 IDs. Enqueue returns at
// once; the outcome reaches the callback. Safe for concurrent use.
type Deleter struct {
	del  func(ctx context.Context, ids []string) error
	opts Options

	mu      sync.Mutex
	queue   []*delItem          // waiting for a call; GUARDED_BY(mu)
	pending map[string]*delItem // queued or in flight, by ID; GUARDED_BY(mu)
	urgent  bool                // someone waits: send without the window; GUARDED_BY(mu)
	closed  bool                // GUARDED_BY(mu)
	kick    chan struct{}
	done    chan struct{}
}

type delItem struct {
	id       string
	rounds   int // calls that failed for a reason that may pass
	cbs      []func(error)
	finished chan struct{}
	err      error
}

// New starts a Deleter that deletes through del.
func New(del func(ctx context.Context, ids []string) error, o Options) *Deleter {
	if o.Window <= 0 {
		o.Window = 200 * time.Millisecond
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 2 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Rounds == 0 {
		o.Rounds = 5
	}
	if o.RoundBackoff <= 0 {
		o.RoundBackoff = 2 * time.Second
	}
	d := &Deleter{del: del, opts: o, pending: map[string]*delItem{},
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	go d.loop()
	return d
}

// Enqueue queues id for deletion; done (may be nil) gets the outcome.
// An ID already queued is not queued twice.
func (d *Deleter) Enqueue(id string, done func(error)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if it, ok := d.pending[id]; ok {
		if done != nil {
			it.cbs = append(it.cbs, done)
		}
		return
	}
	if j := d.opts.Journal; j != nil {
		if err := j.AddDeletes([]string{id}, false); err != nil {
			d.opts.Logger.Warn("journal: recording a delete", "id", id, "err", err)
		}
	}
	it := &delItem{id: id, finished: make(chan struct{})}
	if done != nil {
		it.cbs = append(it.cbs, done)
	}
	d.pending[id] = it
	d.queue = append(d.queue, it)
	d.signal()
}

// Pending tells whether id is queued or being deleted.
func (d *Deleter) Pending(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.pending[id]
	return ok
}

// Wait sends id's call without waiting for the window and returns its
// outcome; nil if id is not pending.
func (d *Deleter) Wait(ctx context.Context, id string) error {
	d.mu.Lock()
	it, ok := d.pending[id]
	if ok {
		d.urgent = true
		d.signal()
	}
	d.mu.Unlock()
	if !ok {
		return nil
	}
	select {
	case <-it.finished:
		return it.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush sends everything queued now and waits for the outcome of those
// calls (within ctx); it returns the first error.
func (d *Deleter) Flush(ctx context.Context) error {
	d.mu.Lock()
	items := make([]*delItem, 0, len(d.pending))
	for _, it := range d.pending {
		items = append(items, it)
	}
	d.urgent = true
	d.signal()
	d.mu.Unlock()
	var first error
	for _, it := range items {
		select {
		case <-it.finished:
			if it.err != nil && first == nil {
				first = it.err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return first
}

// Close sends what is queued, waits for it (within ctx) and stops.
func (d *Deleter) Close(ctx context.Context) error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		d.urgent = true
		d.signal()
	}
	d.mu.Unlock()
	select {
	case <-d.done:
		return nil
	case <-ctx.Done():
		d.mu.Lock()
		left := len(d.pending)
		d.mu.Unlock()
		d.opts.Logger.Warn("unmounting with deletes not sent", "count", left)
		return ctx.Err()
	}
}

// call with d.mu held
func (d *Deleter) signal() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

func (d *Deleter) loop() {
	defer close(d.done)
	for {
		d.mu.Lock()
		for len(d.queue) == 0 {
			if d.closed {
				d.mu.Unlock()
				return
			}
			d.mu.Unlock()
			<-d.kick
			d.mu.Lock()
		}
		urgent := d.urgent || d.closed
		d.mu.Unlock()
		if !urgent {
			d.gather()
		}
		d.mu.Lock()
		n := min(len(d.queue), 100)
		batch := d.queue[:n:n]
		d.queue = d.queue[n:]
		if len(d.queue) == 0 {
			d.urgent = false
		}
		d.mu.Unlock()
		d.send(batch)
	}
}

// gather waits for more IDs: one window, started again by each new ID
// (a burst such as rm -r goes out in full calls even when it comes slowly),
// up to maxGatherWindows windows in all. It ends early when a kick makes
// the queue urgent (Wait, Close) or fills a batch.
func (d *Deleter) gather() {
	start := time.Now()
	t := time.NewTimer(d.opts.Window)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return
		case <-d.kick:
			d.mu.Lock()
			urgent := d.urgent || d.closed || len(d.queue) >= 100
			d.mu.Unlock()
			if urgent {
				return
			}
			if time.Since(start)+d.opts.Window <= maxGatherWindows*d.opts.Window {
				t.Reset(d.opts.Window)
			}
		}
	}
}

// maxGatherWindows bounds how long gather waits for a burst to end.
const maxGatherWindows = 10

func (d *Deleter) send(batch []*delItem) {
	if j := d.opts.Journal; j != nil {
		if err := j.SyncDeletes(); err != nil {
			d.opts.Logger.Warn("journal: syncing deletes", "err", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.opts.CallTimeout)
	err := d.del(ctx, idsOf(batch))
	cancel()
	if err != nil && (errors.Is(err, store.ErrTemporary) || errors.Is(err, context.DeadlineExceeded)) {
		// Rounds are counted per ID: a batch mixes fresh IDs and retried ones.
		var again, last []*delItem
		for _, it := range batch {
			if it.rounds < d.opts.Rounds {
				again = append(again, it)
			} else {
				last = append(last, it)
			}
		}
		if len(again) > 0 {
			d.retryLater(again, err)
		}
		if batch = last; len(batch) == 0 {
			return
		}
	}
	ids := idsOf(batch)
	if err != nil {
		d.opts.Logger.Error("delete call failed; given up", "ids", len(ids), "err", err)
	}
	if j := d.opts.Journal; j != nil {
		if jerr := j.DoneDeletes(ids); jerr != nil {
			d.opts.Logger.Warn("journal: recording deletes done", "err", jerr)
		}
	}
	d.mu.Lock()
	for _, it := range batch {
		delete(d.pending, it.id)
		it.err = err
	}
	d.mu.Unlock()
	for _, it := range batch {
		close(it.finished)
		for _, cb := range it.cbs {
			cb(err)
		}
	}
}

func idsOf(batch []*delItem) []string {
	ids := make([]string, len(batch))
	for i, it := range batch {
		ids[i] = it.id
	}
	return ids
}

// retryLater queues failed IDs again after a backoff that doubles with
// each round (the most any of them has had), up to a minute. The IDs stay
// pending (and journaled).
func (d *Deleter) retryLater(batch []*delItem, err error) {
	rounds := 0
	for _, it := range batch {
		it.rounds++ // it is out of the queue until the timer puts it back
		rounds = max(rounds, it.rounds)
	}
	wait := min(d.opts.RoundBackoff<<(rounds-1), time.Minute)
	d.opts.Logger.Warn("delete call failed; will try again", "ids", len(batch), "in", wait, "err", err)
	time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.queue = append(d.queue, batch...)
		d.urgent = true
		d.signal()
	})
}
