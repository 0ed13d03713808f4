package fs

import (
	"context"
)

// Deletes that wait for readers.
//
// A file unlinked while open stays readable to the handles that have it,
// as on a local disk. When those handles read it from the service (the mount
// has no local copy), its delete call waits for their last close: the
// name goes at once, the entry stays on the service until then. The ID is
// journaled as a pending delete at once, so a crash before the close still
// deletes it at the next start. If a new entry needs the name on the service
// before the readers close (a file of the same name is uploaded, or the
// folder is listed by a rename), the rest of the content is first copied
// into the spool for the readers, then the delete goes out.

// waitingDelete is a delete waiting for the last close of n.
type waitingDelete struct {
	n    *fileNode
	done func(error) // what follows the delete (dirNode.deleteDone)
}

// deferDeleteLocked queues the delete of file n (ID id, named name)
// for when its last handle closes.
//
// call with d.mu held
func (d *dirNode) deferDeleteLocked(name, id string, n *fileNode) {
	d.markDeletingLocked(name, id)
	done := d.deleteDone(name, id, n)
	f := d.fsys
	n.mu.Lock()
	open := n.handles > 0
	if open {
		f.defMu.Lock()
		f.waiting[id] = &waitingDelete{n: n, done: done}
		f.defMu.Unlock()
	}
	n.mu.Unlock()
	if !open { // closed meanwhile
		f.deleter.Enqueue(id, done)
		return
	}
	if f.journal != nil {
		if err := f.journal.AddDeletes([]string{id}, false); err != nil {
			f.log.Warn("journal: recording a delete that waits for readers", "id", id, "err", err)
		}
	}
	f.log.Debug("delete waits for the file's readers to close", "name", name, "id", id)
}

// deleteWaits tells whether id's delete waits for readers.
func (f *FS) deleteWaits(id string) bool {
	f.defMu.Lock()
	defer f.defMu.Unlock()
	return f.waiting[id] != nil
}

// takeDeferred removes and returns id's waiting delete, if any.
func (f *FS) takeDeferred(id string) *waitingDelete {
	f.defMu.Lock()
	defer f.defMu.Unlock()
	dd := f.waiting[id]
	delete(f.waiting, id)
	return dd
}

// releaseDeferred sends the delete that waited for n's readers, once the
// last handle is gone. Called without n.mu.
func (f *FS) releaseDeferred(n *fileNode) {
	n.mu.Lock()
	id, open := n.id, n.handles > 0
	n.mu.Unlock()
	if open || id == "" {
		return
	}
	if dd := f.takeDeferred(id); dd != nil {
		f.deleter.Enqueue(id, dd.done)
	}
}

// waitDeleted waits until the service has deleted id. A delete that waits for
// readers goes out now, once their content is safe in the spool.
func (f *FS) waitDeleted(ctx context.Context, id string) error {
	f.defMu.Lock()
	dd := f.waiting[id]
	f.defMu.Unlock()
	if dd != nil {
		if err := dd.n.keepForReaders(ctx); err != nil {
			return err
		}
		if dd = f.takeDeferred(id); dd != nil {
			f.deleter.Enqueue(id, dd.done)
		}
	}
	return f.deleter.Wait(ctx, id)
}

// keepForReaders copies the remote content of an open file into the spool,
// so that its handles can go on reading it once the service no longer has it.
func (n *fileNode) keepForReaders(ctx context.Context) error {
	n.mu.Lock()
	need := n.handles > 0 && n.data == nil && n.id != ""
	n.mu.Unlock()
	if !need {
		return nil
	}
	return n.copyToSpool(ctx, false)
}
