package fs

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// setKernelReadAhead sets the read-ahead of the mount at mountpoint. FUSE
// takes the filesystem's max_readahead at INIT only up to the kernel's default
// (128 KiB); beyond that, the mount's backing device info in sysfs is the one
// knob, and only root may turn it. The kernel still starts each file's
// read-ahead small (at most twice the first read), so a reader of the first
// 64 KiB of a file gets 128 KiB whatever this says.
func setKernelReadAhead(mountpoint string, bytes int64) error {
	var st unix.Stat_t
	if err := unix.Stat(mountpoint, &st); err != nil {
		return err
	}
	p := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev))
	return os.WriteFile(p, fmt.Appendf(nil, "%d\n", bytes>>10), 0)
}
