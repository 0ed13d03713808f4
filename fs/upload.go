package fs

import (
	"context"
	"errors"
	"io"

	"github.com/pan123fs/pan123fs/spool"
	"github.com/pan123fs/pan123fs/store"
)

// ensureData gives the node a spool copy of its content: empty when the
// caller is about to truncate it away, else a copy of the remote content.
//
// It waits for a running upload of the file for the operation time limit
// at most; the copy itself is bounded by its progress (copyRemote).
func (n *fileNode) ensureData(ctx context.Context, empty bool) error {
	lctx, cancel := context.WithTimeout(ctx, n.fsys.opts.OpTimeout)
	err := n.uploadMu.Lock(lctx)
	cancel()
	if err != nil {
		return err
	}
	defer n.uploadMu.Unlock()
	return n.copyToSpool(ctx, empty)
}

// copyToSpool is ensureData for a caller that holds uploadMu, or for a
// file that is no longer uploaded (unlinked).
func (n *fileNode) copyToSpool(ctx context.Context, empty bool) error {
	n.mu.Lock()
	if n.data != nil {
		n.mu.Unlock()
		return nil
	}
	hasRemote := n.id != "" && n.entry.Size > 0
	n.mu.Unlock()

	data, err := n.fsys.spool.Create()
	if err != nil {
		return err
	}
	if !empty && hasRemote {
		if err := n.copyRemote(ctx, data); err != nil {
			data.Remove()
			return err
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.data != nil {
		data.Remove()
		return nil
	}
	n.data = data
	return nil
}

// copyRemote copies the node's remote content into a spool file through
// the block cache.
//
// It is bounded by progress, not in all: each 1 MiB must come within the
// operation time limit (a large file may take longer in all).
func (n *fileNode) copyRemote(ctx context.Context, dst *spool.File) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	idle := n.fsys.clock.AfterFunc(n.fsys.opts.OpTimeout, cancel)
	defer idle.Stop()
	key, size, fetch := n.source()
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; {
		cnt, err := n.fsys.blocks.ReadAt(ctx, key, size, fetch, buf, off)
		if cnt > 0 {
			if _, werr := dst.WriteAt(buf[:cnt], off); werr != nil {
				return werr
			}
			off += int64(cnt)
			idle.Reset(n.fsys.opts.OpTimeout)
		}
		if err != nil && !(errors.Is(err, io.EOF) && off >= size) {
			return err
		}
		if cnt == 0 && err == nil {
			return io.ErrUnexpectedEOF
		}
	}
	return nil
}

// An upload, top-down:
//
//	closeWrite        close(2) of a writer (Flush); fsync does the same
//	                  through recordComplete and awaitUpload
//	  recordComplete  journals the content as complete (Pending)
//	  awaitUpload     await.go: runs uploadOrRetry, bounded by progress
//	    uploadOrRetry   uploads now; queues a retry if the failure may pass
//	      upload        sends the spool content if it changed since the last
//	                    upload (backend Put), and journals each step
//	  (write-back mode: the upload queue runs upload later, queue.go)

// closeWrite is what close(2) of a writer does: a changed file's data is
// made durable and journaled, then uploaded now (default) or queued
// (write-back). An upload that fails for a reason that may pass is tried
// again in the background; close still reports the failure.
func (n *fileNode) closeWrite(ctx context.Context) error {
	if err := n.discardFailedWrite(); err != nil {
		return err
	}
	n.mu.Lock()
	dirty, data := n.dirty && !n.unlinked, n.data
	var t spool.Ticket
	if !dirty && data != nil && !n.refused {
		t = n.unjournalLocked() // opened for writing, nothing changed
	}
	n.mu.Unlock()
	if !dirty {
		n.settle(t, "removing a record")
		return nil
	}
	if err := n.recordComplete(); err != nil {
		return err
	}
	if n.fsys.opts.WriteBack {
		n.fsys.queue.schedule(n, n.fsys.opts.WriteBackDelay)
		return nil
	}
	return n.awaitUpload()
}

// failedWrite is the error of a write that failed since the content was
// last uploaded: such content is never uploaded (close drops it, see
// discardFailedWrite).
func (n *fileNode) failedWrite() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.writeErr
}

// discardFailedWrite drops the content of a file whose writing failed (a
// full spool, a disk error): it is never uploaded in part. A file that has
// a version on the service shows that version again; a new file
// disappears. It returns the write's error, for close(2) to report.
func (n *fileNode) discardFailedWrite() error {
	n.mu.Lock()
	werr := n.writeErr
	if werr == nil {
		n.mu.Unlock()
		return nil
	}
	n.writeErr = nil
	n.dirty = false
	n.gen++
	t := n.unjournalLocked()
	n.fsys.queue.cancel(n)
	if n.data != nil {
		n.data.Remove()
		n.data = nil
	}
	parent, name, isNew := n.parent, n.name, n.id == ""
	if isNew {
		n.unlinked = true
	}
	n.mu.Unlock()
	n.settle(t, "removing a record")
	n.fsys.log.Warn("writing failed; the incomplete content is dropped, not uploaded", "name", name, "err", werr)
	if isNew {
		parent.mu.Lock()
		if parent.children[name] == n {
			parent.setChildLocked(name, nil)
		}
		parent.mu.Unlock()
		parent.RmChild(name)
		parent.NotifyEntry(name)
	}
	return werr
}

// recordComplete journals the file as complete (Pending). In write-back
// mode, where close returns before the upload, the spool data is fsync'd
// too, alongside the record: close waits for both, and their order does
// not matter, since a record that reached the disk before its data (a
// power loss between the two, before close returned) names an md5 the data
// does not have, and the restart keeps such data aside instead of
// uploading it (recover.go). In the default mode close returns only after
// the upload, so neither the data nor the record need survive a power loss
// before then: the record is written without waiting for the disk (a crash
// of the process keeps it; the next durable journal write takes it to the
// disk).
func (n *fileNode) recordComplete() error {
	n.mu.Lock()
	data := n.data
	n.mu.Unlock()
	if data == nil {
		return nil
	}
	if !n.fsys.opts.WriteBack {
		return n.journal(spool.Pending)
	}
	synced := make(chan error, 1)
	go func() { synced <- data.Sync() }()
	jerr := n.journal(spool.Pending)
	return errors.Join(<-synced, jerr)
}

// uploadOrRetry uploads at once (close in the default mode, fsync); on a
// failure that may pass, the queue tries again later.
func (n *fileNode) uploadOrRetry(ctx context.Context) error {
	n.fsys.queue.cancel(n)
	err := n.upload(ctx)
	if err != nil && !store.IsPermanent(err) {
		n.fsys.queue.schedule(n, n.fsys.queue.retry.Delay(0))
	}
	return err
}

// upload sends the node's spool content if it changed since the last
// upload. It returns only when the service holds the content, or the
// reason it does not. The journal follows each step.
func (n *fileNode) upload(ctx context.Context) error {
	if err := n.uploadMu.Lock(ctx); err != nil {
		return err
	}
	defer n.uploadMu.Unlock()
	path := n.path()
	n.mu.Lock()
	if !n.dirty || n.unlinked || n.data == nil {
		n.mu.Unlock()
		return nil
	}
	gen, data, parent, name, oldID, resume := n.gen, n.data, n.parent, n.name, n.id, n.resume
	n.state, n.done, n.refused = spool.Uploading, 0, false
	n.mu.Unlock()

	started, progress := n.uploadHooks(path)
	res, err := n.fsys.put(ctx, parent, name, oldID, data, resume, started, progress)
	for _, id := range res.Leftovers {
		n.fsys.deleter.Enqueue(id, nil)
	}
	if err != nil {
		n.fsys.counters.uploadErrors.Add(1)
	} else {
		n.fsys.counters.uploads.Add(1)
		n.fsys.counters.uploadBytes.Add(data.Size())
		n.keepUploaded(gen, res.Entry, data)
	}
	n.mu.Lock()
	if err != nil {
		n.lastErr = err
		n.state = spool.Failed
		state := spool.Pending
		if n.resume != "" {
			state = spool.Uploading
		}
		if store.IsPermanent(err) {
			n.refused, state = true, spool.Failed
		}
		t, jerr := n.journalLocked(path, state, false)
		n.mu.Unlock()
		if jerr != nil {
			n.fsys.log.Warn("journal: recording a failed upload", "path", path, "err", jerr)
		} else {
			n.settle(t, "recording a failed upload")
		}
		return err
	}
	n.resume = ""
	if n.unlinked {
		n.mu.Unlock()
		n.fsys.deleter.Enqueue(res.Entry.ID, nil)
		return nil
	}
	n.id, n.entry, n.lastErr, n.attempts = res.Entry.ID, res.Entry, nil, 0
	var t spool.Ticket
	if n.gen == gen {
		n.dirty = false
		n.state = spool.Synced
		t = n.unjournalLocked()
		n.dropDataLocked()
	}
	n.mu.Unlock()
	n.settle(t, "removing a record")
	return nil
}

// uploadHooks connect an upload of the file at path to the journal (a
// resume token is recorded as it is handed out) and to status (progress).
func (n *fileNode) uploadHooks(path string) (started func(string), progress func(int64)) {
	started = func(token string) {
		n.mu.Lock()
		n.resume = token
		t, err := n.journalLocked(path, spool.Uploading, false)
		n.mu.Unlock()
		if err != nil {
			n.fsys.log.Warn("journal: recording an upload", "path", path, "err", err)
			return
		}
		n.settle(t, "recording an upload")
	}
	progress = func(done int64) {
		n.mu.Lock()
		n.done = done
		n.beats++
		n.mu.Unlock()
	}
	return started, progress
}

// keepUploaded puts the content just uploaded as e into the block cache
// (content.go), unless the file changed since generation gen: then the
// spool no longer holds what was uploaded, and what was put is taken back.
func (n *fileNode) keepUploaded(gen uint64, e store.Entry, data *spool.File) {
	changed := func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.gen != gen
	}
	if changed() {
		return
	}
	n.fsys.writeThrough(e.ID, e.MD5, data)
	if changed() {
		n.fsys.blocks.Forget(contentKey(e.ID, e.MD5, e.Size))
	}
}

// put stores data under parent/name, replacing the remote version oldID
// if there is one, resuming the upload of token where the service still
// knows it. A delete of that name this mount queued is sent first: the
// name must be free when the service keeps names unique.
func (f *FS) put(ctx context.Context, parent *dirNode, name, oldID string, data *spool.File, token string,
	started func(string), progress func(int64)) (store.PutResult, error) {
	sum, err := data.MD5()
	if err != nil {
		return store.PutResult{}, err
	}
	if err := parent.clearDeleting(ctx, name); err != nil {
		return store.PutResult{}, err
	}
	return f.backend.Put(ctx, store.PutRequest{Parent: parent.remoteID(), Name: name, Replaces: oldID,
		Content: data, Size: data.Size(), MD5: sum, Resume: token, Started: started, Progress: progress})
}

// link returns the node's entry with its download link, asking the
// backend (Stat) when the entry came from an upload.
func (n *fileNode) link(ctx context.Context) (store.Entry, error) {
	n.mu.Lock()
	id, e := n.id, n.entry
	n.mu.Unlock()
	if e.Link == "" && id != "" {
		d, err := n.fsys.backend.Stat(ctx, id)
		if err != nil {
			return store.Entry{}, err
		}
		n.mu.Lock()
		if n.id == id {
			n.entry = d
		}
		n.mu.Unlock()
		e = d
	}
	return e, nil
}
