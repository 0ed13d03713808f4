package fs

import (
	"context"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/wire"
)

var _ = (fs.NodeRenamer)((*dirNode)(nil))

// renameat2's flags.
const (
	renameNoReplace = 1
	renameExchange  = 2
	renameWhiteout  = 4
)

// Rename maps rename(2) onto the calls 123pan has (it has no rename):
//   - a synced file to another folder under the same name: move (ID and link kept);
//   - a synced file under a new name: create with the same md5 and size (instant),
//     then delete the old entry;
//   - a file not uploaded yet: renamed locally, uploaded once under its final name;
//   - a folder to another folder under the same name: move;
//   - a folder under a new name: mkdir, move the children, delete the old folder.
//
// An existing target is deleted first (a folder only if empty, hidden
// entries counted). RENAME_EXCHANGE and RENAME_WHITEOUT are refused
// (EINVAL): 123pan can do neither.
//
// The kernel holds the locks of both folders while it asks, so only one
// folder lock is taken here at a time, and none across a call to 123pan.
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
	rname, err := remoteName(newName)
	if err != nil {
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
	switch s := src.(type) {
	case nil:
		return syscall.ENOENT
	case *fileNode:
		err = d.renameFile(ctx, s, name, nd, newName, rname, flags)
	case *dirNode:
		err = d.renameDir(ctx, s, name, nd, newName, rname, flags)
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

// makeRoom readies newName (remote name rname) in nd to receive src: an
// entry there is checked and deleted, and a queued delete of that name is
// sent. same reports that newName already is src.
func (nd *dirNode) makeRoom(ctx context.Context, newName, rname string, src node, isDir bool, flags uint32) (same bool, err error) {
	dst, err := nd.target(ctx, newName, src, isDir, flags)
	if err != nil || dst == src {
		return dst == src, err
	}
	if dst != nil {
		if err := nd.fsys.removeTarget(ctx, dst); err != nil {
			return false, err
		}
	}
	return false, nd.clearDeleting(ctx, rname)
}

// removeTarget deletes the entry a rename replaces, before the new one
// takes its name (123pan refuses two entries of one name). The target is
// unlinked locally only once 123pan has deleted it: a refused delete fails
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

// deleteNow deletes id ("": nothing on 123pan) with one call, now.
func (f *FS) deleteNow(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	return f.rc.Delete(ctx, []string{id})
}

func (d *dirNode) renameFile(ctx context.Context, s *fileNode, name string, nd *dirNode, newName, rname string, flags uint32) error {
	if err := s.uploadMu.Lock(ctx); err != nil {
		return err
	}
	defer s.uploadMu.Unlock()
	if same, err := nd.makeRoom(ctx, newName, rname, s, false, flags); err != nil || same {
		return err
	}

	s.mu.Lock()
	synced := s.id != "" && !s.dirty
	id, entry := s.id, s.entry
	s.mu.Unlock()
	oldR := encodeName(name)
	var made *wire.Entry
	switch {
	case !synced:
		// not on 123pan yet (or changed since): uploaded under its final name
		// at the next flush; a stale remote version is replaced by then.
	case oldR == rname:
		if err := d.fsys.rc.Move(ctx, []string{id}, nd.remoteID()); err != nil {
			return err
		}
	default:
		// 123pan makes the copy at once (same md5 and size); the content
		// is read back from the old entry only if it does not.
		in := remote.UploadInput{ParentID: nd.remoteID(), Name: rname, Size: entry.Size, MD5: entry.Etag,
			Src: &remoteSource{ctx: ctx, n: s}}
		res, err := d.fsys.rc.Upload(ctx, in)
		if err != nil {
			return err
		}
		made = newEntry(res.FileID, rname, in)
	}

	d.mu.Lock()
	if d.children[name] == s {
		d.setChildLocked(name, nil)
	}
	if made != nil {
		d.queueDeleteLocked(oldR, id, nil)
	}
	d.mtime = time.Now()
	d.mu.Unlock()

	s.mu.Lock()
	s.parent, s.name = nd, newName
	if made != nil {
		s.id, s.entry = string(made.FileID), *made
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

func (d *dirNode) renameDir(ctx context.Context, s *dirNode, name string, nd *dirNode, newName, rname string, flags uint32) error {
	if same, err := nd.makeRoom(ctx, newName, rname, s, true, flags); err != nil || same {
		return err
	}
	oldID, oldR := s.remoteID(), encodeName(name)
	newID := ""
	if oldR == rname {
		if err := d.fsys.rc.Move(ctx, []string{oldID}, nd.remoteID()); err != nil {
			return err
		}
	} else {
		var err error
		if newID, err = d.fsys.moveFolderContent(ctx, oldID, nd.remoteID(), rname); err != nil {
			return err
		}
	}

	d.mu.Lock()
	if d.children[name] == s {
		d.setChildLocked(name, nil)
	}
	if newID != "" {
		d.queueDeleteLocked(oldR, oldID, nil)
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

// moveFolderContent makes folder rname in parentID and moves everything in
// folder oldID into it (in calls of up to 100), returning the new ID.
func (f *FS) moveFolderContent(ctx context.Context, oldID, parentID, rname string) (string, error) {
	newID, err := f.rc.Mkdir(ctx, parentID, rname)
	if err != nil {
		return "", err
	}
	var ids []string
	for e, err := range f.rc.List(ctx, oldID) {
		if err != nil {
			return "", err
		}
		ids = append(ids, string(e.FileID))
	}
	if len(ids) > 0 {
		if err := f.rc.Move(ctx, ids, newID); err != nil {
			return "", err
		}
	}
	return newID, nil
}

// remoteSource reads a node's remote content, finding its link on first use.
type remoteSource struct {
	ctx  context.Context
	n    *fileNode
	once sync.Once
	r    io.ReaderAt
	err  error
}

func (s *remoteSource) ReadAt(p []byte, off int64) (int, error) {
	s.once.Do(func() {
		_, url, size, err := s.n.link(s.ctx)
		s.r, s.err = s.n.fsys.rc.NewReader(url, size), err
	})
	if s.err != nil {
		return 0, s.err
	}
	return s.r.ReadAt(p, off)
}
