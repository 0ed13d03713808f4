package fs

import (
	"context"
	"sort"

	"github.com/pan123fs/pan123fs/cache"
)

// loadLocked fills d.children from list calls when they are missing, older
// than the TTL, or force is set. Nodes of the old listing are kept for the
// same IDs (the kernel may hold them), and nodes that exist only locally
// (written, not uploaded yet) survive the refresh. IDs whose delete is
// queued are left out.
//
// call with d.mu held
func (d *dirNode) loadLocked(ctx context.Context, force bool) error {
	if d.children != nil && !force && d.fsys.listings.Fresh(d) {
		return nil
	}
	if d.removed {
		if d.children == nil {
			d.children = map[string]node{}
		}
		return nil
	}
	byID := make(map[string]node, len(d.children))
	for _, ch := range d.children {
		if id := ch.remoteID(); id != "" {
			byID[id] = ch
		}
	}
	fresh := make(map[string]node, len(d.children))
	for e, err := range d.fsys.rc.List(ctx, d.remoteID()) {
		if err != nil {
			return err
		}
		id := string(e.FileID)
		if d.fsys.deleter.Pending(id) {
			continue
		}
		local := decodeName(e.Filename)
		if !localNameOK(local) {
			d.fsys.log.Warn("hiding an entry whose name cannot be a Linux file name", "folder", d.name, "name", e.Filename, "id", id)
			continue
		}
		if _, dup := fresh[local]; dup {
			d.fsys.log.Warn("hiding an entry whose name maps onto another's", "folder", d.name, "name", e.Filename, "id", id)
			continue
		}
		if old := byID[id]; old != nil {
			old.refresh(&e)
			fresh[local] = old
			continue
		}
		fresh[local] = d.fsys.newNodeFromEntry(d, local, &e)
	}
	for name, old := range d.children {
		if f, ok := old.(*fileNode); ok && f.localOnly() {
			if _, taken := fresh[name]; !taken {
				fresh[name] = old
			}
		}
	}
	for rname, id := range d.deleting {
		if !d.fsys.deleter.Pending(id) {
			delete(d.deleting, rname)
		}
	}
	d.children = fresh
	d.fsys.listings.Loaded(d, len(fresh))
	return nil
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
			d.children[name] = gone
		}
	}
	d.fsys.listings.Invalidate(d)
}

// invalidate makes the next access list the folder again.
func (d *dirNode) invalidate() {
	d.fsys.listings.Invalidate(d)
}

// dropListing is the listing tracker's eviction: it frees the folder's
// listing unless the folder is busy, holds files not on 123pan yet, or the
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
	d.children = nil
	return true
}

// clearDeletingLocked makes sure no queued delete of an entry named rname in
// this folder is still outstanding, so that a new entry of that name does
// not clash with it on 123pan.
//
// call with d.mu held
func (d *dirNode) clearDeletingLocked(ctx context.Context, rname string) error {
	id, ok := d.deleting[rname]
	if !ok {
		return nil
	}
	if err := d.fsys.deleter.Wait(ctx, id); err != nil {
		return err
	}
	delete(d.deleting, rname)
	return nil
}

// queueDeleteLocked queues the delete of an entry that was in this folder.
// If the delete fails, the entry shows again: gone (a node the kernel may
// still hold) is put back under its name, and the folder is listed again.
//
// call with d.mu held
func (d *dirNode) queueDeleteLocked(rname, id string, gone node) {
	if id == "" {
		return
	}
	if d.deleting == nil {
		d.deleting = map[string]string{}
	}
	d.deleting[rname] = id
	d.fsys.deleter.Enqueue(id, func(err error) {
		if err != nil {
			d.fsys.log.Error("delete failed; the entry will show again", "name", rname, "id", id, "err", err)
			d.restore(decodeName(rname), gone)
			return
		}
		d.fsys.forgetContent(gone, id)
	})
}

// forgetContent frees the block cache of a file 123pan deleted, unless a
// handle still reads it (an unlinked file keeps working for its readers as
// far as the cache holds it).
func (f *FS) forgetContent(gone node, id string) {
	n, ok := gone.(*fileNode)
	if !ok || id == "" {
		return
	}
	n.mu.Lock()
	etag, open := n.entry.Etag, n.handles > 0
	n.mu.Unlock()
	if !open {
		f.blocks.Forget(cache.Key{FileID: id, Etag: etag})
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
