package main

import (
	"log/slog"

	"github.com/pan123fs/pan123fs/internal/diskfree"
)

// warnLowDisk says at start when dir's disk already has less free space
// than floor (the free space spool writes and cached blocks leave), and
// what that means, rather than leaving the user to find out from the first
// write's ENOSPC.
func warnLowDisk(log *slog.Logger, dir string, floor int64) {
	free, err := diskfree.Of(dir)
	if err != nil {
		log.Warn("cannot tell how much free space the state directory's disk has", "dir", dir, "err", err)
		return
	}
	if free >= floor {
		return
	}
	log.Warn("the state directory's disk has less free space than pan123fs leaves free: writes will fail with ENOSPC, and downloads will not be cached, until space is freed",
		"dir", dir, "free_bytes", free, "floor_bytes", floor)
}
