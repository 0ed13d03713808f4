package fs

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pan123fs/pan123fs/spool"
)

// handle is one open file description. Writers write into the node's spool
// file; Flush (every close(2), dup'd descriptors included) uploads it.
type handle struct {
	n     *fileNode
	write bool
	ra    readAhead
	// pending: a writer whose close(2) (FLUSH) is still to come, counted in
	// n.writers. FLUSH clears it; a write through a descriptor left open
	// (dup) sets it again. RELEASE comes later, when the kernel gets to it,
	// so counting writers until RELEASE would wrongly leave a truncate's
	// upload to a close that has already happened. GUARDED_BY(n.mu)
	pending bool
}

var (
	_ = (fs.FileReader)((*handle)(nil))
	_ = (fs.FileWriter)((*handle)(nil))
	_ = (fs.FileFlusher)((*handle)(nil))
	_ = (fs.FileFsyncer)((*handle)(nil))
	_ = (fs.FileReleaser)((*handle)(nil))
)

func (n *fileNode) newHandle(write bool) *handle {
	n.mu.Lock()
	n.handles++
	if write {
		n.writers++
	}
	n.mu.Unlock()
	return &handle{n: n, write: write, pending: write}
}

// Read serves the spool when the file has local content, else the remote
// content through the block cache.
func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	ctx, cancel := h.n.fsys.waitCtx(ctx)
	defer cancel()
	n := h.n
	n.mu.Lock()
	data, size := n.data, n.entry.Size
	n.mu.Unlock()
	if data != nil {
		// Read without the node's lock: the spool copy stays while handles
		// are open, except that a writer's failed write drops it
		// (discardFailedWrite); then the remote version is what is left.
		cnt, err := data.ReadAt(dest, off)
		if errors.Is(err, os.ErrClosed) {
			return h.Read(ctx, dest, off)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, n.fsys.toErrno("read", n.path(), err)
		}
		return fuse.ReadResultData(dest[:cnt]), 0
	}
	if off >= size {
		return fuse.ReadResultData(nil), 0
	}
	key, size, fetch := n.source()
	if start, length := h.ra.advise(off, int64(len(dest)), size); length > 0 {
		go n.fsys.blocks.Prefetch(context.Background(), key, size, fetch, start, length)
	}
	cnt, err := n.fsys.blocks.ReadAt(ctx, key, size, fetch, dest, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, n.fsys.toErrno("read", n.path(), err)
	}
	return fuse.ReadResultData(dest[:cnt]), 0
}

// Write writes into the spool file; the size is visible at once. A write
// that would take the file past the backend's MaxFileSize is cut short
// there, and one at or past it fails with EFBIG, as write(2) does past a
// local filesystem's largest file; neither changes what was written.
func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	n := h.n
	if err := n.fsys.checkSize(off + int64(len(data))); err != nil {
		if off >= n.fsys.limits.MaxFileSize {
			return 0, n.fsys.toErrno("write", n.path(), err)
		}
		data = data[:n.fsys.limits.MaxFileSize-off]
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.data == nil {
		return 0, syscall.EBADF
	}
	if !h.pending {
		h.pending = true // a close is to come again
		n.writers++
	}
	cnt, err := n.data.WriteAt(data, off)
	if cnt > 0 || len(data) == 0 {
		n.gen++
		n.mtime = time.Now()
		if !n.unlinked {
			n.dirty = true
			n.state = spool.Pending
		}
	}
	if err != nil {
		n.writeErr = err
		return uint32(cnt), n.fsys.toErrno("write", n.name, err)
	}
	return uint32(cnt), 0
}

// Flush is close(2): a writer's changes are uploaded before it returns
// (within the bounds of awaitUpload).
func (h *handle) Flush(ctx context.Context) syscall.Errno {
	if !h.write {
		return 0
	}
	h.n.mu.Lock()
	if h.pending {
		h.pending = false
		h.n.writers--
	}
	h.n.mu.Unlock()
	if err := h.n.closeWrite(ctx); err != nil {
		return h.n.fsys.toErrno("close", h.n.path(), err)
	}
	return 0
}

// Fsync uploads now and reports the upload's error.
func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if !h.write {
		return 0
	}
	err := h.n.failedWrite()
	if err == nil {
		err = h.n.recordComplete()
	}
	if err == nil {
		err = h.n.awaitUpload()
	}
	if err != nil {
		return h.n.fsys.toErrno("fsync", h.n.path(), err)
	}
	return 0
}

// Release drops the spool copy once the last handle is gone and the service holds
// the content; a file whose upload failed keeps its spool file.
func (h *handle) Release(ctx context.Context) syscall.Errno {
	n := h.n
	n.mu.Lock()
	n.handles--
	if h.pending {
		h.pending = false
		n.writers--
	}
	if !n.dirty {
		n.dropDataLocked()
	}
	last := n.handles == 0 && n.unlinked
	n.mu.Unlock()
	if last {
		n.fsys.releaseDeferred(n)
	}
	return 0
}
