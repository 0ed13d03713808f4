package fs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

var _ = (fs.NodeStatfser)((*dirNode)(nil))

const statfsBlock = 4096

// Statfs reports the account's space as the last user/info answer gave it
// (accountView): total is the permanent space plus unexpired temporary
// space, free is total minus used. Before the first answer (the first
// statfs waits up to accountFirstWait for it) every block figure is 0:
// unknown. The image host counts no inodes, so the file counts are large
// constants. Direct-link traffic has no statfs field: `pan123fs status`
// shows it.
func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	out.Bsize = statfsBlock
	out.Frsize = statfsBlock
	out.NameLen = 255
	out.Files = 1 << 32
	out.Ffree = 1 << 32
	a, ok := d.fsys.acct.get(accountFirstWait)
	if !ok {
		return 0
	}
	out.Blocks = uint64(a.Total) / statfsBlock
	out.Bfree = uint64(a.Free()) / statfsBlock
	out.Bavail = out.Bfree
	return 0
}
