package fs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/pan123fs/pan123fs/spool"
)

// Extended attributes (read-only): user.pan123.id, .url, .etag, .state.
const (
	xattrID    = "user.pan123.id"
	xattrURL   = "user.pan123.url"
	xattrEtag  = "user.pan123.etag"
	xattrState = "user.pan123.state"
)

var xattrNames = []string{xattrID, xattrURL, xattrEtag, xattrState}

var (
	_ = (fs.NodeGetxattrer)((*fileNode)(nil))
	_ = (fs.NodeListxattrer)((*fileNode)(nil))
	_ = (fs.NodeSetxattrer)((*fileNode)(nil))
	_ = (fs.NodeRemovexattrer)((*fileNode)(nil))
)

func (n *fileNode) xattr(name string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch name {
	case xattrID:
		return n.id, n.id != ""
	case xattrURL: // Getxattr finds the link
		return n.entry.Link, n.id != "" && !n.dirty
	case xattrEtag:
		return n.entry.MD5, n.entry.MD5 != "" && !n.dirty
	case xattrState:
		if n.state == "" {
			return string(spool.Synced), true
		}
		return string(n.state), true
	}
	return "", false
}

// Getxattr answers the user.pan123.* attributes; ENODATA for others and for
// those a file does not have yet (no ID before its first upload).
func (n *fileNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	v, ok := n.xattr(attr)
	if !ok {
		return 0, syscall.ENODATA
	}
	if attr == xattrURL && v == "" {
		ctx, cancel := n.fsys.waitCtx(ctx)
		defer cancel()
		e, err := n.link(ctx)
		if err != nil {
			return 0, n.fsys.toErrno("getxattr", n.path(), err)
		}
		v = e.Link
	}
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

// Listxattr lists the attributes the file has now.
func (n *fileNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	var buf []byte
	for _, name := range xattrNames {
		if _, ok := n.xattr(name); ok {
			buf = append(append(buf, name...), 0)
		}
	}
	if len(dest) < len(buf) {
		return uint32(len(buf)), syscall.ERANGE
	}
	return uint32(copy(dest, buf)), 0
}

// Setxattr: the attributes are the service's; nothing can be stored.
func (n *fileNode) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	return syscall.ENOTSUP
}

// Removexattr: see Setxattr.
func (n *fileNode) Removexattr(ctx context.Context, attr string) syscall.Errno {
	return syscall.ENOTSUP
}

// xattrControl, on the mount's root, names the socket that `pan123fs
// status` and `pan123fs sync` talk to.
const xattrControl = "user.pan123.control"

var _ = (fs.NodeGetxattrer)((*dirNode)(nil))

// Getxattr answers user.pan123.control on the root; ENODATA otherwise.
func (d *dirNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	v := d.fsys.opts.ControlSocket
	if d != d.fsys.root || attr != xattrControl || v == "" {
		return 0, syscall.ENODATA
	}
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}
