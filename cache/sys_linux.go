package cache

import (
	"os"

	"golang.org/x/sys/unix"
)

// punchHole deallocates [off, off+length) of f, which then reads as zeros;
// f keeps its size.
func punchHole(f *os.File, off, length int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	cerr := rc.Control(func(fd uintptr) {
		err = unix.Fallocate(int(fd), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, length)
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// syncFS writes back every dirty page of the filesystem holding dir.
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
