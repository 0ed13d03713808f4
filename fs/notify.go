package fs

import "syscall"

// Changes learnt from the service.
//
// A new listing may show that another client deleted, replaced or added
// entries. The kernel is told (go-fuse's notify calls), so that its caches
// drop what is gone, and so that inotify watchers (gio monitor, an open
// file-manager window) get a delete event. Added names only drop the
// kernel's negative entries: FUSE has no notification that makes an
// inotify create event.

// changes are what a listing changed in a folder.
type changes struct {
	gone  []goneEntry
	added []string
}

type goneEntry struct {
	name string
	n    node
}

// tellKernel passes a listing's changes to the kernel. It is called
// without locks, after the listing: the kernel may need the folder to
// answer a notification.
func (d *dirNode) tellKernel(ch changes) {
	if !d.fsys.served.Load() || len(ch.gone)+len(ch.added) == 0 || d.EmbeddedInode().Forgotten() {
		return
	}
	for _, g := range ch.gone {
		in := g.n.EmbeddedInode()
		if in.Forgotten() {
			d.notify(d.NotifyEntry(g.name), g.name)
			continue
		}
		d.RmChild(g.name)
		d.notify(d.NotifyDelete(g.name, in), g.name)
	}
	for _, name := range ch.added {
		d.notify(d.NotifyEntry(name), name)
	}
}

func (d *dirNode) notify(errno syscall.Errno, name string) {
	if errno != 0 && errno != syscall.ENOENT {
		d.fsys.log.Debug("telling the kernel of a change made elsewhere", "folder", d.name, "name", name, "errno", errno)
	}
}
