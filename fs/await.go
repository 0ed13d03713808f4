package fs

import (
	"context"
	"errors"
	"time"

	"github.com/pan123fs/pan123fs/spool"
)

// errUploadStalled: a close or fsync stopped waiting for an upload that
// sent nothing for the operation time limit. The upload, journaled, goes
// on in the background; errno.go maps it to EIO.
var errUploadStalled = errors.New("the service took nothing within the time limit; the upload goes on in the background (see pan123fs status)")

// uploadMark is what shows that an upload moves on.
type uploadMark struct {
	done     int64
	beats    uint64
	attempts int
	state    spool.State
}

func (n *fileNode) mark() uploadMark {
	n.mu.Lock()
	defer n.mu.Unlock()
	return uploadMark{n.done, n.beats, n.attempts, n.state}
}

// awaitUpload uploads the file now (uploadOrRetry) and waits for the outcome,
// but not for ever: the caller is let go when the upload moves on for none
// of the operation time limit (EIO). The upload itself is not abandoned: it
// runs on in the background, and a failure that may pass is retried from
// the journal like any other. The kernel's interrupts are not honoured
// here: close(2) failing with EINTR (whenever the closing thread gets any
// signal, SIGCHLD included) is what applications handle worst.
func (n *fileNode) awaitUpload() error {
	res := make(chan error, 1)
	go func() { res <- n.uploadOrRetry(context.Background()) }()
	limit := n.fsys.opts.OpTimeout
	clock := n.fsys.clock
	tick := clock.NewTicker(max(limit/8, 10*time.Millisecond))
	defer tick.Stop()
	last, lastAt := n.mark(), clock.Now()
	for {
		select {
		case err := <-res:
			return err
		case now := <-tick.Chan():
			if m := n.mark(); m != last {
				last, lastAt = m, now
			} else if now.Sub(lastAt) >= limit {
				return errUploadStalled
			}
		}
	}
}
