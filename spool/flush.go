package spool

import "sync/atomic"

// EnableFlushBehind makes the spool's files start their writeback as they
// grow.
func (s *Spool) EnableFlushBehind() { s.flushBehind.Store(true) }

// Flush-behind (EnableFlushBehind): a spool file that grows by flushChunk bytes past the point
// where its last writeback started has the kernel start writing that range
// to disk (sync_file_range(SYNC_FILE_RANGE_WRITE): start, do not wait). A
// large file then leaves little dirty page cache behind by the time it is
// closed. Without it, a 1 GiB copy leaves 1 GiB of dirty pages, which pushes
// the machine over its dirty threshold, so every writer on it (the upload
// being made from it included, when 123pan is a local emulator) is
// throttled while the kernel catches up; and a close that fsyncs (write-back
// mode) has less left to do: 1.9–2.3 s instead of 2.5 s for `cp` of 1 GiB
// here. It is for spools whose files must reach the disk anyway: where a file
// is uploaded and deleted before the kernel would write it (the default
// mode), flushing it would only add disk writes. Small files never reach a
// chunk and are left alone.
const flushChunk = 8 << 20

// writeback is startWriteback; tests watch it.
var writeback = startWriteback

// flusher tracks one file's flush-behind.
type flusher struct {
	from    int64       // GUARDED_BY(File.mu): where the next range to flush starts
	running atomic.Bool // a writeback start is in flight
}

// noteGrowth is called with f.mu held after the file's bytes up to end were
// written. It starts the writeback of [from, end) on its own goroutine once
// that range reaches flushChunk, one range at a time per file.
func (f *File) noteGrowth(end int64) {
	fl := &f.flush
	if !f.spool.flushBehind.Load() || end-fl.from < flushChunk || !fl.running.CompareAndSwap(false, true) {
		return
	}
	from := fl.from
	fl.from = end
	rc, err := f.fd.SyscallConn()
	if err != nil {
		fl.running.Store(false)
		return
	}
	go func() {
		defer fl.running.Store(false)
		// Best effort: the data is written by the kernel later anyway, and
		// Control fails harmlessly once the file is closed.
		_ = rc.Control(func(fd uintptr) { writeback(int(fd), from, end-from) })
	}()
}
