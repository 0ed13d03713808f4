package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pan123fs/pan123fs/spool"
)

// Recovered is a file that was still being written when an earlier run
// ended: its spool data is kept in the recovery folder, never uploaded.
type Recovered struct {
	Path  string    `json:"path"`  // where it was being written in the mount
	Saved string    `json:"saved"` // where its data is now
	Size  int64     `json:"size"`
	When  time.Time `json:"when"`
}

// Recover takes up the work an earlier run left in the journal: files that
// were complete are put back at their paths (visible at once, with their
// sizes) and queued for upload, resuming interrupted multi-slice uploads
// where 123pan still knows them; files that were still open for writing are
// moved to the recovery folder and reported; queued deletes are sent.
// Call it before Mount.
func (f *FS) Recover(ctx context.Context) error {
	if f.journal == nil {
		return nil
	}
	recs, err := f.journal.Records()
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range recs {
		if err := f.recoverOne(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Path, err))
		}
	}
	for _, id := range f.journal.PendingDeletes() {
		f.deleter.Enqueue(id, nil)
	}
	if n := len(recs); n > 0 {
		f.log.Info("journal replayed", "files", n, "deletes", len(f.journal.PendingDeletes()))
	}
	return errors.Join(errs...)
}

func (f *FS) recoverOne(ctx context.Context, r spool.Record) error {
	path := filepath.Join(f.spool.Dir(), r.Key)
	if _, err := os.Stat(path); err != nil {
		f.log.Error("journal names a spool file that is gone; dropping the record", "path", r.Path, "err", err)
		return f.journal.Remove(r.Key)
	}
	if r.State == spool.Writing {
		return f.keepUnfinished(r, path)
	}
	data, err := f.spool.Adopt(path)
	if err != nil {
		return err
	}
	if data.Size() != r.Size {
		data.Close()
		f.log.Error("spool file size differs from its journal record; keeping it aside", "path", r.Path)
		return f.keepUnfinished(r, path)
	}
	dir, name := splitPath(r.Path)
	parent, err := f.resolveDir(ctx, dir)
	if err != nil {
		data.Close()
		return err
	}
	n := &fileNode{fsys: f, ino: f.newLocalIno(), parent: parent, name: name, id: r.OldID,
		data: data, dirty: true, gen: 1, mtime: r.Updated, state: statePending,
		key: r.Key, seq: r.Seq, attempts: r.Attempts}
	if r.PreuploadID != "" {
		n.resume = &resumePoint{preuploadID: r.PreuploadID, sliceSize: r.SliceSize}
	}
	if r.State == spool.Failed {
		n.refused, n.state = true, stateFailed
		n.lastErr = errors.New(r.Reason)
	}

	parent.mu.Lock()
	err = parent.loadLocked(ctx, false)
	if err != nil {
		parent.mu.Unlock()
		data.Close()
		return err
	}
	if old, ok := parent.children[name].(*fileNode); ok {
		old.mu.Lock()
		same := old.entry.Etag == r.MD5 && old.entry.Size == r.Size && old.id != "" && old.id != r.OldID
		oldID := old.id
		old.mu.Unlock()
		if same {
			// The upload finished before the record could be removed.
			parent.mu.Unlock()
			f.log.Info("journaled file is already on 123pan", "path", r.Path)
			data.Remove()
			return f.journal.Remove(r.Key)
		}
		n.id = oldID // the user's last complete write replaces what is there
	} else if _, isDir := parent.children[name].(*dirNode); isDir {
		parent.mu.Unlock()
		data.Close()
		return fmt.Errorf("a folder now has the name of a pending file; its data stays in %s", path)
	}
	parent.children[name] = n
	parent.mu.Unlock()
	f.trackPending(n, true)
	f.cleanTemporaries(ctx, parent, encodeName(name), r.MD5)
	if !n.refused {
		f.queue.schedule(n, 0)
	}
	return nil
}

// keepUnfinished moves the data of a file whose writing was cut short to
// the recovery folder: it is never uploaded as if complete.
func (f *FS) keepUnfinished(r spool.Record, path string) error {
	dir := f.opts.RecoveryDir
	if dir == "" {
		dir = filepath.Join(filepath.Dir(f.spool.Dir()), "recovery")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	saved := filepath.Join(dir, time.Now().Format("20060102-150405")+"-"+strings.ReplaceAll(r.Path, "/", "_"))
	if err := os.Rename(path, saved); err != nil {
		return err
	}
	st, _ := os.Stat(saved)
	rec := Recovered{Path: r.Path, Saved: saved, When: time.Now()}
	if st != nil {
		rec.Size = st.Size()
	}
	f.pendMu.Lock()
	f.recovered = append(f.recovered, rec)
	f.pendMu.Unlock()
	f.log.Warn("a file was still being written when pan123fs stopped; its data is kept, not uploaded",
		"path", r.Path, "saved", saved, "size", rec.Size)
	return f.journal.Remove(r.Key)
}

// cleanTemporaries deletes entries a replacement left under a temporary
// name (see put) holding the same content.
func (f *FS) cleanTemporaries(ctx context.Context, d *dirNode, rname, md5 string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for local, ch := range d.children {
		fn, ok := ch.(*fileNode)
		if !ok || !isTmpName(encodeName(local), rname) {
			continue
		}
		fn.mu.Lock()
		match, id := fn.entry.Etag == md5, fn.id
		fn.mu.Unlock()
		if match && id != "" {
			delete(d.children, local)
			f.deleter.Enqueue(id, nil)
		}
	}
}

// resolveDir finds (making it on 123pan if needed) the folder at path.
func (f *FS) resolveDir(ctx context.Context, path string) (*dirNode, error) {
	d := f.root
	if path == "" {
		return d, nil
	}
	for _, name := range strings.Split(path, "/") {
		d.mu.Lock()
		err := d.loadLocked(ctx, false)
		ch := d.children[name]
		d.mu.Unlock()
		if err != nil {
			return nil, err
		}
		switch c := ch.(type) {
		case *dirNode:
			d = c
		case nil:
			nd, err := d.mkdir(ctx, name)
			if err != nil && !errors.Is(err, syscall.EEXIST) {
				return nil, err
			}
			if nd == nil {
				return nil, fmt.Errorf("folder %s appeared while it was made", name)
			}
			d = nd
		default:
			return nil, fmt.Errorf("%s is a file, not a folder", name)
		}
	}
	return d, nil
}

func splitPath(p string) (dir, name string) {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}
