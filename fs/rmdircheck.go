package fs

import (
	"context"
	"syscall"
)

// A folder another machine (or client) put something into after this
// mount listed it looks empty here until the listing expires, and the
// service's delete of a folder takes what it holds: rmdir, or a rename
// over it, would delete files this mount never showed. So before either,
// the folder is asked afresh whether it holds anything: one list call,
// whatever the age of its listing (another machine may have put a file in
// it a moment ago).

// emptyOnService answers ENOTEMPTY (and drops the folder's listing, so
// that the next readdir shows what came) when the service lists anything
// in d but the entries whose delete this mount has queued (rm -r's); nil
// when it lists nothing else. A folder not on the service yet is empty
// there.
func (d *dirNode) emptyOnService(ctx context.Context) error {
	id := d.remoteID()
	if id == "" {
		return nil
	}
	d.mu.Lock()
	going := make(map[string]bool, len(d.deleting))
	for _, gid := range d.deleting {
		going[gid] = true
	}
	d.mu.Unlock()
	for e, err := range d.fsys.backend.List(ctx, id) {
		if err != nil {
			return err
		}
		if going[e.ID] {
			continue
		}
		d.fsys.log.Info("the folder holds entries this mount has not listed yet; not deleted", "folder", d.path())
		d.invalidate()
		return syscall.ENOTEMPTY
	}
	return nil
}
