package fs

import "sort"

// rejected lists, by path, the images moderation rejected among the files
// the mount knows: those of every folder it has listed since it started
// (and the entries it has asked about since). It makes no call to the
// service: finding every rejected image of an account would mean listing
// the whole account, which the service's rate limits make slow, so the
// mount reports what its listings (and the Stats behind the attributes)
// have told it; `ls -R` or `find` over the mount makes that complete. A
// file changed locally since is not counted: its new content is not
// judged yet.
func (f *FS) rejected() []string {
	var out []string
	dirs := []*dirNode{f.root}
	for len(dirs) > 0 {
		d := dirs[len(dirs)-1]
		dirs = dirs[:len(dirs)-1]
		d.mu.Lock()
		kids := make([]node, 0, len(d.children))
		for _, c := range d.children {
			kids = append(kids, c)
		}
		d.mu.Unlock()
		for _, c := range kids {
			switch c := c.(type) {
			case *dirNode:
				dirs = append(dirs, c)
			case *fileNode:
				c.mu.Lock()
				rej := c.entry.Rejected && c.id != "" && !c.dirty && !c.unlinked
				c.mu.Unlock()
				if rej {
					out = append(out, c.path())
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
