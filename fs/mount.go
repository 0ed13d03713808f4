package fs

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/pan123fs/pan123fs/config"
)

// MountOptions are the kernel-side options of a mount.
type MountOptions struct {
	// AllowOther lets users other than the one mounting in; what they may
	// do is what the modes and owner shown allow (Options.FileMode, DirMode,
	// Umask, UID, GID).
	AllowOther bool
	Debug      bool
	// DirectMount mounts with mount(2) (as root) instead of fusermount3.
	DirectMount bool
	// ReadAhead is the kernel's read-ahead for the mount in bytes
	// (config's default when 0). Beyond 128 KiB it takes root (see bdi.go).
	ReadAhead int64
	// Subtype is the FUSE subtype: the mount table shows the type
	// fuse.SUBTYPE (config's default when empty). The source is always
	// "pan123fs".
	Subtype string
}

// extraCaps are the FUSE capabilities asked for beyond go-fuse's defaults:
//   - ATOMIC_O_TRUNC: open(O_TRUNC) arrives as one OPEN with O_TRUNC, not an
//     OPEN for writing (which brings the old content into the spool) and
//     then a SETATTR to size 0, so cp over an existing file downloads nothing;
//   - HANDLE_KILLPRIV_V2: the filesystem clears setuid/setgid bits itself on
//     write and truncate (pan123fs has none: modes are fixed), so the kernel
//     stops asking GETXATTR security.capability before every WRITE.
const extraCaps = fuse.CAP_ATOMIC_O_TRUNC | fuse.CAP_HANDLE_KILLPRIV_V2

// Mount serves f at mountpoint and returns once the kernel has it.
func (f *FS) Mount(mountpoint string, mo MountOptions) (*fuse.Server, error) {
	neg := time.Second
	def := config.Default().Mount
	ra := cmp.Or(mo.ReadAhead, def.ReadAhead)
	opts := &fs.Options{
		EntryTimeout:    &f.opts.EntryTimeout,
		AttrTimeout:     &f.opts.AttrTimeout,
		NegativeTimeout: &neg,
		UID:             f.opts.UID,
		GID:             f.opts.GID,
		MountOptions: fuse.MountOptions{
			FsName:            "pan123fs",
			Name:              cmp.Or(mo.Subtype, def.Subtype),
			AllowOther:        mo.AllowOther,
			Debug:             mo.Debug,
			DirectMount:       mo.DirectMount,
			DirectMountStrict: false,
			MaxWrite:          ioSize,
			MaxReadAhead:      int(ra),
			// Replies are bytes in memory, never a file descriptor: without
			// this go-fuse readies a pipe for splice(2) on every READ reply
			// and gives up (logging a line when the pipe cannot hold 1 MiB).
			DisableSplice:     true,
			ExtraCapabilities: extraCaps,
			// The kernel checks every caller (root excepted) against the
			// modes and owner the mount shows, so that they are the truth;
			// pan123fs itself checks nobody. Without allow_other the
			// kernel lets no other user in at all.
			Options: []string{"default_permissions"},
		},
	}
	if f.opts.ReadOnly {
		opts.MountOptions.Options = append(opts.MountOptions.Options, "ro")
	}
	server, err := mountObserved(mountpoint, f.root, opts, f.opts.Ops)
	if err != nil {
		return nil, err
	}
	f.served.Store(true)
	f.acct.refresh() // early: the developer-end warning comes at start
	if ra > 128<<10 {
		if err := setKernelReadAhead(mountpoint, ra); err != nil {
			f.log.Info("kernel read-ahead stays at 128 KiB (raising it takes root)", "err", err)
		}
	}
	return server, nil
}

// Close finishes queued uploads and deletes (within ctx) and stops the
// background work. What is left stays in the journal for the next mount.
func (f *FS) Close(ctx context.Context) error {
	f.queue.hurry()
	err := f.queue.waitFor(ctx, f.queue.busy())
	left := f.queue.busy()
	f.queue.close()
	f.acct.close()
	if len(left) > 0 {
		var bytes int64
		for _, n := range left {
			n.mu.Lock()
			bytes += n.sizeLocked()
			n.mu.Unlock()
		}
		f.log.Warn("unmounting with uploads left; they stay journaled and continue at the next mount",
			"files", len(left), "bytes", bytes)
	}
	return errors.Join(err, f.deleter.Close(ctx))
}
