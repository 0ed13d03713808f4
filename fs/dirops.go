package fs

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pan123fs/pan123fs/spool"
)

// Mkdir makes the folder with a mkdir call; a clash is EEXIST.
func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	ctx = detach(ctx)
	if d.fsys.opts.ReadOnly {
		return nil, syscall.EROFS
	}
	ch, err := d.mkdir(ctx, name)
	if err != nil {
		return nil, d.fsys.toErrno("mkdir", name, err)
	}
	return d.attach(ctx, ch, out), 0
}

func (d *dirNode) mkdir(ctx context.Context, name string) (*dirNode, error) {
	rname, err := remoteName(name)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(ctx, false); err != nil {
		return nil, err
	}
	if _, ok := d.children[name]; ok {
		return nil, syscall.EEXIST
	}
	if err := d.clearDeletingLocked(ctx, rname); err != nil {
		return nil, err
	}
	id, err := d.fsys.rc.Mkdir(ctx, d.remoteID(), rname)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	ch := &dirNode{fsys: d.fsys, parent: d, name: name, mtime: now, children: map[string]node{}}
	ch.setID(id)
	d.fsys.listings.Loaded(ch, 0)
	d.children[name] = ch
	d.mtime = now
	return ch, nil
}

// Rmdir deletes an empty folder (ENOTEMPTY otherwise). The delete call is
// queued with the file deletes, so rm -r costs few calls.
func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	ctx = detach(ctx)
	if d.fsys.opts.ReadOnly {
		return syscall.EROFS
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(ctx, false); err != nil {
		return d.fsys.toErrno("rmdir", name, err)
	}
	ch, ok := d.children[name].(*dirNode)
	if !ok {
		if d.children[name] == nil {
			return syscall.ENOENT
		}
		return syscall.ENOTDIR
	}
	ch.mu.Lock()
	err := ch.loadLocked(ctx, false)
	empty := len(ch.children) == 0
	if err == nil && empty {
		ch.removed = true
	}
	ch.mu.Unlock()
	if err != nil {
		return d.fsys.toErrno("rmdir", name, err)
	}
	if !empty {
		return syscall.ENOTEMPTY
	}
	delete(d.children, name)
	d.fsys.listings.Forget(ch)
	d.queueDeleteLocked(encodeName(name), ch.remoteID(), ch)
	d.mtime = time.Now()
	return 0
}

// Unlink removes the file at once and queues its delete call. A file that
// is still open keeps working for its readers and is never uploaded.
func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	ctx = detach(ctx)
	if d.fsys.opts.ReadOnly {
		return syscall.EROFS
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(ctx, false); err != nil {
		return d.fsys.toErrno("unlink", name, err)
	}
	ch := d.children[name]
	switch ch.(type) {
	case nil:
		return syscall.ENOENT
	case *dirNode:
		return syscall.EISDIR
	}
	f := ch.(*fileNode)
	delete(d.children, name)
	d.queueDeleteLocked(encodeName(name), f.markUnlinked(), f)
	d.mtime = time.Now()
	return 0
}

// Create makes a new, empty file in the spool; it is uploaded when closed.
func (d *dirNode) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	ctx = detach(ctx)
	if d.fsys.opts.ReadOnly {
		return nil, nil, 0, syscall.EROFS
	}
	if _, err := remoteName(name); err != nil {
		return nil, nil, 0, d.fsys.toErrno("create", name, err)
	}
	d.mu.Lock()
	if err := d.loadLocked(ctx, false); err != nil {
		d.mu.Unlock()
		return nil, nil, 0, d.fsys.toErrno("create", name, err)
	}
	if _, ok := d.children[name]; ok {
		d.mu.Unlock()
		return nil, nil, 0, syscall.EEXIST
	}
	data, err := d.fsys.spool.Create()
	if err != nil {
		d.mu.Unlock()
		return nil, nil, 0, d.fsys.toErrno("create", name, err)
	}
	f := &fileNode{fsys: d.fsys, ino: d.fsys.newLocalIno(), parent: d, name: name,
		data: data, dirty: true, gen: 1, mtime: time.Now(), state: statePending}
	d.children[name] = f
	d.mtime = time.Now()
	d.mu.Unlock()

	if err := f.journal(spool.Writing); err != nil {
		d.mu.Lock()
		delete(d.children, name)
		d.mu.Unlock()
		f.markUnlinked()
		return nil, nil, 0, d.fsys.toErrno("create", name, err)
	}
	in := d.attach(ctx, f, out)
	h := f.newHandle(true)
	return in, h, 0, 0
}
