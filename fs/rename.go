package fs

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/pan123fs/pan123fs/store"
)

var _ = (fs.NodeRenamer)((*dirNode)(nil))

// renameat2's flags.
const (
	renameNoReplace = 1
	renameExchange  = 2
	renameWhiteout  = 4
)

// Rename maps rename(2) onto the backend's Rename:
//   - a synced file or a folder: the backend renames or moves it; when that
//     made a new entry (a service without a rename call copies), the old
//     one is deleted through the delete queue;
//   - a file not uploaded yet (or changed since): renamed locally, uploaded
//     once under its final name.
//
// An existing target is deleted first (a folder only if empty, hidden
// entries counted). RENAME_EXCHANGE and RENAME_WHITEOUT are refused
// (EINVAL): neither can be done atomically over a store's calls.
//
// The kernel holds the locks of both folders while it asks, so only one
// folder lock is taken here at a time, and none across a call to the backend.
func (d *dirNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if d.fsys.opts.ReadOnly {
		return syscall.EROFS
	}
	if flags&(renameExchange|renameWhiteout) != 0 {
		return syscall.EINVAL
	}
	ctx, cancel := d.fsys.changeCtx(ctx)
	defer cancel()
	nd, ok := newParent.(*dirNode)
	if !ok {
		return syscall.EXDEV
	}
	if err := d.fsys.backend.CheckName(newName); err != nil {
		return d.fsys.toErrno("rename", newName, err)
	}
	if err := nd.refuseTrash("rename", newName); err != nil {
		return d.fsys.toErrno("rename", newName, err)
	}
	if err := d.load(ctx); err != nil {
		return d.fsys.toErrno("rename", name, err)
	}
	d.mu.Lock()
	src := d.children[name]
	d.mu.Unlock()
	var err error
	switch s := src.(type) {
	case nil:
		return syscall.ENOENT
	case *fileNode:
		err = d.renameFile(ctx, s, name, nd, newName, flags)
	case *dirNode:
		err = d.renameDir(ctx, s, name, nd, newName, flags)
	}
	if err != nil {
		return d.fsys.toErrno("rename", name, err)
	}
	return 0
}

// target looks up what newName holds in nd and checks it may be replaced by
// a file (isDir false) or a folder.
func (nd *dirNode) target(ctx context.Context, newName string, src node, isDir bool, flags uint32) (node, error) {
	if err := nd.load(ctx); err != nil {
		return nil, err
	}
	nd.mu.Lock()
	dst := nd.children[newName]
	nd.mu.Unlock()
	if dst == nil || dst == src {
		return dst, nil
	}
	if flags&renameNoReplace != 0 {
		return nil, syscall.EEXIST
	}
	dd, dstIsDir := dst.(*dirNode)
	switch {
	case dstIsDir && !isDir:
		return nil, syscall.EISDIR
	case !dstIsDir && isDir:
		return nil, syscall.ENOTDIR
	case dstIsDir:
		if err := dd.load(ctx); err != nil {
			return nil, err
		}
		if err := dd.emptyOnService(ctx); err != nil {
			return nil, err
		}
		dd.mu.Lock()
		defer dd.mu.Unlock()
		if len(dd.children) > 0 {
			return nil, syscall.ENOTEMPTY
		}
		if err := dd.hiddenErrLocked("rename over"); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// makeRoom readies newName in nd to receive src: an entry there is checked
// and deleted, and a queued delete of that name is sent. same reports that
// newName already is src.
func (nd *dirNode) makeRoom(ctx context.Context, newName string, src node, isDir bool, flags uint32) (same bool, err error) {
	dst, err := nd.target(ctx, newName, src, isDir, flags)
	if err != nil || dst == src {
		return dst == src, err
	}
	if dst != nil {
		if err := nd.fsys.removeTarget(ctx, dst); err != nil {
			return false, err
		}
	}
	return false, nd.clearDeleting(ctx, newName)
}

// removeTarget deletes the entry a rename replaces, before the new one
// takes its name (a store may refuse two entries of one name). The target is
// unlinked locally only once the service has deleted it: a refused delete fails
// the rename and leaves the target as it was, new content not uploaded yet
// included. A file target's uploadMu keeps its own upload from putting a new
// entry under the name between the two. Handles that still read the target
// get its content copied into the spool first.
func (f *FS) removeTarget(ctx context.Context, dst node) error {
	switch t := dst.(type) {
	case *fileNode:
		if err := t.uploadMu.Lock(ctx); err != nil {
			return err
		}
		defer t.uploadMu.Unlock()
		if err := t.keepForReaders(ctx); err != nil {
			return err
		}
		id := t.remoteID()
		if err := f.deleteNow(ctx, id); err != nil {
			return err
		}
		_, _, tk := t.markUnlinked()
		t.settle(tk, "removing the record of a replaced file")
		f.forgetContent(t, id)
	case *dirNode:
		if err := f.deleteNow(ctx, t.remoteID()); err != nil {
			return err
		}
		t.mu.Lock()
		t.removed = true
		t.mu.Unlock()
	}
	return nil
}

// deleteNow deletes id ("": nothing on the service) with one call, now.
func (f *FS) deleteNow(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	return f.backend.Delete(ctx, []string{id})
}

func (d *dirNode) renameFile(ctx context.Context, s *fileNode, name string, nd *dirNode, newName string, flags uint32) error {
	if err := s.uploadMu.Lock(ctx); err != nil {
		return err
	}
	defer s.uploadMu.Unlock()
	if same, err := nd.makeRoom(ctx, newName, s, false, flags); err != nil || same {
		return err
	}

	s.mu.Lock()
	synced := s.id != "" && !s.dirty
	id, entry := s.id, s.entry
	s.mu.Unlock()
	var made *store.Entry
	if synced {
		// Not synced: not on the service yet (or changed since), so
		// uploaded under its final name at the next flush; a stale remote
		// version is replaced by then.
		entry.Name = name
		e, err := d.fsys.backend.Rename(ctx, entry, nd.remoteID(), newName)
		if err != nil {
			return err
		}
		made = &e
	}

	d.mu.Lock()
	if d.children[name] == s {
		d.setChildLocked(name, nil)
	}
	if made != nil && made.ID != id {
		d.queueDeleteLocked(name, id, nil)
	}
	d.mtime = time.Now()
	d.mu.Unlock()

	s.mu.Lock()
	s.parent, s.name = nd, newName
	if made != nil {
		s.id, s.entry = made.ID, *made
	}
	s.mu.Unlock()

	nd.mu.Lock()
	nd.setChildLocked(newName, s)
	nd.mtime = time.Now()
	nd.mu.Unlock()
	s.rejournal()
	if d.fsys.opts.WriteBack && !synced {
		d.fsys.queue.requeue(s, d.fsys.opts.WriteBackDelay)
	}
	return nil
}

func (d *dirNode) renameDir(ctx context.Context, s *dirNode, name string, nd *dirNode, newName string, flags uint32) error {
	if same, err := nd.makeRoom(ctx, newName, s, true, flags); err != nil || same {
		return err
	}
	oldID := s.remoteID()
	made, err := d.fsys.backend.Rename(ctx, store.Entry{ID: oldID, Parent: d.remoteID(), Name: name, Folder: true},
		nd.remoteID(), newName)
	if err != nil {
		return err
	}
	newID := ""
	if made.ID != oldID {
		newID = made.ID
	}

	d.mu.Lock()
	if d.children[name] == s {
		d.setChildLocked(name, nil)
	}
	if newID != "" {
		d.queueDeleteLocked(name, oldID, nil)
	}
	d.mtime = time.Now()
	d.mu.Unlock()

	if newID != "" {
		s.setID(newID)
	}
	s.relocate(nd, newName)

	nd.mu.Lock()
	nd.setChildLocked(newName, s)
	nd.mtime = time.Now()
	nd.mu.Unlock()
	for _, n := range d.fsys.pendingNodes() {
		if n.under(s) {
			n.rejournal()
		}
	}
	return nil
}
