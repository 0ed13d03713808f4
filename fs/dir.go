package fs

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pan123fs/pan123fs/store"
)

// dirNode is a folder of the image host.
type dirNode struct {
	fs.Inode
	fsys *FS
	id   atomic.Value // string: the folder's ID ("" = root); changes when a rename makes a new folder

	mu       sync.Mutex
	parent   *dirNode          // GUARDED_BY(mu)
	name     string            // local name, GUARDED_BY(mu)
	mtime    time.Time         // GUARDED_BY(mu)
	children map[string]node   // local name → node; nil until listed; GUARDED_BY(mu)
	deleting map[string]string // name → ID of an entry whose delete is queued; GUARDED_BY(mu)
	removed  bool              // rmdir'd or renamed over; GUARDED_BY(mu)
	hidden   []string          // names of listed entries the mount cannot show; GUARDED_BY(mu)
	loading  *listLoad         // the listing in flight, or nil; GUARDED_BY(mu)
	edits    uint64            // count of local changes to children; GUARDED_BY(mu)
	edited   map[string]uint64 // name → edits when this mount last changed it; GUARDED_BY(mu)
	failedAt time.Time         // when the last listing failed (zero: it did not); GUARDED_BY(mu)
}

var (
	_ = (fs.NodeLookuper)((*dirNode)(nil))
	_ = (fs.NodeReaddirer)((*dirNode)(nil))
	_ = (fs.NodeGetattrer)((*dirNode)(nil))
	_ = (fs.NodeSetattrer)((*dirNode)(nil))
	_ = (fs.NodeMkdirer)((*dirNode)(nil))
	_ = (fs.NodeRmdirer)((*dirNode)(nil))
	_ = (fs.NodeUnlinker)((*dirNode)(nil))
	_ = (fs.NodeCreater)((*dirNode)(nil))
	_ = (fs.NodeLinker)((*dirNode)(nil))
	_ = (fs.NodeSymlinker)((*dirNode)(nil))
	_ = (fs.NodeMknoder)((*dirNode)(nil))
)

// path is the folder's path in the mount ("" for the root).
func (d *dirNode) path() string {
	var parts []string
	for cur := d; ; {
		cur.mu.Lock()
		parent, name := cur.parent, cur.name
		cur.mu.Unlock()
		if parent == nil {
			break
		}
		parts = append(parts, name)
		cur = parent
	}
	slices.Reverse(parts)
	return strings.Join(parts, "/")
}

func (d *dirNode) remoteID() string {
	id, _ := d.id.Load().(string)
	return id
}

func (d *dirNode) setID(id string) { d.id.Store(id) }

func (d *dirNode) stable() fs.StableAttr {
	return fs.StableAttr{Mode: syscall.S_IFDIR, Ino: inoOf(d.remoteID())}
}

func (d *dirNode) refresh(e *store.Entry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.mtime = e.Time()
}

func (d *dirNode) relocate(parent *dirNode, name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.parent, d.name = parent, name
}

func (d *dirNode) fillAttr(out *fuse.Attr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fillAttrLocked(out)
}

// call with d.mu held
func (d *dirNode) fillAttrLocked(out *fuse.Attr) {
	nlink := uint32(2)
	if d.removed {
		nlink = 0
	}
	d.fsys.setAttr(out, syscall.S_IFDIR|d.fsys.dirMode(), nlink, d.stable().Ino, 4096, d.mtime)
}

// Getattr answers from what the node knows; it never calls the remote.
func (d *dirNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fillAttr(&out.Attr)
	out.SetTimeout(d.fsys.opts.AttrTimeout)
	return 0
}

// Setattr accepts and ignores mode, owner and time changes (SEMANTICS.md).
func (d *dirNode) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if d.fsys.opts.ReadOnly {
		return syscall.EROFS
	}
	d.fillAttr(&out.Attr)
	return 0
}

// Lookup answers from the cached listing, loading it if it is missing or
// older than the TTL. A name longer than NAME_MAX is ENAMETOOLONG.
func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if err := d.fsys.checkNameLen(name); err != nil {
		return nil, d.fsys.toErrno("lookup", name, err)
	}
	ctx, cancel := d.fsys.waitCtx(ctx)
	defer cancel()
	if err := d.load(ctx); err != nil {
		return nil, d.fsys.toErrno("lookup", name, err)
	}
	d.mu.Lock()
	ch := d.children[name]
	d.mu.Unlock()
	if ch == nil && d == d.fsys.root && isUserTrashName(name) {
		return d.lookupTrashStub(ctx, name, out), 0 // trash.go
	}
	if ch == nil {
		return nil, syscall.ENOENT
	}
	return d.attach(ctx, ch, out), 0
}

// mtimeNow is the folder's modification time.
func (d *dirNode) mtimeNow() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mtime
}

// Readdir lists the folder in name order, from the cached listing.
func (d *dirNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	ctx, cancel := d.fsys.waitCtx(ctx)
	defer cancel()
	if err := d.load(ctx); err != nil {
		return nil, d.fsys.toErrno("readdir", d.name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	names := sortedNames(d.children)
	list := make([]fuse.DirEntry, 0, len(names)+2)
	self := d.stable().Ino
	up := self
	if d.parent != nil {
		up = d.parent.stable().Ino
	}
	list = append(list, fuse.DirEntry{Name: ".", Mode: syscall.S_IFDIR, Ino: self},
		fuse.DirEntry{Name: "..", Mode: syscall.S_IFDIR, Ino: up})
	for _, name := range names {
		st := d.children[name].stable()
		list = append(list, fuse.DirEntry{Name: name, Mode: st.Mode, Ino: st.Ino})
	}
	return fs.NewListDirStream(list), 0
}

// Link, Symlink and Mknod: the image host stores plain files only.
func (d *dirNode) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.ENOTSUP
}

func (d *dirNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.ENOTSUP
}

func (d *dirNode) Mknod(ctx context.Context, name string, mode, dev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.ENOTSUP
}
