//go:build !linux

package spool

import "os"

// datasync makes f's data durable (fsync: no fdatasync here).
func datasync(f *os.File) error { return f.Sync() }
