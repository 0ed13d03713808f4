package fs

import (
	"context"
	"strings"
)

// Refreshing listings on demand.
//
// Changes made by other clients show once a folder's listing is older than
// --dir-cache-ttl. `pan123fs refresh` (Refresh) and SIGHUP (ForgetListings)
// make them show sooner. Both go the way an expired listing goes: the
// listing is marked stale in the tracker, and a new one is merged by
// mergeLocked, which keeps what exists only here (files written and not
// uploaded yet, names changed while the listing ran, queued deletes, nodes
// the kernel or an open handle holds) and tells the kernel which names
// changed (notify.go). Nothing local is ever dropped.

// Refreshed is what Refresh did.
type Refreshed struct {
	// Folder is the path (in the mount, "" for the root) of the folder
	// listed again: the path asked for, its folder when it names a file,
	// or the deepest folder of it the mount knows.
	Folder string `json:"folder"`
	// Listed counts the folders listed again.
	Listed int `json:"listed"`
}

// Refresh lists the folder at path (slash-separated, relative to the mount's
// root) again now, and with recursive every folder below it whose listing
// is cached, parents before their subfolders. A path naming a file refreshes
// its folder; a path the cached listings do not know (made elsewhere since)
// refreshes the deepest folder of it they know, so that it shows. It
// returns once the listings are merged and the kernel told, or with the
// first listing that failed (the old listing is kept then, as on expiry).
func (f *FS) Refresh(ctx context.Context, path string, recursive bool) (Refreshed, error) {
	d := f.resolveFolder(path)
	res := Refreshed{Folder: d.path()}
	todo := []*dirNode{d}
	for len(todo) > 0 {
		d := todo[0]
		todo = todo[1:]
		if err := d.relist(ctx); err != nil {
			return res, err
		}
		res.Listed++
		if recursive {
			todo = append(todo, d.cachedSubfolders()...)
		}
	}
	return res, nil
}

// ForgetListings marks every cached listing stale, as if its TTL had
// passed: the next lookup or readdir of each folder lists it again. It
// makes no call itself, and returns how many listings it marked.
func (f *FS) ForgetListings() int {
	n := 0
	for todo := []*dirNode{f.root}; len(todo) > 0; {
		d := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if !d.hasListing() {
			continue
		}
		d.invalidate()
		n++
		todo = append(todo, d.cachedSubfolders()...)
	}
	return n
}

// resolveFolder walks path down the cached listings from the root and
// returns the folder it names, the folder of the file it names, or the
// deepest folder on the way that the listings know.
func (f *FS) resolveFolder(path string) *dirNode {
	d := f.root
	for _, name := range strings.Split(path, "/") {
		if name == "" || name == "." {
			continue
		}
		d.mu.Lock()
		sub, ok := d.children[name].(*dirNode)
		d.mu.Unlock()
		if !ok {
			break
		}
		d = sub
	}
	return d
}

// cachedSubfolders are the folders in d's listing that hold a listing of
// their own.
func (d *dirNode) cachedSubfolders() []*dirNode {
	d.mu.Lock()
	var subs []*dirNode
	for _, name := range sortedNames(d.children) {
		if sub, ok := d.children[name].(*dirNode); ok {
			subs = append(subs, sub)
		}
	}
	d.mu.Unlock()
	cached := subs[:0]
	for _, sub := range subs {
		if sub.hasListing() {
			cached = append(cached, sub)
		}
	}
	return cached
}

// relist makes the folder's listing stale and lists it again now, through
// runLoad as an expired listing is, and returns once the kernel is told of
// the changes. A listing already in flight may have started before the
// change the caller wants to see: relist waits for it and then starts its
// own. A removed folder has nothing to list. It must not be called from a
// FUSE request (the kernel's notifications may wait for that request).
func (d *dirNode) relist(ctx context.Context) error {
	d.invalidate()
	for {
		d.mu.Lock()
		if d.removed {
			d.mu.Unlock()
			return nil
		}
		if ld := d.loading; ld != nil {
			d.mu.Unlock()
			select {
			case <-ld.done:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ld := newListLoad(d.fsys.clock.Now())
		d.loading = ld
		go d.runLoad(ld, d.edits)
		d.mu.Unlock()
		// told, not done: the caller's next stat must not find a name
		// the kernel has not been told is gone. Waiting for it is safe
		// here, outside any FUSE request.
		select {
		case <-ld.told:
			return ld.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
