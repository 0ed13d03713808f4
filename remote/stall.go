package remote

import (
	"io"
	"sync/atomic"
	"time"
)

// watchdog calls cancel when nobody kicks it for d. It guards streaming
// bodies, which have no overall timeout: a transfer may take hours, but
// must not sit still.
type watchdog struct {
	t     *time.Timer
	d     time.Duration
	fired atomic.Bool
}

func newWatchdog(d time.Duration, cancel func()) *watchdog {
	w := &watchdog{d: d}
	w.t = time.AfterFunc(d, func() {
		w.fired.Store(true)
		cancel()
	})
	return w
}

func (w *watchdog) kick() { w.t.Reset(w.d) }
func (w *watchdog) stop() { w.t.Stop() }

// kickReader kicks its watchdog on every read of a request body, so a PUT
// is aborted when the connection stops taking bytes, or when the answer
// does not come within d of the last byte.
type kickReader struct {
	r   io.Reader
	dog *watchdog
}

func (k *kickReader) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	k.dog.kick()
	return n, err
}
