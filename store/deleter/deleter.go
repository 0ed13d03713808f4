// Package deleter coalesces deletes into few calls: IDs queued one by one
// (rm -r deletes entry by entry) gather for a short window and go out in
// calls of up to Options.Batch IDs, and calls that fail for a reason that
// may pass are tried again in rounds with backoff. It knows no client: it
// deletes through the function it is given (a store.Backend's Delete) and
// sorts failures with the store sentinels.
package deleter

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/pan123fs/pan123fs/config"
	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/store"
)

// Options configure a Deleter. Zero fields take defaults.
type Options struct {
	// Window is how long the first queued ID waits for others to join its
	// call (default 200 ms). While a call is in flight (or waiting for the
	// rate limiter) new IDs gather for the next one anyway.
	Window time.Duration
	// CallTimeout bounds one delete call, the backend's own retries
	// included (default 2 min). It is measured in real time, not on Clock:
	// it bounds a network call, and reaches the backend as the context's
	// deadline.
	CallTimeout time.Duration
	Logger      *slog.Logger // default slog.Default()
	// Journal, if set, records queued IDs so that a restart can send them:
	// each is added when queued, made durable before its call, and marked
	// done after the call (sent or given up).
	Journal Journal
	// Clock is what the gathering window and the pauses between rounds
	// wait on (default the real clock).
	Clock clockwork.Clock
	// Batch is the most IDs one call takes (default 100; a backend's
	// Limits.DeleteBatch).
	Batch int
	// Backoff is how IDs whose call failed for a reason that may pass are
	// tried again, in rounds. Attempts counts each ID's calls, the first
	// included; the pause before a round is the Delay of the most rounds
	// any of its IDs has had. The zero Policy means DefaultBackoff; any
	// other is used as it is.
	Backoff backoff.Policy
}

// DefaultBackoff is the Backoff of Options that set none (config.Default's
// Delete.Retry: 5 rounds after the first call, 2 s before the first,
// doubling up to a minute).
var DefaultBackoff = config.Default().Delete.Retry

// Journal is where a Deleter records its queue (spool.Journal is one).
type Journal interface {
	AddDeletes(ids []string, sync bool) error
	DoneDeletes(ids []string) error
	SyncDeletes() error
}

// Deleter coalesces deletes into calls of up to Options.Batch IDs. Enqueue
// returns at once; the outcome reaches the callback. Safe for concurrent
// use.
//
// A call that fails with an error matching store.ErrTemporary, or whose
// context's deadline passed, is worth another round for its IDs (until
// Options.Backoff is exhausted for them); the IDs stay pending meanwhile.
// Any other failure, store.ErrNotFound included, is the outcome of its IDs
// at once: a backend's Delete does not report IDs that are already gone
// (store.Backend), so a not-found answer says something else failed.
type Deleter struct {
	del   func(ctx context.Context, ids []string) error
	opts  Options
	clock clockwork.Clock

	mu      sync.Mutex
	queue   []*item          // waiting for a call; GUARDED_BY(mu)
	pending map[string]*item // queued or in flight, by ID; GUARDED_BY(mu)
	urgent  bool             // someone waits: send without the window; GUARDED_BY(mu)
	closed  bool             // GUARDED_BY(mu)
	gating  int              // items pending behind their gate (EnqueueAfter); GUARDED_BY(mu)
	kick    chan struct{}
	done    chan struct{}
}

type item struct {
	id string
	// failed counts the calls of this ID that failed for a reason that may
	// pass. Only the loop touches it, while the item is out of the queue.
	failed int
	// cbs get the outcome; Enqueue adds to them under Deleter.mu while the
	// item is pending, and send calls them once it is not.
	cbs      []func(error)
	finished chan struct{}
	err      error // set before finished is closed
}

// New starts a Deleter that deletes through del, which deletes all of ids
// or fails (a store.Backend's Delete).
func New(del func(ctx context.Context, ids []string) error, o Options) *Deleter {
	if o.Window <= 0 {
		o.Window = config.Default().Delete.Window
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 2 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Backoff == (backoff.Policy{}) {
		o.Backoff = DefaultBackoff
	}
	d := &Deleter{del: del, opts: o, clock: o.Clock, pending: map[string]*item{},
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	go d.loop()
	return d
}

// Enqueue queues id for deletion; done (may be nil) gets the outcome.
// An ID already queued is not queued twice.
func (d *Deleter) Enqueue(id string, done func(error)) {
	d.mu.Lock()
	if it, ok := d.pending[id]; ok {
		if done != nil {
			it.cbs = append(it.cbs, done)
		}
		d.mu.Unlock()
		return
	}
	it := &item{id: id, finished: make(chan struct{})}
	if done != nil {
		it.cbs = append(it.cbs, done)
	}
	d.pending[id] = it
	d.mu.Unlock()
	d.queueItem(it)
}

// EnqueueAfter is Enqueue for an ID that may be sent only once gate
// returns nil: id is pending at once (Pending, Wait, Flush and Close see
// it), and is journaled and queued when gate passes. When gate fails, that
// error is id's outcome and nothing is sent. An ID already pending takes
// done and ignores gate.
func (d *Deleter) EnqueueAfter(id string, gate func(ctx context.Context) error, done func(error)) {
	d.mu.Lock()
	if it, ok := d.pending[id]; ok {
		if done != nil {
			it.cbs = append(it.cbs, done)
		}
		d.mu.Unlock()
		return
	}
	it := &item{id: id, finished: make(chan struct{})}
	if done != nil {
		it.cbs = append(it.cbs, done)
	}
	d.pending[id] = it
	d.gating++
	d.mu.Unlock()
	go func() {
		err := gate(context.Background())
		if err == nil {
			d.mu.Lock()
			d.gating--
			d.mu.Unlock()
			d.queueItem(it)
			return
		}
		d.mu.Lock()
		d.gating--
		delete(d.pending, id)
		it.err = err
		d.signal() // Close may wait for the last gate
		d.mu.Unlock()
		close(it.finished)
		for _, cb := range it.cbs {
			cb(err)
		}
	}()
}

// queueItem journals a pending item and queues it for a call.
func (d *Deleter) queueItem(it *item) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if j := d.opts.Journal; j != nil {
		if err := j.AddDeletes([]string{it.id}, false); err != nil {
			d.opts.Logger.Warn("journal: recording a delete", "id", it.id, "err", err)
		}
	}
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
	return d.await(ctx, id, true)
}

// Await waits for the outcome of id's call, sent in its own time (unlike
// Wait, it does not hurry it); nil if id is not pending.
func (d *Deleter) Await(ctx context.Context, id string) error {
	return d.await(ctx, id, false)
}

func (d *Deleter) await(ctx context.Context, id string, hurry bool) error {
	d.mu.Lock()
	it, ok := d.pending[id]
	if ok && hurry {
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
	items := make([]*item, 0, len(d.pending))
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
			if d.closed && d.gating == 0 {
				d.mu.Unlock()
				return
			}
			d.mu.Unlock()
			<-d.kick
			d.mu.Lock()
		}
		urgent := d.urgent || d.closed
		select { // a kick sent so far is in what was just read: gather need not see it
		case <-d.kick:
		default:
		}
		d.mu.Unlock()
		if !urgent {
			d.gather()
		}
		d.mu.Lock()
		n := min(len(d.queue), d.opts.Batch)
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
	start := d.clock.Now()
	t := d.clock.NewTimer(d.opts.Window)
	defer t.Stop()
	for {
		select {
		case <-t.Chan():
			return
		case <-d.kick:
			d.mu.Lock()
			urgent := d.urgent || d.closed || len(d.queue) >= d.opts.Batch
			d.mu.Unlock()
			if urgent {
				return
			}
			if d.clock.Since(start)+d.opts.Window <= maxGatherWindows*d.opts.Window {
				t.Reset(d.opts.Window)
			}
		}
	}
}

// maxGatherWindows bounds how long gather waits for a burst to end.
const maxGatherWindows = 10

// worthAnotherRound tells whether a call that failed with err may succeed
// when tried again later.
func worthAnotherRound(err error) bool {
	return errors.Is(err, store.ErrTemporary) || errors.Is(err, context.DeadlineExceeded)
}

func (d *Deleter) send(batch []*item) {
	if j := d.opts.Journal; j != nil {
		if err := j.SyncDeletes(); err != nil {
			d.opts.Logger.Warn("journal: syncing deletes", "err", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.opts.CallTimeout)
	err := d.del(ctx, idsOf(batch))
	cancel()
	if err != nil && worthAnotherRound(err) {
		// Rounds are counted per ID: a batch mixes fresh IDs and retried ones.
		var again, last []*item
		for _, it := range batch {
			it.failed++
			if d.opts.Backoff.Exhausted(it.failed) {
				last = append(last, it)
			} else {
				again = append(again, it)
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

func idsOf(batch []*item) []string {
	ids := make([]string, len(batch))
	for i, it := range batch {
		ids[i] = it.id
	}
	return ids
}

// retryLater queues failed IDs again after the backoff of the most rounds
// any of them has had. The IDs stay pending (and journaled).
func (d *Deleter) retryLater(batch []*item, err error) {
	failed := 0
	for _, it := range batch {
		failed = max(failed, it.failed)
	}
	wait := d.opts.Backoff.Delay(failed - 1)
	d.opts.Logger.Warn("delete call failed; will try again", "ids", len(batch), "in", wait, "err", err)
	d.clock.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.queue = append(d.queue, batch...)
		d.urgent = true
		d.signal()
	})
}
