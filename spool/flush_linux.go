package spool

import "golang.org/x/sys/unix"

// startWriteback asks the kernel to start writing [off, off+n) of fd to disk
// without waiting for it.
func startWriteback(fd int, off, n int64) {
	_ = unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
}
