package fs

import (
	"context"
	"syscall"
)

// A folder another machine (or client) put something into after this
// mount listed it looks empty here until the listing expires, and the
// service's delete of a folder takes what it holds: rmdir, or a rename
// over it, would delete files this mount never showed. So the folder is
// asked afresh whether it holds anything before its delete is sent: for
// rmdir in the delete's gate (deleter.EnqueueAfter), once the deletes of
// what it held here are done (rm -r's), so that the check is one list call
// of an empty folder and rmdir returns at once, as an unlink does; a
// folder found holding something shows again, as an entry whose delete
// failed does. Until then its delete is pending like any other: a new
// entry of its name waits for it, and a listing does not show it again.
// A rename over a folder checks before it goes on.

// emptyOnService answers ENOTEMPTY (and drops the folder's listing, so
// that the next readdir shows what came) when the service lists anything
// in d but entries whose delete is pending (rm -r's); nil when it lists
// nothing else. A folder not on the service yet is empty there.
func (d *dirNode) emptyOnService(ctx context.Context) error {
	id := d.remoteID()
	if id == "" {
		return nil
	}
	f := d.fsys
	for e, err := range f.backend.List(ctx, id) {
		if err != nil {
			return err
		}
		if f.deleter.Pending(e.ID) || f.deleteWaits(e.ID) {
			continue
		}
		f.log.Info("the folder holds entries this mount has not listed yet; not deleted", "folder", d.path())
		d.invalidate()
		return syscall.ENOTEMPTY
	}
	return nil
}

// queueFolderDeleteLocked queues the delete of folder ch, named name in d,
// behind a gate: the deletes of what it held here, then a check that the
// service holds nothing else in it (see above).
//
// call with d.mu held
func (d *dirNode) queueFolderDeleteLocked(name, id string, ch *dirNode) {
	if id == "" {
		return
	}
	d.markDeletingLocked(name, id)
	ch.mu.Lock()
	held := make([]string, 0, len(ch.deleting))
	for _, cid := range ch.deleting {
		held = append(held, cid)
	}
	ch.mu.Unlock()
	f := d.fsys
	gate := func(ctx context.Context) error {
		for _, cid := range held {
			_ = f.deleter.Await(ctx, cid) // one that failed is no longer pending: the check sees it
		}
		return ch.emptyOnService(ctx)
	}
	f.deleter.EnqueueAfter(id, gate, d.deleteDone(name, id, ch))
}
