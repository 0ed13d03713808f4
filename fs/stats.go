package fs

import (
	"context"
	"sync/atomic"

	"github.com/pan123fs/pan123fs/spool"
)

// counters are the mount's running totals since New, for Stats.
type counters struct {
	uploads, uploadBytes, uploadErrors, retries atomic.Int64
	deleteCalls, deleteErrors                   atomic.Int64
}

// Stats are the filesystem's running totals since New and its queues now:
// what metrics show of the mount itself (the block cache and the backend's
// client have counters of their own).
type Stats struct {
	Uploads        int64 // uploads that succeeded
	UploadBytes    int64 // bytes of the files those uploads put on the service
	UploadFailures int64 // upload attempts that failed
	UploadRetries  int64 // uploads queued again after a failure that may pass
	DeleteCalls    int64 // Backend.Delete calls the delete queue made
	DeleteFailures int64 // of which failed

	// Files not on the service yet, by state now: being written, waiting
	// for an upload, being uploaded, and failed (retried or refused).
	Writing, Pending, Uploading, Failed int
	DeletesQueued                       int   // deletes journaled and not done
	SpoolBytes                          int64 // bytes the spool holds
}

// Stats counts without building paths, so that a scrape is cheap.
func (f *FS) Stats() Stats {
	st := Stats{
		Uploads: f.counters.uploads.Load(), UploadBytes: f.counters.uploadBytes.Load(),
		UploadFailures: f.counters.uploadErrors.Load(), UploadRetries: f.counters.retries.Load(),
		DeleteCalls: f.counters.deleteCalls.Load(), DeleteFailures: f.counters.deleteErrors.Load(),
		SpoolBytes: f.spool.Used(),
	}
	if f.journal != nil {
		st.DeletesQueued = len(f.journal.PendingDeletes())
	}
	for _, n := range f.pendingNodes() {
		n.mu.Lock()
		state := n.state
		if n.jstate == spool.Writing && state != spool.Uploading { // as Status shows it
			state = spool.Writing
		}
		n.mu.Unlock()
		switch state {
		case spool.Writing:
			st.Writing++
		case spool.Uploading:
			st.Uploading++
		case spool.Failed:
			st.Failed++
		default:
			st.Pending++
		}
	}
	st.Pending += f.deferredCount()
	return st
}

// countDeletes wraps the backend's Delete so that Stats counts its calls.
func (f *FS) countDeletes(del func(ctx context.Context, ids []string) error) func(ctx context.Context, ids []string) error {
	return func(ctx context.Context, ids []string) error {
		err := del(ctx, ids)
		f.counters.deleteCalls.Add(1)
		if err != nil {
			f.counters.deleteErrors.Add(1)
		}
		return err
	}
}
