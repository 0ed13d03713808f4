//go:build !linux

package spool

// startWriteback does nothing where sync_file_range(2) does not exist.
func startWriteback(fd int, off, n int64) {}
