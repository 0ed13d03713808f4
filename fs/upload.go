package fs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"time"
	"unicode/utf8"

	"github.com/pan123fs/pan123fs/cache"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/wire"
	"github.com/pan123fs/pan123fs/spool"
)

// ensureData gives the node a spool copy of its content: empty when the
// caller is about to truncate it away, else a copy of the remote content.
func (n *fileNode) ensureData(ctx context.Context, empty bool) error {
	n.uploadMu.Lock()
	defer n.uploadMu.Unlock()
	n.mu.Lock()
	if n.data != nil {
		n.mu.Unlock()
		return nil
	}
	id, etag, url, size := n.id, n.entry.Etag, n.entry.DownloadURL, n.entry.Size
	n.mu.Unlock()

	data, err := n.fsys.spool.Create()
	if err != nil {
		return err
	}
	if !empty && size > 0 {
		if err := n.fsys.copyRemote(ctx, data, cache.Key{FileID: id, Etag: etag}, url, size); err != nil {
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

// copyRemote copies a remote file into a spool file through the block cache.
func (f *FS) copyRemote(ctx context.Context, dst *spool.File, key cache.Key, url string, size int64) error {
	if url == "" {
		return errors.New("no download link known for this file yet")
	}
	fetch := func(ctx context.Context, off, length int64) (io.ReadCloser, error) {
		return f.rc.NewReader(url, size).OpenRange(ctx, off, length)
	}
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; {
		cnt, err := f.blocks.ReadAt(ctx, key, size, fetch, buf, off)
		if cnt > 0 {
			if _, werr := dst.WriteAt(buf[:cnt], off); werr != nil {
				return werr
			}
			off += int64(cnt)
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

// sync uploads the node's spool content if it changed since the last
// upload. It returns only when 123pan holds the content, or the reason it
// does not.
func (n *fileNode) sync(ctx context.Context) error {
	n.uploadMu.Lock()
	defer n.uploadMu.Unlock()
	n.mu.Lock()
	if !n.dirty || n.unlinked || n.data == nil {
		n.mu.Unlock()
		return nil
	}
	gen, data, parent, name, oldID := n.gen, n.data, n.parent, n.name, n.id
	n.state = stateUploading
	n.mu.Unlock()

	e, err := n.fsys.put(ctx, parent, name, oldID, data)

	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		n.state = stateFailed
		n.lastErr = err
		return err
	}
	if n.unlinked {
		n.fsys.deleter.Enqueue(string(e.FileID), nil)
		return nil
	}
	n.id, n.entry, n.lastErr = string(e.FileID), *e, nil
	if n.gen == gen {
		n.dirty = false
		n.state = stateSynced
		n.dropDataLocked()
	}
	return nil
}

// put stores data under parent/name. A file that already has a remote
// version (oldID) is replaced without a moment where 123pan holds neither:
// the new content goes up under a temporary name, the old entry is deleted,
// the content is created again under the real name (instant: same md5 and
// size), and the temporary entry is deleted.
func (f *FS) put(ctx context.Context, parent *dirNode, name, oldID string, data *spool.File) (*wire.Entry, error) {
	rname, err := remoteName(name)
	if err != nil {
		return nil, err
	}
	sum, err := data.MD5()
	if err != nil {
		return nil, err
	}
	in := remote.UploadInput{ParentID: parent.remoteID(), Name: rname, Src: data, Size: data.Size(), MD5: sum}
	parent.mu.Lock()
	err = parent.clearDeletingLocked(ctx, rname)
	parent.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if oldID == "" {
		res, err := f.rc.Upload(ctx, in)
		if err != nil {
			return nil, err
		}
		return f.describe(ctx, parent, res.FileID, rname, in), nil
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
	return f.describe(ctx, parent, res.FileID, rname, in), nil
}

// describe fetches the entry of a file just made; if that fails, it makes
// do with what is known and has the folder listed again.
func (f *FS) describe(ctx context.Context, parent *dirNode, id, rname string, in remote.UploadInput) *wire.Entry {
	e, err := f.rc.Detail(ctx, id)
	if err == nil {
		return e
	}
	f.log.Warn("detail of a new file failed; its link will show after the next listing", "name", rname, "err", err)
	parent.invalidate()
	now := wire.FormatTime(time.Now())
	return &wire.Entry{FileID: wire.ID(id), Filename: rname, Size: in.Size, Etag: in.MD5, Status: 2,
		CreateAt: now, UpdateAt: now, ParentFileID: wire.ID(in.ParentID)}
}

// tmpName is the name a replacement is uploaded under before it takes the
// real name.
func tmpName(rname string) string {
	var b [4]byte
	rand.Read(b[:])
	prefix := ".pan123fs-" + hex.EncodeToString(b[:]) + "-"
	for utf8.RuneCountInString(prefix+rname) >= wire.MaxNameLen {
		_, size := utf8.DecodeLastRuneInString(rname)
		rname = rname[:len(rname)-size]
	}
	return prefix + rname
}
