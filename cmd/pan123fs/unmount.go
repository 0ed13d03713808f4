package main

import (
	"log/slog"
	"os/exec"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// unmount asks the kernel to let go of the mount, retrying while it is busy
// and falling back to a lazy unmount so that the process can exit.
func unmount(server *fuse.Server, mnt string, log *slog.Logger) {
	for i := 0; i < 10; i++ {
		err := server.Unmount()
		if err == nil {
			return
		}
		log.Warn("unmount failed; retrying", "err", err)
		time.Sleep(500 * time.Millisecond)
	}
	if out, err := exec.Command("fusermount3", "-u", "-z", mnt).CombinedOutput(); err != nil {
		log.Error("lazy unmount failed", "err", err, "output", string(out))
	}
}
