package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	pfs "github.com/pan123fs/pan123fs/fs"
)

// The control socket: a mount serves its status and a sync barrier over
// HTTP on a unix socket (mode 0600) in its state directory. The root of the
// mount names the socket in its user.pan123.control attribute, which is how
// `pan123fs status MOUNTPOINT` finds it.
//
//	GET  /status          → fs.Status as JSON
//	GET  /metrics         → the mount's Prometheus metrics (as --metrics-addr serves them)
//	POST /sync?timeout=D  → 200 once what was pending is on 123pan; 500 with the reason otherwise
//	POST /refresh?path=P[&recursive=1] → fs.Refreshed as JSON once P's folder is listed again (refresh.go)
//	/folder, /offline, /copy          → 123pan's import tasks (tasks_control.go)

const controlXattr = "user.pan123.control"

// serveControl listens on path and serves fsys until the listener closes;
// each of routes adds its own handlers.
func serveControl(path string, fsys *pfs.FS, metrics http.Handler, log *slog.Logger, routes ...func(*http.ServeMux)) (func(), error) {
	os.Remove(path) // a socket left by a killed mount
	ln, err := listenPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(fsys.Status())
	})
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("POST /sync", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if d, err := time.ParseDuration(r.URL.Query().Get("timeout")); err == nil && d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		if err := fsys.Sync(ctx); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				err = errors.New("timed out; still pending: see pan123fs status")
			}
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("POST /refresh", serveRefresh(fsys))
	for _, add := range routes {
		add(mux)
	}
	srv := &http.Server{Handler: mux}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("control socket stopped", "err", err)
		}
	}()
	return func() { srv.Close(); os.Remove(path) }, nil
}

// umaskMu serializes the umask changes of listenPrivate.
var umaskMu sync.Mutex

// listenPrivate listens on a unix socket at path that is mode 0600 from
// the moment it exists: bind(2) creates it with the process umask, and a
// chmod after Listen would leave a moment when others may connect. The
// umask is process-wide: while it is 0177, files and folders that other
// goroutines create get at most owner permissions. That is harmless here:
// every file and folder this program makes is 0600 or 0700 anyway, and
// the window is one bind(2). umaskMu keeps two calls from restoring each
// other's umask.
func listenPrivate(path string) (net.Listener, error) {
	umaskMu.Lock()
	defer umaskMu.Unlock()
	old := syscall.Umask(0o177)
	defer syscall.Umask(old)
	return net.Listen("unix", path)
}

// controlClient finds the control socket of the mount at mnt.
func controlClient(mnt string) (*http.Client, error) {
	buf := make([]byte, 4096)
	n, err := syscall.Getxattr(mnt, controlXattr, buf)
	if err != nil {
		return nil, fmt.Errorf("%s is not a pan123fs mount (no %s attribute): %w", mnt, controlXattr, err)
	}
	sock := string(buf[:n])
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}, nil
}

// callControl sends method to path (with its query) on the control socket
// of the mount at mnt, with body as JSON unless it is nil. A refusal
// becomes a *controlRefusal naming what (with the mount's own reason); a
// JSON answer is decoded into out unless it is nil.
func callControl(ctx context.Context, mnt, method, path, what string, body, out any) error {
	hc, err := controlClient(mnt)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://pan123fs"+path, rd)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("talking to the mount: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return &controlRefusal{what: what, status: resp.StatusCode, reason: strings.TrimSpace(string(msg))}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("reading the mount's answer to %s: %w", what, err)
	}
	return nil
}

// controlRefusal is a request the mount answered with an error.
type controlRefusal struct {
	what   string // what was asked ("sync")
	status int    // the HTTP status
	reason string // the mount's words
}

func (e *controlRefusal) Error() string { return e.what + ": " + e.reason }
