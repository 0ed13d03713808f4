package fs

import (
	"context"
	"strconv"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/pan123fs/pan123fs/spool"
	"github.com/pan123fs/pan123fs/store"
)

// Extended attributes (read-only): user.pan123.id, .url, .etag, .state;
// and what the service says of the stored file: .customurl (the link on the
// account's own domain, when it has one), .moderation (the moderation
// verdict in the service's terms), .rejected ("yes" or "no") and .traffic
// (bytes served from its links), which only a service with moderation has.
// The last three change on the service's side, so each read of them asks
// the service afresh.
const (
	xattrID         = "user.pan123.id"
	xattrURL        = "user.pan123.url"
	xattrEtag       = "user.pan123.etag"
	xattrState      = "user.pan123.state"
	xattrCustomURL  = "user.pan123.customurl"
	xattrModeration = "user.pan123.moderation"
	xattrRejected   = "user.pan123.rejected"
	xattrTraffic    = "user.pan123.traffic"
)

var xattrNames = []string{xattrID, xattrURL, xattrEtag, xattrState, xattrCustomURL,
	xattrModeration, xattrRejected, xattrTraffic}

// xattrFresh are the attributes read from a new Stat each time.
var xattrFresh = map[string]bool{xattrModeration: true, xattrRejected: true, xattrTraffic: true}

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
	case xattrCustomURL: // "" with no Link yet: Getxattr asks
		return n.entry.OwnLink, n.id != "" && !n.dirty && (n.entry.OwnLink != "" || n.entry.Link == "")
	case xattrModeration, xattrRejected, xattrTraffic: // Getxattr asks
		return "", n.id != "" && !n.dirty && n.fsys.limits.Moderation
	}
	return "", false
}

// hostFact is one of the attributes xattrFresh names, from e (of a
// service with Limits.Moderation).
func hostFact(name string, e store.Entry) (string, bool) {
	switch name {
	case xattrModeration:
		return e.Review, e.Review != ""
	case xattrRejected:
		if e.Rejected {
			return "yes", true
		}
		return "no", true
	case xattrTraffic:
		return strconv.FormatInt(e.Traffic, 10), true
	}
	return "", false
}

// freshFor is how long an answer fresh got serves the next reads:
// getfattr asks for an attribute's size, then for its value, and -d does
// so for each; one detail call serves them all.
const freshFor = time.Second

// fresh asks the service for the file's entry anew (unless it did within
// freshFor), and keeps it when the file still has that ID.
func (n *fileNode) fresh(ctx context.Context) (store.Entry, error) {
	n.mu.Lock()
	id, e, at := n.id, n.entry, n.freshAt
	n.mu.Unlock()
	if now := n.fsys.clock.Now(); !at.IsZero() && now.Sub(at) < freshFor && e.ID == id {
		return e, nil
	}
	e, err := n.fsys.backend.Stat(ctx, id)
	if err != nil {
		return store.Entry{}, err
	}
	n.mu.Lock()
	if n.id == id && !n.dirty {
		n.entry, n.freshAt = e, n.fsys.clock.Now()
	}
	n.mu.Unlock()
	return e, nil
}

// Getxattr answers the user.pan123.* attributes; ENODATA for others and for
// those a file does not have yet (no ID before its first upload).
func (n *fileNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	v, ok := n.xattr(attr)
	if !ok {
		return 0, syscall.ENODATA
	}
	switch {
	case (attr == xattrURL || attr == xattrCustomURL) && v == "":
		ctx, cancel := n.fsys.waitCtx(ctx)
		defer cancel()
		e, err := n.link(ctx)
		if err != nil {
			return 0, n.fsys.toErrno("getxattr", n.path(), err)
		}
		v = e.Link
		if attr == xattrCustomURL {
			if v = e.OwnLink; v == "" {
				return 0, syscall.ENODATA
			}
		}
	case xattrFresh[attr]:
		ctx, cancel := n.fsys.waitCtx(ctx)
		defer cancel()
		e, err := n.fresh(ctx)
		if err != nil {
			return 0, n.fsys.toErrno("getxattr", n.path(), err)
		}
		if v, ok = hostFact(attr, e); !ok {
			return 0, syscall.ENODATA
		}
	}
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

// Listxattr lists the attributes the file has now (the custom-domain link
// only when the entry at hand has one).
func (n *fileNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	var buf []byte
	for _, name := range xattrNames {
		if v, ok := n.xattr(name); ok && (name != xattrCustomURL || v != "") {
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
