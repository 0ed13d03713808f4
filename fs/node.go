package fs

import (
	"context"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pan123fs/pan123fs/store"
)

// node is what a folder holds: a *dirNode or a *fileNode.
type node interface {
	fs.InodeEmbedder
	stable() fs.StableAttr
	remoteID() string
	// refresh takes a newer listing entry for the same ID.
	refresh(e *store.Entry)
	fillAttr(out *fuse.Attr)
}

// attach hands a child node to the kernel. A folder keeps one node object
// per remote ID for as long as the kernel may hold it (loadLocked reuses
// them, dropListing and restore keep them), so the inode go-fuse has for
// this number is always ch's.
func (d *dirNode) attach(ctx context.Context, ch node, out *fuse.EntryOut) *fs.Inode {
	in := d.NewInode(ctx, ch, ch.stable())
	ch.fillAttr(&out.Attr)
	out.SetEntryTimeout(d.fsys.opts.EntryTimeout)
	out.SetAttrTimeout(d.fsys.opts.AttrTimeout)
	return in
}

// newNodeFromEntry makes the node for a listed entry.
func (f *FS) newNodeFromEntry(parent *dirNode, e *store.Entry) node {
	if e.Folder {
		d := &dirNode{fsys: f, parent: parent, name: e.Name, mtime: e.Time()}
		d.setID(e.ID)
		return d
	}
	return &fileNode{fsys: f, ino: inoOf(e.ID), parent: parent, name: e.Name,
		id: e.ID, entry: *e, mtime: e.Time()}
}

// ioSize is the st_blksize every node reports: the mount's MaxWrite.
const ioSize = 1 << 20

// setAttr fills the attributes every node reports the same way: the owner
// and modes of the mount's options, one time for all three, and a 1 MiB
// preferred I/O size (st_blksize): cp, dd-less tools and stdio size their
// buffers from it, and each FUSE request costs a round trip, so large
// requests (up to the mount's MaxWrite) are what make copies fast.
func (f *FS) setAttr(out *fuse.Attr, mode, nlink uint32, ino, size uint64, mtime time.Time) {
	out.Mode, out.Nlink, out.Ino, out.Size = mode, nlink, ino, size
	out.Blksize = ioSize
	out.Blocks = (size + 511) / 512
	out.Owner = fuse.Owner{Uid: f.opts.UID, Gid: f.opts.GID}
	out.SetTimes(&mtime, &mtime, &mtime)
}
