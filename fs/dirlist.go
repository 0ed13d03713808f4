package fs

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/pan123fs/pan123fs/store"
)

// staleWait is how long a caller waits for a folder's new listing when an
// expired one is at hand: past it, the expired listing is served while the
// new one goes on in the background.
const staleWait = 2 * time.Second

// errListingTimedOut is a listing that did not come within the operation's
// time limit; errno.go maps it to EIO.
var errListingTimedOut = errors.New("listing the folder took too long")

// listLoad is one listing of a folder in flight. Every caller that needs
// the folder listed meanwhile waits on the same one.
type listLoad struct {
	started time.Time
	done    chan struct{}
	told    chan struct{} // closed after done, once the kernel is told of the changes (notify.go)
	err     error         // set before done is closed
	warned  atomic.Bool   // an old listing was served meanwhile, and said so
}

// load makes sure d.children holds a listing: the cached one while it is
// fresh, else a new one from list calls. The list calls run in the
// background, without d.mu, so that lookups, Getattr and the operations on
// other names of the folder never wait for them; callers wait for the
// listing until it ends (it is abandoned when no entry comes for the
// operation time limit: a large folder takes longer in all) or ctx ends
// (the kernel's interrupt; the operation's own limit is held meanwhile).
// When the API is slow or down and an expired listing is at hand, that
// listing is served, with a log line, instead of an error.
func (d *dirNode) load(ctx context.Context) error {
	d.mu.Lock()
	if d.removed {
		if d.children == nil {
			d.children = map[string]node{}
		}
		d.mu.Unlock()
		return nil
	}
	now := d.fsys.clock.Now()
	if d.children != nil && (d.fsys.listings.Fresh(d) || now.Sub(d.failedAt) < staleWait) {
		// fresh, or a listing failed a moment ago: the old one serves
		// without another call until then
		d.mu.Unlock()
		return nil
	}
	ld := d.loading
	if ld == nil {
		ld = newListLoad(now)
		d.loading = ld
		go d.runLoad(ld, d.edits)
	}
	stale := d.children != nil
	// Once a listing has been slow, or the last one failed, callers get
	// the expired listing at once until one succeeds.
	wait := staleWait - now.Sub(ld.started)
	if now.Sub(d.failedAt) < d.fsys.opts.OpTimeout {
		wait = 0
	}
	d.mu.Unlock()
	// The listing is bounded by its own progress (runLoad); the caller's
	// time limit waits meanwhile, and starts again once it is there.
	defer holdLimit(ctx)()

	var slow <-chan time.Time
	if stale {
		t := d.fsys.clock.NewTimer(max(wait, 0))
		defer t.Stop()
		slow = t.Chan()
	}
	for {
		select {
		case <-ld.done:
			if ld.err != nil && d.hasListing() {
				ld.warnOnce(d, "the service did not list the folder; serving its last listing", ld.err)
				return nil
			}
			return ld.err
		case <-slow:
			if d.hasListing() {
				ld.warnOnce(d, "the service is slow to list the folder; serving its last listing meanwhile", nil)
				return nil
			}
			slow = nil // dropped meanwhile: nothing else to serve, wait for the listing
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return errListingTimedOut
			}
			return ctx.Err()
		}
	}
}

// warnOnce logs that an old listing is served, once per listing attempt
// (a folder of many files would otherwise log a line per lookup).
func (ld *listLoad) warnOnce(d *dirNode, msg string, err error) {
	if ld.warned.CompareAndSwap(false, true) {
		d.fsys.log.Warn(msg, "folder", d.path(), "err", err)
	}
}

func (d *dirNode) hasListing() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.children != nil
}

// runLoad lists the folder for ld. The listing is abandoned when the service
// sends nothing for the operation time limit (a large folder may take
// longer in all: each page restarts the clock).
func (d *dirNode) runLoad(ld *listLoad, since uint64) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	idle := d.fsys.clock.AfterFunc(d.fsys.opts.OpTimeout, cancel)
	defer idle.Stop()
	var entries []store.Entry
	var err error
	for e, lerr := range d.fsys.backend.List(ctx, d.remoteID()) {
		if lerr != nil {
			err = lerr
			break
		}
		idle.Reset(d.fsys.opts.OpTimeout)
		entries = append(entries, e)
	}
	if err != nil && ctx.Err() != nil {
		// Only idle cancels ctx here: the listing timed out (EIO for the
		// callers), it was not interrupted (EINTR).
		err = errListingTimedOut
	}
	d.mu.Lock()
	var ch changes
	if err == nil {
		ch = d.mergeLocked(entries, since)
		d.failedAt = time.Time{}
	} else {
		d.failedAt = d.fsys.clock.Now()
	}
	d.loading = nil
	d.mu.Unlock()
	ld.err = err
	close(ld.done)
	d.tellKernel(ch)
	close(ld.told)
}

func newListLoad(now time.Time) *listLoad {
	return &listLoad{started: now, done: make(chan struct{}), told: make(chan struct{})}
}

// mergeLocked makes entries, listed from the service after the folder's edit
// count was since, the folder's listing. Nodes of the old listing are kept
// for the same IDs (the kernel may hold them); nodes that exist only
// locally (written, not uploaded yet) survive, also over a listed entry of
// the same name, which is then hidden; names this mount changed
// after the listing began keep their local state; entries whose delete is
// queued are left out. Entries whose names cannot be shown are hidden and
// counted (d.hidden): the folder is not empty for rmdir.
//
// call with d.mu held
func (d *dirNode) mergeLocked(entries []store.Entry, since uint64) changes {
	byID := make(map[string]node, len(d.children))
	for _, ch := range d.children {
		if id := ch.remoteID(); id != "" {
			byID[id] = ch
		}
	}
	fresh := make(map[string]node, len(entries))
	var hidden []string
	for i := range entries {
		e := &entries[i]
		id, local := e.ID, e.Name
		if d.fsys.deleter.Pending(id) || d.fsys.deleteWaits(id) {
			continue
		}
		if !localNameOK(local, d.fsys.limits.NameMax) {
			d.fsys.log.Warn("hiding an entry whose name cannot be a file name on the mount (longer than NAME_MAX, not UTF-8, or with / or NUL)",
				"folder", d.name, "name", local, "id", id, "name_max", d.fsys.limits.NameMax)
			hidden = append(hidden, local)
			continue
		}
		if _, dup := fresh[local]; dup {
			d.fsys.log.Warn("hiding an entry whose name another entry has too", "folder", d.name, "name", local, "id", id)
			hidden = append(hidden, local)
			continue
		}
		if old := byID[id]; old != nil {
			old.refresh(e)
			fresh[local] = old
			continue
		}
		fresh[local] = d.fsys.newNodeFromEntry(d, e)
	}
	for name, old := range d.children {
		if f, ok := old.(*fileNode); ok && f.localOnly() {
			if other, taken := fresh[name]; taken && other != old {
				// Another client took the name first: what this mount
				// wrote keeps it (its upload will fail on the clash and
				// say so); theirs stays on the service, hidden.
				d.fsys.log.Warn("the service has another entry under the name of a file written here; showing the local file",
					"folder", d.name, "name", name, "id", other.remoteID())
				hidden = append(hidden, name)
			}
			fresh[name] = old
		}
	}
	for name, at := range d.edited {
		if at <= since {
			delete(d.edited, name)
			continue
		}
		if cur, ok := d.children[name]; ok {
			fresh[name] = cur
		} else {
			delete(fresh, name)
		}
	}
	for name, id := range d.deleting {
		if !d.fsys.deleter.Pending(id) && !d.fsys.deleteWaits(id) {
			delete(d.deleting, name)
		}
	}
	var ch changes
	if d.children != nil { // a first listing tells nothing new
		for name, old := range d.children {
			if fresh[name] != old {
				ch.gone = append(ch.gone, goneEntry{name, old})
			}
		}
		for name, n := range fresh {
			if d.children[name] != n {
				ch.added = append(ch.added, name)
			}
		}
	}
	d.children, d.hidden = fresh, hidden
	d.fsys.listings.Loaded(d, len(fresh))
	return ch
}

// setChildLocked puts ch under name (nil removes the name), recording the
// change so that a listing already under way does not undo it.
//
// call with d.mu held
func (d *dirNode) setChildLocked(name string, ch node) {
	d.edits++
	if d.edited == nil {
		d.edited = map[string]uint64{}
	}
	d.edited[name] = d.edits
	if ch == nil {
		delete(d.children, name)
		return
	}
	if d.children == nil {
		d.children = map[string]node{}
	}
	d.children[name] = ch
}

// hiddenErr is why a folder that looks empty may not be removed: the service
// holds entries the mount cannot show. It logs what they are.
//
// call with d.mu held
func (d *dirNode) hiddenErrLocked(op string) error {
	if len(d.hidden) == 0 {
		return nil
	}
	d.fsys.log.Warn("folder holds entries whose names cannot be shown here; not removing it",
		"op", op, "folder", d.name, "hidden", d.hidden)
	return errHiddenEntries
}

// restore puts back a node whose delete failed, and has the folder listed
// again.
func (d *dirNode) restore(name string, gone node) {
	switch n := gone.(type) {
	case *fileNode:
		n.mu.Lock()
		n.unlinked = false
		n.mu.Unlock()
	case *dirNode:
		n.mu.Lock()
		n.removed = false
		n.mu.Unlock()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if gone != nil && d.children != nil {
		if _, taken := d.children[name]; !taken {
			d.setChildLocked(name, gone)
		}
	}
	d.fsys.listings.Invalidate(d)
}

// invalidate makes the next access list the folder again.
func (d *dirNode) invalidate() {
	d.fsys.listings.Invalidate(d)
}

// dropListing is the listing tracker's eviction: it frees the folder's
// listing unless the folder is busy, holds files not on the service yet, or the
// kernel still holds one of its entries. It never waits for a lock.
func (d *dirNode) dropListing() bool {
	if !d.mu.TryLock() {
		return false
	}
	defer d.mu.Unlock()
	for _, ch := range d.children {
		if f, ok := ch.(*fileNode); ok && f.localOnly() {
			return false
		}
		if !ch.EmbeddedInode().Forgotten() {
			return false
		}
	}
	d.children, d.hidden = nil, nil
	return true
}

// clearDeleting makes sure no queued delete of an entry named name in this
// folder is still outstanding, so that a new entry of that name does not
// clash with it on a service that keeps names unique. It waits without
// holding d.mu.
func (d *dirNode) clearDeleting(ctx context.Context, name string) error {
	if !d.fsys.limits.UniqueNames {
		return nil
	}
	d.mu.Lock()
	id, ok := d.deleting[name]
	d.mu.Unlock()
	if !ok {
		return nil
	}
	if err := d.fsys.waitDeleted(ctx, id); err != nil {
		return err
	}
	d.mu.Lock()
	if d.deleting[name] == id {
		delete(d.deleting, name)
	}
	d.mu.Unlock()
	return nil
}

// queueDeleteLocked queues the delete of an entry that was in this folder.
// If the delete fails, the entry shows again: gone (a node the kernel may
// still hold) is put back under its name, and the folder is listed again.
//
// call with d.mu held
func (d *dirNode) queueDeleteLocked(name, id string, gone node) {
	if id == "" {
		return
	}
	d.markDeletingLocked(name, id)
	d.fsys.deleter.Enqueue(id, d.deleteDone(name, id, gone))
}

// markDeletingLocked records that the entry id, named name here, has its
// delete queued.
//
// call with d.mu held
func (d *dirNode) markDeletingLocked(name, id string) {
	if d.deleting == nil {
		d.deleting = map[string]string{}
	}
	d.deleting[name] = id
}

// deleteDone is what follows the delete of id, once the service answered.
func (d *dirNode) deleteDone(name, id string, gone node) func(error) {
	return func(err error) {
		if err != nil {
			d.fsys.log.Error("delete failed; the entry will show again", "name", name, "id", id, "err", err)
			d.restore(name, gone)
			return
		}
		d.fsys.forgetContent(gone, id)
	}
}

// forgetContent frees the block cache of a file the service deleted, unless a
// handle still reads it.
func (f *FS) forgetContent(gone node, id string) {
	n, ok := gone.(*fileNode)
	if !ok || id == "" {
		return
	}
	n.mu.Lock()
	etag, size, open := n.entry.MD5, n.entry.Size, n.handles > 0
	n.mu.Unlock()
	if !open {
		f.blocks.Forget(contentKey(id, etag, size))
	}
}

func sortedNames(m map[string]node) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// localNameOK tells whether a listed name can be a Linux directory entry
// that stays inside the mount, no longer than the NAME_MAX it reports.
func localNameOK(local string, nameMax int) bool {
	return local != "" && local != "." && local != ".." && len(local) <= nameMax &&
		!strings.ContainsAny(local, "/\x00") && utf8.ValidString(local)
}
