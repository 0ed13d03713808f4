package fs

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/spool"
)

// Status is the mount's pending work, as `pan123fs status` shows it.
type Status struct {
	// Service is the backend's name ("123pan image host").
	Service        string      `json:"service"`
	Items          []Item      `json:"items"`
	Recovered      []Recovered `json:"recovered,omitempty"`
	DeletesPending int         `json:"deletesPending"`
	SpoolBytes     int64       `json:"spoolBytes"`
	// Account is the last user/info answer (account.go); nil before one came.
	Account *AccountStatus `json:"account,omitempty"`
	// Rejected are the paths of the images moderation rejected, among the
	// files the mount has seen (rejected.go).
	Rejected []string `json:"rejected,omitempty"`
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

// Status reports the files on their way to the service and the deletes queued.
func (f *FS) Status() Status {
	st := Status{Service: f.backend.Name(), SpoolBytes: f.spool.Used(), Account: f.acct.status(), Rejected: f.rejected()}
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
