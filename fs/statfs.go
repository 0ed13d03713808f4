package fs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

var _ = (fs.NodeStatfser)((*dirNode)(nil))

const statfsBlock = 4096

// unknownSpace is what statfs reports before the service told the account's
// space (1 PiB, all free).
const unknownSpace = 1 << 50

// Statfs reports the account's space as the last Usage answer gave it
// (accountView): total is the permanent space plus unexpired temporary
// space, free is total minus used. Before the first answer (the first
// statfs waits up to accountFirstWait for it) it reports unknownSpace,
// all free; a service that tells no capacity (a negative Total) has
// unknownSpace, less what it says is used. The image host counts no inodes, so the file counts are large
// constants. Direct-link traffic has no statfs field: `pan123fs status`
// shows it.
func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	out.Bsize = statfsBlock
	out.Frsize = statfsBlock
	out.NameLen = uint32(d.fsys.limits.NameMax)
	out.Files = 1 << 32
	out.Ffree = 1 << 32
	a, ok := d.fsys.acct.get(accountFirstWait)
	if !ok {
		// Unknown: large figures, not zeros, which file managers would
		// take for a full disk and refuse to copy.
		out.Blocks = unknownSpace / statfsBlock
		out.Bfree, out.Bavail = out.Blocks, out.Blocks
		return 0
	}
	if a.Total < 0 { // the service tells no capacity
		a.Total = unknownSpace
	}
	out.Blocks = uint64(a.Total) / statfsBlock
	out.Bfree = uint64(a.Free()) / statfsBlock
	out.Bavail = out.Bfree
	return 0
}
