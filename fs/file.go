package fs

import (
	"context"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pan123fs/pan123fs/spool"
	"github.com/pan123fs/pan123fs/store"
)

// fileNode is a file of the image host, or one being written.
//
// Its content is the remote entry (id, entry) unless data holds a spool
// file; when dirty is set the spool is newer than the remote and is what
// readers see. uploadMu serialises uploads and renames of the file (as the
// source, or as the target a rename replaces); it is taken before mu.
type fileNode struct {
	fs.Inode
	fsys *FS
	ino  uint64

	uploadMu uploadSlot

	mu       sync.Mutex
	parent   *dirNode    // GUARDED_BY(mu)
	name     string      // local name; GUARDED_BY(mu)
	id       string      // remote file ID, "" before the first upload; GUARDED_BY(mu)
	entry    store.Entry // remote metadata of id; GUARDED_BY(mu)
	freshAt  time.Time   // when entry was last asked of the service for the moderation attributes; GUARDED_BY(mu)
	data     *spool.File // local copy of the content, or nil; GUARDED_BY(mu)
	dirty    bool        // data is newer than the remote; GUARDED_BY(mu)
	gen      uint64      // bumped by every change of data; GUARDED_BY(mu)
	mtime    time.Time   // GUARDED_BY(mu)
	handles  int         // open file handles; GUARDED_BY(mu)
	writers  int         // of those, writers whose close is still to come (it uploads); GUARDED_BY(mu)
	unlinked bool        // GUARDED_BY(mu)
	state    spool.State // as status and user.pan123.state show it ("" = Synced); GUARDED_BY(mu)
	lastErr  error       // why the last upload failed; GUARDED_BY(mu)

	key      string      // journal key (the spool file's name), "" when not journaled; GUARDED_BY(mu)
	seq      uint64      // journal order; GUARDED_BY(mu)
	attempts int         // failed upload attempts in a row; GUARDED_BY(mu)
	done     int64       // bytes of the running upload sent; GUARDED_BY(mu)
	beats    uint64      // progress reports of the running upload, answers while it completes included; GUARDED_BY(mu)
	resume   string      // the backend's token of an upload a restart may resume; GUARDED_BY(mu)
	refused  bool        // the service refused the upload for good; GUARDED_BY(mu)
	jstate   spool.State // the state last journaled; GUARDED_BY(mu)
	writeErr error       // a write or truncate failed: the data is incomplete; GUARDED_BY(mu)
	cachedID string      // the ID whose content the kernel may have cached; GUARDED_BY(mu)
}

var (
	_ = (fs.NodeGetattrer)((*fileNode)(nil))
	_ = (fs.NodeSetattrer)((*fileNode)(nil))
	_ = (fs.NodeOpener)((*fileNode)(nil))
)

// path is the file's path in the mount ("a/b/c.jpg").
func (n *fileNode) path() string {
	n.mu.Lock()
	parent, name := n.parent, n.name
	n.mu.Unlock()
	if p := parent.path(); p != "" {
		return p + "/" + name
	}
	return name
}

// under reports whether d is one of the folders above n.
func (n *fileNode) under(d *dirNode) bool {
	n.mu.Lock()
	cur := n.parent
	n.mu.Unlock()
	for cur != nil {
		if cur == d {
			return true
		}
		cur.mu.Lock()
		next := cur.parent
		cur.mu.Unlock()
		cur = next
	}
	return false
}

func (n *fileNode) stable() fs.StableAttr { return fs.StableAttr{Mode: syscall.S_IFREG, Ino: n.ino} }

func (n *fileNode) remoteID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.id
}

func (n *fileNode) refresh(e *store.Entry) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dirty || e.ID != n.id {
		return
	}
	n.entry = *e
	n.mtime = e.Time()
}

// localOnly tells whether the node holds data the service does not have yet, so
// that a listing refresh must keep it.
func (n *fileNode) localOnly() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.id == "" || n.dirty
}

// markUnlinked detaches the file: it is never uploaded again. It returns
// the remote ID to delete, whether open handles read the file from that
// ID (they have no local copy), so that its delete must wait for them, and
// the ticket of its record's removal, for the caller to wait for once it
// holds no lock.
func (n *fileNode) markUnlinked() (id string, remoteReaders bool, t spool.Ticket) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.unlinked = true
	n.dirty = false
	n.dropDataLocked()
	t = n.unjournalLocked()
	n.fsys.queue.cancel(n)
	return n.id, n.handles > 0 && n.data == nil, t
}

// call with n.mu held
func (n *fileNode) dropDataLocked() {
	if n.data != nil && n.handles == 0 {
		if err := n.data.Remove(); err != nil {
			n.fsys.log.Warn("removing spool file", "name", n.name, "err", err)
		}
		n.data = nil
	}
}

func (n *fileNode) sizeLocked() int64 {
	if n.data != nil {
		return n.data.Size()
	}
	return n.entry.Size
}

func (n *fileNode) fillAttr(out *fuse.Attr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.fillAttrLocked(out)
}

// call with n.mu held
func (n *fileNode) fillAttrLocked(out *fuse.Attr) {
	nlink := uint32(1)
	if n.unlinked {
		nlink = 0
	}
	n.fsys.setAttr(out, syscall.S_IFREG|n.fsys.fileMode(), nlink, n.ino, uint64(n.sizeLocked()), n.mtime)
}

// Getattr answers from what the node knows; it never calls the remote.
func (n *fileNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.fillAttr(&out.Attr)
	out.SetTimeout(n.fsys.opts.AttrTimeout)
	return 0
}

// Setattr truncates through the spool (uploading at once when no handle is
// open) and ignores mode, owner and time changes (SEMANTICS.md).
func (n *fileNode) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	ctx = context.WithoutCancel(ctx) // a change: see wait.go
	if size, ok := in.GetSize(); ok {
		if n.fsys.opts.ReadOnly {
			return syscall.EROFS
		}
		if err := n.truncateNow(ctx, int64(size)); err != nil {
			return n.fsys.toErrno("truncate", n.path(), err)
		}
	}
	n.fillAttr(&out.Attr)
	return 0
}

// truncateNow truncates the file and, when no writer has it open (whose
// close would), uploads the result. Readers do not count: their close
// uploads nothing.
func (n *fileNode) truncateNow(ctx context.Context, size int64) error {
	if err := n.fsys.checkSize(size); err != nil {
		return err
	}
	n.mu.Lock()
	same := !n.dirty && n.sizeLocked() == size
	n.mu.Unlock()
	if same {
		return nil // nothing changes: no need to bring the content into the spool
	}
	if err := n.truncate(ctx, size); err != nil {
		return err
	}
	n.mu.Lock()
	idle := n.writers == 0
	n.mu.Unlock()
	if idle {
		return n.closeWrite(ctx)
	}
	return nil
}

// truncate gives the node a spool copy (a writer opening with O_TRUNC
// needs one even when nothing changes) and truncates it. A truncate that
// fails changes nothing (ftruncate(2) of the spool file is all or
// nothing), so the content written before it stays whole and is uploaded.
func (n *fileNode) truncate(ctx context.Context, size int64) error {
	if err := n.ensureData(ctx, size == 0); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.data.Size() == size && !n.dirty && size != 0 {
		return nil
	}
	if err := n.data.Truncate(size); err != nil {
		return err
	}
	n.dirty = true
	n.gen++
	n.mtime = time.Now()
	n.state = spool.Pending
	return nil
}

// Open refuses content the service will not serve (an image rejected by
// moderation: EACCES), and for writing brings the content into the spool
// first (unless O_TRUNC empties it).
func (n *fileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	ctx = context.WithoutCancel(ctx) // a change: see wait.go
	n.mu.Lock()
	why := n.entry.Unreadable
	if n.dirty {
		why = ""
	}
	n.mu.Unlock()
	if why != "" {
		n.fsys.log.Warn("refusing to open a file the service will not serve", "path", n.path(), "why", why)
		return nil, 0, syscall.EACCES
	}
	write := flags&(syscall.O_WRONLY|syscall.O_RDWR) != 0
	trunc := flags&syscall.O_TRUNC != 0
	if (write || trunc) && n.fsys.opts.ReadOnly {
		return nil, 0, syscall.EROFS
	}
	if trunc && !write {
		// open(O_RDONLY|O_TRUNC) empties the file as on other filesystems
		// (with atomic O_TRUNC the kernel leaves it to us).
		if err := n.truncateNow(ctx, 0); err != nil {
			return nil, 0, n.fsys.toErrno("open", n.path(), err)
		}
	}
	if write {
		if trunc {
			if err := n.truncate(ctx, 0); err != nil {
				return nil, 0, n.fsys.toErrno("open", n.path(), err)
			}
		} else if err := n.ensureData(ctx, false); err != nil {
			return nil, 0, n.fsys.toErrno("open", n.path(), err)
		}
		n.fsys.queue.cancel(n) // a queued upload waits for this writer's close
		if err := n.journal(spool.Writing); err != nil {
			return nil, 0, n.fsys.toErrno("open", n.path(), err)
		}
	}
	return n.newHandle(write), n.keepCache(write), 0
}

// keepCache lets the kernel keep its page cache of the file across opens
// while the content is the same remote file ID (whose content never
// changes). A new ID, or content in the spool, drops it.
func (n *fileNode) keepCache(write bool) uint32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	keep := !write && n.data == nil && n.id != "" && n.id == n.cachedID
	n.cachedID = ""
	if !write && n.data == nil {
		n.cachedID = n.id
	}
	if keep {
		return fuse.FOPEN_KEEP_CACHE
	}
	return 0
}
