package fs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/pan123fs/pan123fs/store"
)

// Account answers are kept Options.AccountRefresh before statfs or status
// asks again, a fetch takes at most accountTimeout, and the first statfs
// waits at most accountFirstWait for the first answer.
const (
	accountTimeout   = 30 * time.Second
	accountFirstWait = 2 * time.Second
)

// accountView keeps the last Usage answer for statfs and status, and
// refreshes it in the background: a reader never waits for the network
// once an answer is known, and mu is never held across the call (a fetch
// runs in its own goroutine; at most one is in flight).
type accountView struct {
	fetch func(context.Context) (store.Usage, error)
	every time.Duration // refresh interval
	clock clockwork.Clock
	log   *slog.Logger
	ctx   context.Context // ends at close: a fetch in flight gives up
	stop  context.CancelFunc

	mu       sync.Mutex
	acct     store.Usage   // GUARDED_BY(mu)
	known    bool          // acct holds an answer; GUARDED_BY(mu)
	tried    time.Time     // when the last fetch started; GUARDED_BY(mu)
	inflight chan struct{} // closed when the fetch in flight ends, nil if none; GUARDED_BY(mu)
	lastErr  error         // why the last fetch failed, nil if it did not; GUARDED_BY(mu)
	warned   time.Time     // the access end last warned about; GUARDED_BY(mu)
}

func newAccountView(fetch func(context.Context) (store.Usage, error), every time.Duration, clock clockwork.Clock, log *slog.Logger) *accountView {
	ctx, stop := context.WithCancel(context.Background())
	return &accountView{fetch: fetch, every: every, clock: clock, log: log, ctx: ctx, stop: stop}
}

// get returns the last answer (ok false: none yet), starting a refresh
// when it is older than the refresh interval. With no answer yet it waits up to
// wait for the refresh to end.
func (v *accountView) get(wait time.Duration) (store.Usage, bool) {
	v.mu.Lock()
	done := v.refreshLocked()
	known := v.known
	v.mu.Unlock()
	if !known && done != nil && wait > 0 {
		t := v.clock.NewTimer(wait)
		select {
		case <-done:
		case <-t.Chan():
		}
		t.Stop()
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.acct, v.known
}

// refresh starts a fetch unless one is in flight or the last started
// less than the refresh interval ago.
func (v *accountView) refresh() {
	v.mu.Lock()
	v.refreshLocked()
	v.mu.Unlock()
}

// refreshLocked is refresh with mu held; it returns the channel of the
// fetch in flight, if any. The fetch itself runs without mu.
func (v *accountView) refreshLocked() chan struct{} {
	if v.inflight != nil || (!v.tried.IsZero() && v.clock.Since(v.tried) < v.every) || v.ctx.Err() != nil {
		return v.inflight
	}
	v.tried = v.clock.Now()
	done := make(chan struct{})
	v.inflight = done
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(v.ctx, accountTimeout)
		a, err := v.fetch(ctx)
		cancel()
		v.mu.Lock()
		v.inflight = nil
		v.tried = v.clock.Now() // the answer's age counts from here
		v.lastErr = err
		var warn string
		if err == nil {
			v.acct, v.known = a, true
			if a.Warning != "" && !a.AccessEnds.Equal(v.warned) {
				v.warned, warn = a.AccessEnds, a.Warning
			}
		}
		v.mu.Unlock()
		switch {
		case err != nil && v.ctx.Err() == nil:
			v.log.Info("account figures not fetched; statfs shows the last known", "err", err)
		case warn != "":
			v.log.Warn(warn, "accessEnds", a.AccessEnds.Format(time.RFC3339))
		}
	}()
	return done
}

// close stops a fetch in flight and any later one.
func (v *accountView) close() { v.stop() }

// AccountStatus is the account as `pan123fs status` shows it: figures of
// the last user/info answer (absent until one came).
type AccountStatus struct {
	Used       int64     `json:"used"`
	Total      int64     `json:"total"`
	Free       int64     `json:"free"`
	Traffic    int64     `json:"directTraffic"` // download traffic left, bytes
	Paid       bool      `json:"member"`
	AccessEnds time.Time `json:"developerEnd,omitzero"` // when API access ends
	// Warning is what the backend says the user must be told (API access
	// ends soon, say); "" otherwise.
	Warning string `json:"warning,omitempty"`
}

// status is the last answer for Status, without waiting; nil if none.
func (v *accountView) status() *AccountStatus {
	a, ok := v.get(0)
	if !ok {
		return nil
	}
	return &AccountStatus{Used: a.Used, Total: a.Total, Free: a.Free(), Traffic: a.Traffic,
		Paid: a.Paid, AccessEnds: a.AccessEnds, Warning: a.Warning}
}
