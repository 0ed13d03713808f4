package fs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pan123fs/pan123fs/cache"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/wire"
	"github.com/pan123fs/pan123fs/spool"
)

// ensureData gives the node a spool copy of its content: empty when the
// caller is about to truncate it away, else a copy of the remote content.
//
// It waits for a running upload of the file for the operation time limit
// at most; the copy itself is bounded by its progress (copyRemote).
func (n *fileNode) ensureData(ctx context.Context, empty bool) error {
	lctx, cancel := context.WithTimeout(ctx, n.fsys.opts.OpTimeout)
	err := n.uploadMu.Lock(lctx)
	cancel()
	if err != nil {
		return err
	}
	defer n.uploadMu.Unlock()
	return n.copyToSpool(ctx, empty)
}

// copyToSpool is ensureData for a caller that holds uploadMu, or for a
// file that is no longer uploaded (unlinked).
func (n *fileNode) copyToSpool(ctx context.Context, empty bool) error {
	n.mu.Lock()
	if n.data != nil {
		n.mu.Unlock()
		return nil
	}
	hasRemote := n.id != "" && n.entry.Size > 0
	n.mu.Unlock()

	data, err := n.fsys.spool.Create()
	if err != nil {
		return err
	}
	if !empty && hasRemote {
		if err := n.copyRemote(ctx, data); err != nil {
			data.Remove()
			return err
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.data != nil {
		data.Remove()
		return nil
	}
	n.data = data
	return nil
}

// copyRemote copies the node's remote content into a spool file through
// the block cache.
//
// It is bounded by progress, not in all: each 1 MiB must come within the
// operation time limit (a large file may take longer in all).
func (n *fileNode) copyRemote(ctx context.Context, dst *spool.File) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	idle := time.AfterFunc(n.fsys.opts.OpTimeout, cancel)
	defer idle.Stop()
	key, size, fetch := n.source()
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; {
		cnt, err := n.fsys.blocks.ReadAt(ctx, key, size, fetch, buf, off)
		if cnt > 0 {
			if _, werr := dst.WriteAt(buf[:cnt], off); werr != nil {
				return werr
			}
			off += int64(cnt)
			idle.Reset(n.fsys.opts.OpTimeout)
		}
		if err != nil && !(errors.Is(err, io.EOF) && off >= size) {
			return err
		}
		if cnt == 0 && err == nil {
			return io.ErrUnexpectedEOF
		}
	}
	return nil
}

// closeWrite is what close(2) of a writer does: a changed file's data is
// made durable and journaled, then uploaded now (default) or queued
// (write-back). An upload that fails for a reason that may pass is tried
// again in the background; close still reports the failure.
func (n *fileNode) closeWrite(ctx context.Context) error {
	if err := n.discardFailedWrite(); err != nil {
		return err
	}
	n.mu.Lock()
	dirty, data := n.dirty && !n.unlinked, n.data
	var t spool.Ticket
	if !dirty && data != nil && !n.refused {
		t = n.unjournalLocked() // opened for writing, nothing changed
	}
	n.mu.Unlock()
	if !dirty {
		n.settle(t, "removing a record")
		return nil
	}
	if err := n.commit(); err != nil {
		return err
	}
	if n.fsys.opts.WriteBack {
		n.fsys.queue.schedule(n, n.fsys.opts.WriteBackDelay)
		return nil
	}
	return n.awaitUpload()
}

// failedWrite is the error of a write that failed since the content was
// last uploaded: such content is never uploaded (close drops it, see
// discardFailedWrite).
func (n *fileNode) failedWrite() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.writeErr
}

// discardFailedWrite drops the content of a file whose writing failed (a
// full spool, a disk error): it is never uploaded in part. A file that has
// a version on 123pan shows that version again; a new file disappears. It
// returns the write's error, for close(2) to report.
func (n *fileNode) discardFailedWrite() error {
	n.mu.Lock()
	werr := n.writeErr
	if werr == nil {
		n.mu.Unlock()
		return nil
	}
	n.writeErr = nil
	n.dirty = false
	n.gen++
	t := n.unjournalLocked()
	n.fsys.queue.cancel(n)
	if n.data != nil {
		n.data.Remove()
		n.data = nil
	}
	parent, name, isNew := n.parent, n.name, n.id == ""
	if isNew {
		n.unlinked = true
	}
	n.mu.Unlock()
	n.settle(t, "removing a record")
	n.fsys.log.Warn("writing failed; the incomplete content is dropped, not uploaded", "name", name, "err", werr)
	if isNew {
		parent.mu.Lock()
		if parent.children[name] == n {
			parent.setChildLocked(name, nil)
		}
		parent.mu.Unlock()
		parent.RmChild(name)
		parent.NotifyEntry(name)
	}
	return werr
}

// commit journals the file as complete. In write-back mode, where close
// returns before the upload, the spool data is fsync'd too, alongside the
// record: close waits for both, and their order does not matter, since a
// record that reached the disk before its data (a power loss between the
// two, before close returned) names an md5 the data does not have, and the
// restart keeps such data aside instead of uploading it (recover.go). In
// the default mode close returns only after the upload, so neither the
// data nor the record need survive a power loss before then: the record
// is written without waiting for the disk (a crash of the process keeps
// it; the next durable journal write takes it to the disk).
func (n *fileNode) commit() error {
	n.mu.Lock()
	data := n.data
	n.mu.Unlock()
	if data == nil {
		return nil
	}
	if !n.fsys.opts.WriteBack {
		return n.journal(spool.Closed)
	}
	synced := make(chan error, 1)
	go func() { synced <- data.Sync() }()
	jerr := n.journal(spool.Closed)
	return errors.Join(<-synced, jerr)
}

// uploadNow uploads at once (close in the default mode, fsync); on a
// failure that may pass, the queue tries again later.
func (n *fileNode) uploadNow(ctx context.Context) error {
	n.fsys.queue.cancel(n)
	err := n.sync(ctx)
	if err != nil && !permanent(err) {
		n.fsys.queue.schedule(n, time.Second)
	}
	return err
}

// sync uploads the node's spool content if it changed since the last
// upload. It returns only when 123pan holds the content, or the reason it
// does not. The journal follows each step.
func (n *fileNode) sync(ctx context.Context) error {
	if err := n.uploadMu.Lock(ctx); err != nil {
		return err
	}
	defer n.uploadMu.Unlock()
	path := n.path()
	n.mu.Lock()
	if !n.dirty || n.unlinked || n.data == nil {
		n.mu.Unlock()
		return nil
	}
	gen, data, parent, name, oldID, resume := n.gen, n.data, n.parent, n.name, n.id, n.resume
	n.state, n.done, n.refused = stateUploading, 0, false
	n.mu.Unlock()

	hooks := uploadHooks{
		resume: resume,
		started: func(preuploadID string, sliceSize int64) {
			if data.Size() <= sliceSize {
				return // one slice: resuming would save nothing, so no journal write
			}
			n.mu.Lock()
			n.resume = &resumePoint{preuploadID: preuploadID, sliceSize: sliceSize}
			t, err := n.journalLocked(path, spool.Uploading, false)
			n.mu.Unlock()
			if err != nil {
				n.fsys.log.Warn("journal: recording an upload", "path", path, "err", err)
				return
			}
			n.settle(t, "recording an upload")
		},
		progress: func(done int64) {
			n.mu.Lock()
			n.done = done
			n.mu.Unlock()
		},
	}
	e, err := n.fsys.put(ctx, parent, name, oldID, data, hooks)

	if err != nil {
		n.fsys.counters.uploadErrors.Add(1)
	} else {
		n.fsys.counters.uploads.Add(1)
		n.fsys.counters.uploadBytes.Add(data.Size())
		n.keepUploaded(gen, e, data)
	}
	n.mu.Lock()
	if err != nil {
		n.lastErr = err
		n.state = stateFailed
		state := spool.Closed
		if n.resume != nil {
			state = spool.Uploading
		}
		if permanent(err) {
			n.refused, state = true, spool.Failed
		}
		t, jerr := n.journalLocked(path, state, false)
		n.mu.Unlock()
		if jerr != nil {
			n.fsys.log.Warn("journal: recording a failed upload", "path", path, "err", jerr)
		} else {
			n.settle(t, "recording a failed upload")
		}
		return err
	}
	n.resume = nil
	if n.unlinked {
		n.mu.Unlock()
		n.fsys.deleter.Enqueue(string(e.FileID), nil)
		return nil
	}
	n.id, n.entry, n.lastErr, n.attempts = string(e.FileID), *e, nil, 0
	var t spool.Ticket
	if n.gen == gen {
		n.dirty = false
		n.state = stateSynced
		t = n.unjournalLocked()
		n.dropDataLocked()
	}
	n.mu.Unlock()
	n.settle(t, "removing a record")
	return nil
}

// keepUploaded puts the content just uploaded as e into the block cache
// (content.go), unless the file changed since generation gen: then the
// spool no longer holds what was uploaded, and what was put is taken back.
func (n *fileNode) keepUploaded(gen uint64, e *wire.Entry, data *spool.File) {
	changed := func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.gen != gen
	}
	if changed() {
		return
	}
	n.fsys.writeThrough(string(e.FileID), e.Etag, data)
	if changed() {
		n.fsys.blocks.Forget(contentKey(string(e.FileID), e.Etag, e.Size))
	}
}

// uploadHooks connect an upload to the journal and to status.
type uploadHooks struct {
	resume   *resumePoint
	started  func(preuploadID string, sliceSize int64)
	progress func(done int64)
}

// put stores data under parent/name. A file that already has a remote
// version (oldID) is replaced without a moment where 123pan holds neither:
// the new content goes up under a temporary name, the old entry is deleted,
// the content is created again under the real name (instant: same md5 and
// size), and the temporary entry is deleted.
func (f *FS) put(ctx context.Context, parent *dirNode, name, oldID string, data *spool.File, hooks uploadHooks) (*wire.Entry, error) {
	rname, err := remoteName(name)
	if err != nil {
		return nil, err
	}
	sum, err := data.MD5()
	if err != nil {
		return nil, err
	}
	in := remote.UploadInput{ParentID: parent.remoteID(), Name: rname, Src: data, Size: data.Size(), MD5: sum,
		Started: hooks.started, Progress: hooks.progress}
	if err := parent.clearDeleting(ctx, rname); err != nil {
		return nil, err
	}
	if oldID == "" {
		res, err := f.upload(ctx, in, hooks.resume)
		if err != nil {
			return nil, err
		}
		return newEntry(res.FileID, rname, in), nil
	}
	tmp := in
	tmp.Name = tmpName(rname)
	tres, err := f.rc.Upload(ctx, tmp)
	if err != nil {
		return nil, err
	}
	if err := f.rc.Delete(ctx, []string{oldID}); err != nil {
		f.deleter.Enqueue(tres.FileID, nil)
		return nil, err
	}
	res, err := f.rc.Upload(ctx, in)
	if err != nil {
		f.log.Error("the new content is on 123pan only under a temporary name", "name", rname, "temporary", tmp.Name, "err", err)
		return nil, err
	}
	if err := f.rc.Delete(ctx, []string{tres.FileID}); err != nil {
		f.log.Warn("deleting the temporary entry failed; queued", "temporary", tmp.Name, "err", err)
		f.deleter.Enqueue(tres.FileID, nil)
	}
	return newEntry(res.FileID, rname, in), nil
}

// upload resumes an interrupted upload when 123pan still knows it, else
// starts one.
func (f *FS) upload(ctx context.Context, in remote.UploadInput, resume *resumePoint) (*remote.UploadResult, error) {
	if resume != nil && resume.preuploadID != "" {
		in.SliceSize = resume.sliceSize
		res, err := f.rc.ResumeUpload(ctx, resume.preuploadID, in)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		f.log.Info("could not resume an upload; starting it again", "name", in.Name, "err", err)
	}
	return f.rc.Upload(ctx, in)
}

// newEntry describes a file just uploaded from what the upload knew. The
// upload answers only the ID; the download link is asked for (with detail)
// only when something needs it (fileNode.link), not once per upload.
func newEntry(id, rname string, in remote.UploadInput) *wire.Entry {
	now := wire.FormatTime(time.Now())
	return &wire.Entry{FileID: wire.ID(id), Filename: rname, Size: in.Size, Etag: in.MD5, Status: 2,
		CreateAt: now, UpdateAt: now, ParentFileID: wire.ID(in.ParentID)}
}

// link returns what reading the node's remote content needs, asking detail
// for the download link when the entry came from an upload.
func (n *fileNode) link(ctx context.Context) (key cache.Key, url string, size int64, err error) {
	n.mu.Lock()
	id, e := n.id, n.entry
	n.mu.Unlock()
	if e.DownloadURL == "" && id != "" {
		d, err := n.fsys.rc.Detail(ctx, id)
		if err != nil {
			return cache.Key{}, "", 0, err
		}
		n.mu.Lock()
		if n.id == id {
			n.entry = *d
		}
		n.mu.Unlock()
		e = *d
	}
	return contentKey(id, e.Etag, e.Size), e.DownloadURL, e.Size, nil
}

// fetcher reads ranges of the remote file at url for the block cache.
func (f *FS) fetcher(url string, size int64) cache.Fetcher {
	r := f.rc.NewReader(url, size)
	return func(ctx context.Context, off, length int64) (io.ReadCloser, error) {
		return r.OpenRange(ctx, off, length)
	}
}

// tmpPrefix starts the names replacements are uploaded under.
const tmpPrefix = ".pan123fs-"

// tmpName is the name a replacement is uploaded under before it takes the
// real name: ".pan123fs-XXXXXXXX-NAME".
func tmpName(rname string) string {
	var b [4]byte
	rand.Read(b[:])
	prefix := tmpPrefix + hex.EncodeToString(b[:]) + "-"
	for utf8.RuneCountInString(prefix+rname) >= wire.MaxNameLen {
		_, size := utf8.DecodeLastRuneInString(rname)
		rname = rname[:len(rname)-size]
	}
	return prefix + rname
}

// isTmpName tells whether name is a temporary name made by tmpName for
// rname (possibly shortened).
func isTmpName(name, rname string) bool {
	rest, ok := strings.CutPrefix(name, tmpPrefix)
	if !ok || len(rest) < 9 || rest[8] != '-' {
		return false
	}
	short := rest[9:]
	return short != "" && strings.HasPrefix(rname, short)
}
