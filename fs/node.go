package fs

import (
	"context"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// node is what a folder holds: a *dirNode or a *fileNode.
type node interface {
	fs.InodeEmbedder
	stable() fs.StableAttr
	remoteID() string
	// refresh takes a newer listing entry for the same ID.
	refresh(e *wire.Entry)
	// relocate records the node's new place after a rename.
	relocate(parent *dirNode, name string)
	fillAttr(out *fuse.Attr)
}

// attach hands a child node to the kernel. If an inode with the same
// number is still alive (the kernel kept it across a listing refresh), that
// older node is the one in use: it is refreshed and put back in the folder.
func (d *dirNode) attach(ctx context.Context, name string, ch node, out *fuse.EntryOut) *fs.Inode {
	in := d.NewInode(ctx, ch, ch.stable())
	if live, ok := in.Operations().(node); ok && live != ch {
		if e := entryOf(ch); e != nil {
			live.refresh(e)
		}
		d.mu.Lock()
		if d.children[name] == ch {
			d.children[name] = live
		}
		d.mu.Unlock()
		ch = live
	}
	ch.fillAttr(&out.Attr)
	out.SetEntryTimeout(d.fsys.opts.EntryTimeout)
	out.SetAttrTimeout(d.fsys.opts.AttrTimeout)
	return in
}

func entryOf(n node) *wire.Entry {
	switch n := n.(type) {
	case *fileNode:
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.id == "" {
			return nil
		}
		e := n.entry
		return &e
	case *dirNode:
		e := n.entry()
		return &e
	}
	return nil
}

// newNodeFromEntry makes the node for a listed entry.
func (f *FS) newNodeFromEntry(parent *dirNode, local string, e *wire.Entry) node {
	if e.IsDir() {
		d := &dirNode{fsys: f, parent: parent, name: local, mtime: entryTime(e)}
		d.setID(string(e.FileID))
		return d
	}
	return &fileNode{fsys: f, ino: inoOf(string(e.FileID)), parent: parent, name: local,
		id: string(e.FileID), entry: *e, mtime: entryTime(e)}
}

func entryTime(e *wire.Entry) time.Time {
	if t, err := wire.ParseTime(e.UpdateAt); err == nil {
		return t
	}
	if t, err := wire.ParseTime(e.CreateAt); err == nil {
		return t
	}
	return time.Unix(0, 0)
}

func setTimes(out *fuse.Attr, t time.Time) {
	out.SetTimes(&t, &t, &t)
}
