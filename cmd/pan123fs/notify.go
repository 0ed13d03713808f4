package main

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	pfs "github.com/pan123fs/pan123fs/fs"
	"github.com/pan123fs/pan123fs/spool"
)

// statusEvery is how often a mount run by systemd (Type=notify) refreshes
// the STATUS= line `systemctl status` shows.
const statusEvery = 5 * time.Second

// notifier tells systemd how the mount is doing, over the datagram socket
// that NOTIFY_SOCKET names (a path, or an abstract name starting with @):
// READY=1 once the mount is in the mount table, STATUS= with the uploads
// and deletes not done yet, STOPPING=1 when unmounting and draining begin.
// A nil *notifier (no NOTIFY_SOCKET) does nothing.
type notifier struct {
	log  *slog.Logger
	stop chan struct{} // closed by stopping; ends the STATUS refresh
	once sync.Once     // stopping is sent once
}

// newNotifier returns the notifier for systemd, or nil when the process is
// not run by a service manager that listens (no NOTIFY_SOCKET).
func newNotifier(log *slog.Logger) *notifier {
	if os.Getenv("NOTIFY_SOCKET") == "" {
		return nil
	}
	return &notifier{log: log, stop: make(chan struct{})}
}

// send writes one datagram; a failure is logged, never fatal: the mount
// works whether or not systemd hears of it.
func (n *notifier) send(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		n.log.Warn("telling systemd failed", "err", err, "state", state)
	}
}

// ready says READY=1 with a first STATUS=, and refreshes STATUS= every
// statusEvery from fsys until stopping.
func (n *notifier) ready(mnt string, fsys *pfs.FS) {
	if n == nil {
		return
	}
	n.send("READY=1\nSTATUS=" + statusLine(mnt, fsys.Status()))
	go func() {
		t := time.NewTicker(statusEvery)
		defer t.Stop()
		for {
			select {
			case <-n.stop:
				return
			case <-t.C:
				n.send("STATUS=" + statusLine(mnt, fsys.Status()))
			}
		}
	}()
}

// stopping says STOPPING=1: unmounting and draining begin, and the STATUS=
// refresh ends.
func (n *notifier) stopping(mnt string) {
	if n == nil {
		return
	}
	n.once.Do(func() {
		close(n.stop)
		n.send("STOPPING=1\nSTATUS=unmounting " + mnt + "; finishing queued deletes")
	})
}

// statusLine sums up the work not done yet, e.g.
// "mounted at /mnt/img; uploads pending 2, failed 1; deletes queued 3".
func statusLine(mnt string, st pfs.Status) string {
	var pending, failed int
	for _, it := range st.Items {
		if it.State == spool.Failed {
			failed++
		} else {
			pending++
		}
	}
	if pending == 0 && failed == 0 && st.DeletesPending == 0 {
		return "mounted at " + mnt + "; everything is on " + serviceName(st)
	}
	return fmt.Sprintf("mounted at %s; uploads pending %d, failed %d; deletes queued %d", mnt, pending, failed, st.DeletesPending)
}
