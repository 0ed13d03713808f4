package fs

import (
	"context"
	"sync"
	"time"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/store"
)

// uploadQueue runs the uploads that are not made inside close(2): files
// closed in write-back mode, files found in the journal at start, and
// uploads that failed and wait for another try. Up to `workers` uploads run
// at once (the backend paces its calls); a failed upload is tried again
// after the retry policy's pause for its attempt count, each attempt
// bounded by attemptTimeout, unless the failure is permanent.
type uploadQueue struct {
	f              *FS
	workers        int
	attemptTimeout time.Duration
	retry          backoff.Policy // the pause before each further attempt

	mu      sync.Mutex
	due     map[*fileNode]time.Time // queued nodes and when they may start; GUARDED_BY(mu)
	running map[*fileNode]bool      // GUARDED_BY(mu)
	waiters []chan struct{}         // closed whenever an upload ends; GUARDED_BY(mu)
	closed  bool                    // GUARDED_BY(mu)
	kick    chan struct{}
	done    chan struct{} // closed by close
	ctx     context.Context
	stop    context.CancelFunc // cancels running uploads at close
	wg      sync.WaitGroup
}

func newUploadQueue(f *FS, workers int) *uploadQueue {
	q := &uploadQueue{f: f, workers: workers, attemptTimeout: 30 * time.Minute, retry: f.opts.UploadRetry,
		due: map[*fileNode]time.Time{}, running: map[*fileNode]bool{}, kick: make(chan struct{}, 1),
		done: make(chan struct{})}
	q.ctx, q.stop = context.WithCancel(context.Background())
	for i := 0; i < workers; i++ {
		q.wg.Add(1)
		go q.worker()
	}
	return q
}

// schedule queues n to start after delay; a node already queued gets the
// new time. A node whose upload runs now is queued again for after it.
func (q *uploadQueue) schedule(n *fileNode, delay time.Duration) {
	q.mu.Lock()
	q.due[n] = q.f.clock.Now().Add(delay)
	q.mu.Unlock()
	q.signal()
}

// requeue restarts the delay of a queued node (renamed before its upload).
func (q *uploadQueue) requeue(n *fileNode, delay time.Duration) {
	q.mu.Lock()
	if _, ok := q.due[n]; ok {
		q.due[n] = q.f.clock.Now().Add(delay)
	}
	q.mu.Unlock()
}

// cancel takes n off the queue (it was reopened, or deleted).
func (q *uploadQueue) cancel(n *fileNode) {
	q.mu.Lock()
	delete(q.due, n)
	q.mu.Unlock()
}

// hurry makes every queued upload due now (unmount, sync).
func (q *uploadQueue) hurry() {
	q.mu.Lock()
	now := q.f.clock.Now()
	for n, at := range q.due {
		if at.After(now) {
			q.due[n] = now
		}
	}
	q.mu.Unlock()
	q.signal()
}

func (q *uploadQueue) signal() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// busy lists the nodes queued or running.
func (q *uploadQueue) busy() []*fileNode {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]*fileNode, 0, len(q.due)+len(q.running))
	for n := range q.due {
		out = append(out, n)
	}
	for n := range q.running {
		if _, queued := q.due[n]; !queued {
			out = append(out, n)
		}
	}
	return out
}

// waitFor blocks until none of nodes is queued or running, or ctx ends.
func (q *uploadQueue) waitFor(ctx context.Context, nodes []*fileNode) error {
	for {
		q.mu.Lock()
		pending := false
		for _, n := range nodes {
			if _, ok := q.due[n]; ok || q.running[n] {
				pending = true
				break
			}
		}
		if !pending {
			q.mu.Unlock()
			return nil
		}
		ch := make(chan struct{})
		q.waiters = append(q.waiters, ch)
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// take returns the next due node, or how long until one is due.
func (q *uploadQueue) take() (*fileNode, time.Duration, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, 0, true
	}
	now := q.f.clock.Now()
	var next *fileNode
	var at time.Time
	for n, t := range q.due {
		if q.running[n] {
			continue
		}
		if next == nil || t.Before(at) {
			next, at = n, t
		}
	}
	if next == nil {
		return nil, time.Hour, false
	}
	if wait := at.Sub(now); wait > 0 {
		return nil, wait, false
	}
	delete(q.due, next)
	q.running[next] = true
	return next, 0, false
}

func (q *uploadQueue) worker() {
	defer q.wg.Done()
	for {
		n, wait, closed := q.take()
		if closed {
			return
		}
		if n == nil {
			t := q.f.clock.NewTimer(wait)
			select {
			case <-q.kick:
			case <-t.Chan():
			case <-q.done:
			}
			t.Stop()
			continue
		}
		q.signal() // another worker may take the next one
		q.run(n)
	}
}

func (q *uploadQueue) run(n *fileNode) {
	ctx, cancel := context.WithTimeout(q.ctx, q.attemptTimeout)
	err := n.upload(ctx)
	cancel()
	retry := err != nil && !store.IsPermanent(err)
	var backoff time.Duration
	if retry {
		q.f.counters.retries.Add(1)
		n.mu.Lock()
		n.attempts++
		backoff = q.retry.Delay(n.attempts - 1)
		n.mu.Unlock()
	}
	q.mu.Lock()
	delete(q.running, n)
	if _, again := q.due[n]; retry && !again && !q.closed {
		q.due[n] = q.f.clock.Now().Add(backoff)
	}
	for _, ch := range q.waiters {
		close(ch)
	}
	q.waiters = nil
	q.mu.Unlock()
	q.signal()
	switch {
	case retry:
		q.f.log.Warn("upload failed; will try again", "path", n.path(), "in", backoff, "err", err)
	case err != nil:
		q.f.log.Error("upload refused for good; the data stays in the spool", "path", n.path(), "err", err)
	}
}

// close stops the workers after their current uploads.
func (q *uploadQueue) close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.done)
	}
	q.mu.Unlock()
	q.stop()
	q.wg.Wait()
}
