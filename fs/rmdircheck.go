package fs

import (
	"context"
	"sync"
	"syscall"
	"time"
)

// A folder another machine (or client) put something into after this
// mount listed it looks empty here until the listing expires, and the
// service's delete of a folder takes what it holds: rmdir, or a rename
// over it, would delete files this mount never showed. So the folder is
// asked afresh whether it holds anything before its delete is sent: for
// rmdir once the deletes of what it held here are done (rm -r's), so that
// the check is one list call of an empty folder, and rmdir returns at
// once as an unlink does; a folder found holding something shows again,
// as an entry whose delete failed does. A rename over a folder checks
// before it goes on.

// emptyOnService answers ENOTEMPTY (and drops the folder's listing, so
// that the next readdir shows what came) when the service lists anything
// in d but the entries whose delete this mount has queued (rm -r's); nil
// when it lists nothing else. A folder not on the service yet is empty
// there.
func (d *dirNode) emptyOnService(ctx context.Context) error {
	id := d.remoteID()
	if id == "" {
		return nil
	}
	d.mu.Lock()
	going := make(map[string]bool, len(d.deleting))
	for _, gid := range d.deleting {
		going[gid] = true
	}
	d.mu.Unlock()
	for e, err := range d.fsys.backend.List(ctx, id) {
		if err != nil {
			return err
		}
		if going[e.ID] {
			continue
		}
		d.fsys.log.Info("the folder holds entries this mount has not listed yet; not deleted", "folder", d.path())
		d.invalidate()
		return syscall.ENOTEMPTY
	}
	return nil
}

// queueFolderDeleteLocked queues the delete of folder ch, named name in d,
// for after the deletes of what it held here and a check that the service
// holds nothing else in it (see above). Close waits for the check.
//
// call with d.mu held
func (d *dirNode) queueFolderDeleteLocked(name, id string, ch *dirNode) {
	if id == "" {
		return
	}
	if d.deleting == nil {
		d.deleting = map[string]string{}
	}
	d.deleting[name] = id
	ch.mu.Lock()
	var held []string
	for _, cid := range ch.deleting {
		held = append(held, cid)
	}
	ch.mu.Unlock()
	f := d.fsys
	checked := f.folderChecks.add(id)
	go func() {
		defer f.folderChecks.done(id, checked)
		// Bounded only so that nothing waits forever: the deletes of the
		// folder's files take what the deleter's retries take.
		ctx, cancel := context.WithTimeout(context.Background(), folderCheckLimit)
		defer cancel()
		for _, cid := range held {
			if sub := f.folderChecks.of(cid); sub != nil {
				<-sub // a subfolder's delete is queued (or refused) first
			}
			if !f.deleteWaitsForClose(cid) { // a file still open: excluded below
				_ = f.deleter.Await(ctx, cid) // one that failed shows again, and is seen below
			}
		}
		if err := ch.emptyOnService(ctx); err != nil {
			f.log.Warn("the folder was not deleted; it shows again", "folder", ch.path(), "err", err)
			d.mu.Lock()
			if d.deleting[name] == id {
				delete(d.deleting, name) // content of d again: d's own check sees it
			}
			d.mu.Unlock()
			d.restore(name, ch)
			return
		}
		f.deleter.Enqueue(id, d.deleteDone(name, id, ch))
	}()
}

// folderCheckLimit bounds a removed folder's wait for its files' deletes.
const folderCheckLimit = time.Hour

// deleteWaitsForClose tells whether id's delete waits for the last close
// of its file.
func (f *FS) deleteWaitsForClose(id string) bool {
	f.defMu.Lock()
	defer f.defMu.Unlock()
	return f.waiting[id] != nil
}

// running counts the folder checks at work, for a wait until none is,
// and tells when the check of a given folder is over. Unlike a
// sync.WaitGroup it may be added to while waited on.
type running struct {
	mu    sync.Mutex
	n     int                      // GUARDED_BY(mu)
	idle  chan struct{}            // GUARDED_BY(mu): closed when n drops to 0
	ended map[string]chan struct{} // GUARDED_BY(mu): folder ID → closed when its check is over
}

// add counts the check of folder id, and gives the channel done closes.
func (r *running) add(id string) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		r.idle = make(chan struct{})
	}
	r.n++
	if r.ended == nil {
		r.ended = map[string]chan struct{}{}
	}
	c := make(chan struct{})
	r.ended[id] = c
	return c
}

// done ends the check of folder id, which add gave c.
func (r *running) done(id string, c chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(c)
	if r.ended[id] == c {
		delete(r.ended, id)
	}
	if r.n--; r.n == 0 {
		close(r.idle)
	}
}

// of is the channel closed when the check of folder id is over; nil when
// none runs.
func (r *running) of(id string) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ended[id]
}

// wait returns when none runs, or when ctx ends.
func (r *running) wait(ctx context.Context) {
	r.mu.Lock()
	if r.n == 0 {
		r.mu.Unlock()
		return
	}
	idle := r.idle
	r.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

// flushDeletes sends every queued delete now and waits for the outcome,
// the folders rmdir removed included: their checks wait for their files'
// deletes, then queue theirs, which another round sends.
func (f *FS) flushDeletes(ctx context.Context) error {
	for {
		if err := f.deleter.Flush(ctx); err != nil {
			return err
		}
		if f.folderChecks.count() == 0 {
			return nil
		}
		f.folderChecks.wait(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// count is how many run.
func (r *running) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
