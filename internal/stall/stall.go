// Package stall guards streaming transfers, which have no overall timeout
// (an upload or a download may take hours) but must not sit still.
package stall

import (
	"sync/atomic"
	"time"
)

// Watchdog calls cancel when nobody kicks it for d.
type Watchdog struct {
	t     *time.Timer
	d     time.Duration
	fired atomic.Bool
}

// New starts a watchdog that calls cancel after d without a Kick.
func New(d time.Duration, cancel func()) *Watchdog {
	w := &Watchdog{d: d}
	w.t = time.AfterFunc(d, func() {
		w.fired.Store(true)
		cancel()
	})
	return w
}

// Kick starts the wait of d again.
func (w *Watchdog) Kick() { w.t.Reset(w.d) }

// Stop stops the wait; a Kick starts it again.
func (w *Watchdog) Stop() { w.t.Stop() }

// Fired tells whether the watchdog called cancel.
func (w *Watchdog) Fired() bool { return w.fired.Load() }
