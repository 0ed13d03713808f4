package fs

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Desktop trash.
//
// File managers and GLib (`gio trash`) "delete" a file on a mounted volume
// by moving it into $MOUNT/.Trash-$UID/files (the FreeDesktop trash spec).
// On an image host that would leave the image on the web under its own
// link, and publish a .trashinfo record beside it. So the trash folders
// are reserved: nothing can be made or moved into .Trash or .Trash-* at
// the mount's root (EPERM), nor into such a folder left on the service by an
// earlier version. And a lookup of .Trash-$UID at the root that the service
// does not hold finds an empty read-only file, which tells GLib that this
// volume has no trash (access::can-trash FALSE): file managers then offer
// to delete permanently, which takes the image off the web at once.

// errTrashRefused: a desktop trash on the mount; errno.go maps it to EPERM.
var errTrashRefused = errors.New("desktop trash folders are not kept on pan123fs: a trashed image would stay on the web; delete it instead")

// isTrashName tells whether name, at the mount's root, is a trash folder.
func isTrashName(name string) bool {
	return name == ".Trash" || strings.HasPrefix(name, ".Trash-")
}

// isUserTrashName tells whether name is .Trash-UID.
func isUserTrashName(name string) bool {
	uid, ok := strings.CutPrefix(name, ".Trash-")
	return ok && uid != "" && strings.Trim(uid, "0123456789") == ""
}

// refuseTrash is errTrashRefused when name, in d, is or is inside a trash
// folder, logged so that the user learns why: at info level the first
// time, at debug level after that (a desktop tries again and again).
func (d *dirNode) refuseTrash(op, name string) error {
	if !(d == d.fsys.root && isTrashName(name)) && !d.inTrash() {
		return nil
	}
	level := slog.LevelDebug
	if d.fsys.trashTold.CompareAndSwap(false, true) {
		level = slog.LevelInfo
	}
	d.fsys.log.Log(context.Background(), level, "refusing a desktop trash on the mount: delete the file instead (it then leaves the web)",
		"op", op, "name", name)
	return errTrashRefused
}

// inTrash tells whether d is a trash folder at the root or inside one.
func (d *dirNode) inTrash() bool {
	for cur := d; ; {
		cur.mu.Lock()
		parent, name := cur.parent, cur.name
		cur.mu.Unlock()
		if parent == nil {
			return false
		}
		if parent == d.fsys.root && isTrashName(name) {
			return true
		}
		cur = parent
	}
}

// trashStub is the empty read-only file a lookup of .Trash-UID finds at
// the root when the service holds no such entry. It is not listed, and it is
// never on the service.
type trashStub struct {
	fs.Inode
	fsys *FS
}

var (
	_ = (fs.NodeGetattrer)((*trashStub)(nil))
	_ = (fs.NodeOpener)((*trashStub)(nil))
	_ = (fs.NodeSetattrer)((*trashStub)(nil))
)

func (t *trashStub) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	t.fillAttr(&out.Attr)
	return 0
}

func (t *trashStub) fillAttr(out *fuse.Attr) {
	t.fsys.setAttr(out, syscall.S_IFREG|0o444, 1, t.StableAttr().Ino, 0, t.fsys.root.mtimeNow())
}

func (t *trashStub) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return nil, 0, syscall.EPERM
}

func (t *trashStub) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EPERM
}

// lookupTrashStub answers a lookup of .Trash-UID that found nothing.
func (d *dirNode) lookupTrashStub(ctx context.Context, name string, out *fuse.EntryOut) *fs.Inode {
	st := &trashStub{fsys: d.fsys}
	in := d.NewInode(ctx, st, fs.StableAttr{Mode: syscall.S_IFREG, Ino: inoOf("trash-stub:" + name)})
	st.fillAttr(&out.Attr)
	out.SetEntryTimeout(d.fsys.opts.EntryTimeout)
	out.SetAttrTimeout(d.fsys.opts.AttrTimeout)
	return in
}
