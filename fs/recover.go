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
	Why   string    `json:"why"`
}

// Recover takes up the work an earlier run left in the journal: files that
// were complete are put back at their paths (visible at once, with their
// sizes) and queued for upload, resuming interrupted uploads where the
// service still knows them; files that were still open for writing are
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
			f.deferRecovery(r, err)
		}
	}
	if err := f.keepOrphans(recs); err != nil {
		errs = append(errs, err)
	}
	for _, id := range f.journal.PendingDeletes() {
		f.deleter.Enqueue(id, nil)
	}
	if n := len(recs); n > 0 {
		f.log.Info("journal replayed", "files", n, "deletes", len(f.journal.PendingDeletes()))
	}
	if len(errs) > 0 {
		go f.retryRecovery()
	}
	return errors.Join(errs...)
}

// deferred is a journal record that could not be taken up yet (the
// service unreachable at start, say): it is tried again in the background, and
// status and sync count it as pending.
type deferred struct {
	rec spool.Record
	err error
}

func (f *FS) deferRecovery(r spool.Record, err error) {
	f.pendMu.Lock()
	defer f.pendMu.Unlock()
	f.deferred = append(f.deferred, deferred{rec: r, err: err})
}

// retryRecovery takes up deferred records until none is left or the
// filesystem closes, waiting longer after each round that fails
// (Options.RecoveryRetry).
func (f *FS) retryRecovery() {
	for round := 0; ; round++ {
		t := f.clock.NewTimer(f.opts.RecoveryRetry.Delay(round))
		select {
		case <-f.queue.done:
			t.Stop()
			return
		case <-t.Chan():
		}
		f.pendMu.Lock()
		todo := f.deferred
		f.deferred = nil
		f.pendMu.Unlock()
		for _, d := range todo {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			err := f.recoverOne(ctx, d.rec)
			cancel()
			if err != nil {
				f.deferRecovery(d.rec, err)
			} else {
				f.log.Info("journaled file taken up", "path", d.rec.Path)
			}
		}
		f.pendMu.Lock()
		left := len(f.deferred)
		f.pendMu.Unlock()
		if left == 0 {
			return
		}
	}
}

// deferredCount is how many journal records wait to be taken up.
func (f *FS) deferredCount() int {
	f.pendMu.Lock()
	defer f.pendMu.Unlock()
	return len(f.deferred)
}

func (f *FS) recoverOne(ctx context.Context, r spool.Record) error {
	path := filepath.Join(f.spool.Dir(), r.Key)
	if _, err := os.Stat(path); err != nil {
		f.log.Error("journal names a spool file that is gone; dropping the record", "path", r.Path, "err", err)
		return f.journal.Remove(r.Key)
	}
	if r.Damaged != "" {
		return f.keepAside(r, path, "its journal record is damaged ("+r.Damaged+")")
	}
	if r.State == spool.Writing {
		return f.keepUnfinished(r, path)
	}
	data, err := f.spool.Adopt(path)
	if err != nil {
		return err
	}
	if sum, err := data.MD5(); data.Size() != r.Size || err != nil || (r.MD5 != "" && sum != r.MD5) {
		data.Close()
		return f.keepAside(r, path, "its data does not match its journal record (cut short by a power loss?)")
	}
	dir, name := splitPath(r.Path)
	parent, err := f.resolveDir(ctx, dir)
	if err != nil {
		data.Close()
		return err
	}
	n := &fileNode{fsys: f, ino: f.newLocalIno(), parent: parent, name: name, id: r.Replaces,
		data: data, dirty: true, gen: 1, mtime: r.Updated, state: spool.Pending,
		key: r.Key, seq: r.Seq, attempts: r.Attempts, jstate: r.State, resume: r.Resume}
	if r.State == spool.Failed {
		n.refused, n.state = true, spool.Failed
		n.lastErr = errors.New(r.Reason)
	}

	if err := parent.load(ctx); err != nil {
		data.Close()
		return err
	}
	parent.mu.Lock()
	if old, ok := parent.children[name].(*fileNode); ok {
		old.mu.Lock()
		same := old.entry.MD5 == r.MD5 && old.entry.Size == r.Size && old.id != "" && old.id != r.Replaces
		oldID, local := old.id, old.id == "" || old.dirty
		newer := old.id != r.Replaces && old.entry.Time().After(r.Updated.Add(time.Second))
		old.mu.Unlock()
		switch {
		case same:
			// The upload finished before the record could be removed.
			parent.mu.Unlock()
			f.log.Info("journaled file is already on the service", "path", r.Path)
			data.Remove()
			return f.journal.Remove(r.Key)
		case local || newer:
			// Written again since this record: the record is stale. Its
			// data is kept aside, never written over the newer file.
			parent.mu.Unlock()
			data.Close()
			return f.keepAside(r, path, "superseded by a newer version")
		}
		n.id = oldID // the user's last complete write replaces what is there
	} else if _, isDir := parent.children[name].(*dirNode); isDir {
		parent.mu.Unlock()
		data.Close()
		return fmt.Errorf("a folder now has the name of a pending file; its data stays in %s", path)
	}
	parent.setChildLocked(name, n)
	parent.mu.Unlock()
	f.trackPending(n, true)
	f.dropLeftovers(parent, name, r.MD5)
	if !n.refused {
		f.queue.schedule(n, 0)
	}
	return nil
}

// keepOrphans keeps aside the spool files that no record names: files
// being written whose record (written without waiting for the disk, see
// spool.Journal.Note) a power loss took away. An empty one holds nothing
// to keep (a spool file is made just before its record, so a crash in
// between leaves one) and is deleted.
func (f *FS) keepOrphans(recs []spool.Record) error {
	known := make(map[string]bool, len(recs))
	for _, r := range recs {
		known[r.Key] = true
	}
	ents, err := os.ReadDir(f.spool.Dir())
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		if known[e.Name()] || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(f.spool.Dir(), e.Name())
		if info, err := e.Info(); err == nil && info.Size() == 0 {
			if err := os.Remove(path); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		r := spool.Record{Key: e.Name(), State: spool.Writing}
		if err := f.keepAside(r, path, "no journal record names it (cut short by a power loss while it was written?)"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// keepUnfinished moves the data of a file whose writing was cut short to
// the recovery folder: it is never uploaded as if complete.
func (f *FS) keepUnfinished(r spool.Record, path string) error {
	return f.keepAside(r, path, "was being written when pan123fs stopped")
}

// keepAside moves a journaled file's data to the recovery folder, reports
// it, and drops its record.
func (f *FS) keepAside(r spool.Record, path, why string) error {
	dir := f.opts.RecoveryDir
	if dir == "" {
		dir = filepath.Join(filepath.Dir(f.spool.Dir()), "recovery")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	label := strings.ReplaceAll(r.Path, "/", "_")
	if label == "" {
		label = r.Key // the path is unknown: a damaged record, or none
	}
	saved := filepath.Join(dir, time.Now().Format("20060102-150405")+"-"+label)
	if err := os.Rename(path, saved); err != nil {
		return err
	}
	st, _ := os.Stat(saved)
	rec := Recovered{Path: r.Path, Saved: saved, When: time.Now(), Why: why}
	if st != nil {
		rec.Size = st.Size()
	}
	f.pendMu.Lock()
	f.recovered = append(f.recovered, rec)
	f.pendMu.Unlock()
	f.log.Warn("journaled data kept aside, not uploaded", "why", why, "path", r.Path, "saved", saved, "size", rec.Size)
	return f.journal.Remove(r.Key)
}

// dropLeftovers deletes the entries of folder d that an upload of name
// with content md5, cut short by the end of the earlier run, left behind
// (the backend recognises them: store.Backend.Leftover).
func (f *FS) dropLeftovers(d *dirNode, name, md5 string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for local, ch := range d.children {
		fn, ok := ch.(*fileNode)
		if !ok {
			continue
		}
		fn.mu.Lock()
		e, id := fn.entry, fn.id
		fn.mu.Unlock()
		if id != "" && f.backend.Leftover(e, name, md5) {
			d.setChildLocked(local, nil)
			f.deleter.Enqueue(id, nil)
		}
	}
}

// resolveDir finds (making it on the service if needed) the folder at path.
func (f *FS) resolveDir(ctx context.Context, path string) (*dirNode, error) {
	d := f.root
	if path == "" {
		return d, nil
	}
	for _, name := range strings.Split(path, "/") {
		if err := d.load(ctx); err != nil {
			return nil, err
		}
		d.mu.Lock()
		ch := d.children[name]
		d.mu.Unlock()
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
