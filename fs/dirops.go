package fs

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pan123fs/pan123fs/spool"
)

// errHiddenEntries: a folder that looks empty holds entries the service
// has and the mount cannot show; errno.go maps it to ENOTEMPTY.
var errHiddenEntries = errors.New("the folder holds entries whose names cannot be shown")

// Mkdir makes the folder with a mkdir call; a clash is EEXIST.
func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if d.fsys.opts.ReadOnly {
		return nil, syscall.EROFS
	}
	ctx, cancel := d.fsys.changeCtx(ctx)
	defer cancel()
	ch, err := d.mkdir(ctx, name)
	if err != nil {
		return nil, d.fsys.toErrno("mkdir", name, err)
	}
	return d.attach(ctx, ch, out), 0
}

// mkdir makes folder name in d. The folder's lock is not held across the
// call: the kernel holds the folder for a mkdir, so only pan123fs's own
// background work (a listing, recovery) can touch the name meanwhile, and
// it is checked again before the folder is added.
func (d *dirNode) mkdir(ctx context.Context, name string) (*dirNode, error) {
	if err := d.fsys.backend.CheckName(name); err != nil {
		return nil, err
	}
	if err := d.refuseTrash("mkdir", name); err != nil {
		return nil, err
	}
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	d.mu.Lock()
	_, exists := d.children[name]
	removed := d.removed
	d.mu.Unlock()
	switch {
	case exists:
		return nil, syscall.EEXIST
	case removed:
		return nil, syscall.ENOENT
	}
	if err := d.clearDeleting(ctx, name); err != nil {
		return nil, err
	}
	e, err := d.fsys.backend.Mkdir(ctx, d.remoteID(), name)
	if err != nil {
		d.invalidate() // it may have been made all the same
		return nil, err
	}
	now := time.Now()
	ch := &dirNode{fsys: d.fsys, parent: d, name: name, mtime: now, children: map[string]node{}}
	ch.setID(e.ID)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, taken := d.children[name]; taken {
		return nil, syscall.EEXIST
	}
	d.fsys.listings.Loaded(ch, 0)
	d.setChildLocked(name, ch)
	d.mtime = now
	return ch, nil
}

// Rmdir deletes an empty folder (ENOTEMPTY otherwise, also when the service
// holds entries the mount hides). The delete call is queued with the file
// deletes, so rm -r costs few calls.
func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	if d.fsys.opts.ReadOnly {
		return syscall.EROFS
	}
	ctx, cancel := d.fsys.changeCtx(ctx)
	defer cancel()
	if err := d.load(ctx); err != nil {
		return d.fsys.toErrno("rmdir", name, err)
	}
	d.mu.Lock()
	ch, ok := d.children[name].(*dirNode)
	other := d.children[name] != nil
	d.mu.Unlock()
	switch {
	case !ok && other:
		return syscall.ENOTDIR
	case !ok:
		return syscall.ENOENT
	}
	if err := ch.load(ctx); err != nil {
		return d.fsys.toErrno("rmdir", name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.children[name] != ch {
		return syscall.ENOENT
	}
	ch.mu.Lock()
	err := ch.hiddenErrLocked("rmdir")
	switch {
	case len(ch.children) > 0:
		err = syscall.ENOTEMPTY
	case err == nil:
		ch.removed = true
	}
	ch.mu.Unlock()
	if err != nil {
		return d.fsys.toErrno("rmdir", name, err)
	}
	d.setChildLocked(name, nil)
	d.fsys.listings.Forget(ch)
	d.queueFolderDeleteLocked(name, ch.remoteID(), ch)
	d.mtime = time.Now()
	return 0
}

// Unlink removes the file at once and queues its delete call. A file that
// is still open keeps working for its readers: when they read it from
// the service, its delete waits for their last close (deferred.go).
func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	if d.fsys.opts.ReadOnly {
		return syscall.EROFS
	}
	ctx, cancel := d.fsys.changeCtx(ctx)
	defer cancel()
	if err := d.load(ctx); err != nil {
		return d.fsys.toErrno("unlink", name, err)
	}
	d.mu.Lock()
	ch := d.children[name]
	f, isFile := ch.(*fileNode)
	if !isFile {
		d.mu.Unlock()
		if ch == nil {
			return syscall.ENOENT
		}
		return syscall.EISDIR
	}
	d.setChildLocked(name, nil)
	id, readers, t := f.markUnlinked()
	if readers && id != "" {
		d.deferDeleteLocked(name, id, f)
	} else {
		d.queueDeleteLocked(name, id, f)
	}
	d.mtime = time.Now()
	d.mu.Unlock()
	f.settle(t, "removing the record of an unlinked file")
	return 0
}

// Create makes a new, empty file in the spool; it is uploaded when closed.
func (d *dirNode) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if d.fsys.opts.ReadOnly {
		return nil, nil, 0, syscall.EROFS
	}
	ctx, cancel := d.fsys.changeCtx(ctx)
	defer cancel()
	if err := d.fsys.backend.CheckName(name); err != nil {
		return nil, nil, 0, d.fsys.toErrno("create", name, err)
	}
	if err := d.refuseTrash("create", name); err != nil {
		return nil, nil, 0, d.fsys.toErrno("create", name, err)
	}
	if err := d.load(ctx); err != nil {
		return nil, nil, 0, d.fsys.toErrno("create", name, err)
	}
	data, err := d.fsys.spool.Create()
	if err != nil {
		return nil, nil, 0, d.fsys.toErrno("create", name, err)
	}
	f := &fileNode{fsys: d.fsys, ino: d.fsys.newLocalIno(), parent: d, name: name,
		data: data, dirty: true, gen: 1, mtime: time.Now(), state: spool.Pending}
	d.mu.Lock()
	if _, ok := d.children[name]; ok {
		d.mu.Unlock()
		data.Remove()
		return nil, nil, 0, syscall.EEXIST
	}
	d.setChildLocked(name, f)
	d.mtime = time.Now()
	d.mu.Unlock()

	if err := f.journal(spool.Writing); err != nil {
		d.mu.Lock()
		if d.children[name] == f {
			d.setChildLocked(name, nil)
		}
		d.mu.Unlock()
		_, _, t := f.markUnlinked()
		f.settle(t, "removing a record")
		return nil, nil, 0, d.fsys.toErrno("create", name, err)
	}
	in := d.attach(ctx, f, out)
	h := f.newHandle(true)
	return in, h, 0, 0
}
