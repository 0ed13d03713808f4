package fs

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pan123fs/pan123fs/spool"
)

// Status is the mount's pending work, as `pan123fs status` shows it.
type Status struct {
	Items          []Item      `json:"items"`
	Recovered      []Recovered `json:"recovered,omitempty"`
	DeletesPending int         `json:"deletesPending"`
	SpoolBytes     int64       `json:"spoolBytes"`
	// Account is the last user/info answer (account.go); nil before one came.
	Account *AccountStatus `json:"account,omitempty"`
}

// Item is one file not yet on the service.
type Item struct {
	Path     string      `json:"path"`
	State    spool.State `json:"state"` // Writing, Pending, Uploading or Failed
	Size     int64       `json:"size"`
	Done     int64       `json:"done"` // bytes of the running upload sent
	Attempts int         `json:"attempts,omitempty"`
	Error    string      `json:"error,omitempty"`
}

// counters are the mount's running totals, for /metrics.
type counters struct {
	uploads, uploadBytes, uploadErrors, retries atomic.Int64
}

// Metrics writes Prometheus text-format counters: queue length, uploads,
// bytes uploaded, failed attempts, retries, deletes queued, spool bytes.
func (f *FS) Metrics(w io.Writer) {
	st := f.Status()
	fmt.Fprintf(w, "# TYPE pan123fs_pending_files gauge\npan123fs_pending_files %d\n", len(st.Items))
	fmt.Fprintf(w, "# TYPE pan123fs_deletes_pending gauge\npan123fs_deletes_pending %d\n", st.DeletesPending)
	fmt.Fprintf(w, "# TYPE pan123fs_spool_bytes gauge\npan123fs_spool_bytes %d\n", st.SpoolBytes)
	fmt.Fprintf(w, "# TYPE pan123fs_uploads_total counter\npan123fs_uploads_total %d\n", f.counters.uploads.Load())
	fmt.Fprintf(w, "# TYPE pan123fs_upload_bytes_total counter\npan123fs_upload_bytes_total %d\n", f.counters.uploadBytes.Load())
	fmt.Fprintf(w, "# TYPE pan123fs_upload_errors_total counter\npan123fs_upload_errors_total %d\n", f.counters.uploadErrors.Load())
	fmt.Fprintf(w, "# TYPE pan123fs_upload_retries_total counter\npan123fs_upload_retries_total %d\n", f.counters.retries.Load())
}

// Status reports the files on their way to the service and the deletes queued.
func (f *FS) Status() Status {
	st := Status{SpoolBytes: f.spool.Used(), Account: f.acct.status()}
	if f.journal != nil {
		st.DeletesPending = len(f.journal.PendingDeletes())
	}
	for _, n := range f.pendingNodes() {
		path := n.path()
		n.mu.Lock()
		it := Item{Path: path, Size: n.sizeLocked(), Done: n.done, Attempts: n.attempts, State: n.state}
		if n.jstate == spool.Writing {
			it.State = spool.Writing
		}
		if n.state == spool.Uploading {
			it.State = spool.Uploading
		}
		if n.lastErr != nil {
			it.Error = n.lastErr.Error()
		}
		n.mu.Unlock()
		st.Items = append(st.Items, it)
	}
	sort.Slice(st.Items, func(a, b int) bool { return st.Items[a].Path < st.Items[b].Path })
	f.pendMu.Lock()
	st.Recovered = append(st.Recovered, f.recovered...)
	for _, d := range f.deferred {
		st.Items = append(st.Items, Item{Path: d.rec.Path, State: spool.Pending, Size: d.rec.Size,
			Error: "journaled; waiting to be taken up: " + d.err.Error()})
	}
	f.pendMu.Unlock()
	return st
}

// Sync waits until every upload and delete pending when it was called is
// done, and says which failed. Files still open for writing are not waited for.
func (f *FS) Sync(ctx context.Context) error {
	for f.deferredCount() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("journaled files not taken up yet: %w", ctx.Err())
		case <-f.clock.After(200 * time.Millisecond):
		}
	}
	var nodes []*fileNode
	var failed []string
	for _, n := range f.pendingNodes() {
		n.mu.Lock()
		js, refused, dirty := n.jstate, n.refused, n.dirty
		n.mu.Unlock()
		switch {
		case refused:
			failed = append(failed, n.path())
		case dirty && (js == spool.Pending || js == spool.Uploading || js == spool.Failed):
			nodes = append(nodes, n)
			f.queue.schedule(n, 0)
		}
	}
	if err := f.queue.waitFor(ctx, nodes); err != nil {
		return err
	}
	for _, n := range nodes {
		n.mu.Lock()
		left, err := n.dirty && !n.unlinked, n.lastErr
		n.mu.Unlock()
		if left {
			failed = append(failed, fmt.Sprintf("%s (%v)", n.path(), err))
		}
	}
	if err := f.deleter.Flush(ctx); err != nil {
		failed = append(failed, "deletes: "+err.Error())
	}
	if len(failed) > 0 {
		return fmt.Errorf("not on the %s yet: %s", f.backend.Name(), strings.Join(failed, "; "))
	}
	return nil
}
