package wechat

import (
	"sync/atomic"
	"time"
)

// watchdog calls cancel when nobody kicks it for d. It guards streaming
// bodies (an upload's, a download's), which have no overall timeout: a
// transfer may take hours, but must not sit still. (remote/stall.go is
// its 123pan twin.)
type watchdog struct {
	t    *time.Timer
	d    time.Duration
	gone atomic.Bool
}

func newWatchdog(d time.Duration, cancel func()) *watchdog {
	w := &watchdog{d: d}
	w.t = time.AfterFunc(d, func() {
		w.gone.Store(true)
		cancel()
	})
	return w
}

func (w *watchdog) kick()       { w.t.Reset(w.d) }
func (w *watchdog) stop()       { w.t.Stop() }
func (w *watchdog) fired() bool { return w.gone.Load() }
