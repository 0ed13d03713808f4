package spool

import (
	"errors"
	"fmt"
	"hash"
	"os"
	"sync"
)

// File is one spool file: an *os.File read and written with pread/pwrite,
// whose written bytes are charged to its Spool. It is safe for concurrent
// use.
//
// A file is charged for the bytes written into it, never more than its
// length: a write charges its length, up to the file's length after it,
// and shrinking gives back what no longer fits. Growing by Truncate
// charges nothing: the hole it makes takes no disk space until written.
// Rewriting a hole's bytes can charge them twice, up to the length.
//
// Locking: mu serialises the calls that change the file (WriteAt, Truncate,
// Close, Remove) and MD5, and guards the fields below it. ReadAt takes no
// lock: fd is never reassigned and *os.File is safe for concurrent use, so
// reads run alongside writes and see whatever pread(2) sees. mu is taken
// before Spool.mu.
type File struct {
	spool *Spool
	fd    *os.File
	path  string

	mu      sync.Mutex
	size    int64 // GUARDED_BY(mu): the file's length
	charged int64 // GUARDED_BY(mu): bytes charged to the spool; INVARIANT: 0 <= charged <= size
	closed  bool  // GUARDED_BY(mu)
	removed bool  // GUARDED_BY(mu)

	// INVARIANT: seq != nil implies hashed <= size and seq holds the md5 of
	// the bytes [0, hashed) of the file. seq == nil means the write order
	// broke and MD5 must make a full pass.
	// While pipe != nil its goroutine owns seq, and hashed counts the bytes
	// queued to it: settle before reading seq.
	seq      hash.Hash // GUARDED_BY(mu)
	pipe     *hashPipe // GUARDED_BY(mu)
	hashed   int64     // GUARDED_BY(mu)
	hashRead int64     // GUARDED_BY(mu): bytes MD5 has read back from disk

	flush flusher // flush-behind of large files (flush.go)
}

// Path returns the file's path on disk.
func (f *File) Path() string { return f.path }

// Size returns the file's length.
func (f *File) Size() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.size
}

// WriteAt writes p at off. If the bytes it charges (see File) do not fit in
// what the spool allows (maxSize, or minFree on disk) it writes nothing and
// returns an error wrapping ErrNoSpace. A write at the end of the bytes hashed so far extends
// the running md5; any other write makes MD5 read the file once.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("spool: write %s: negative offset %d", f.path, off)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, f.errClosed("write")
	}
	if len(p) == 0 {
		return 0, nil
	}
	oldCharged := f.charged
	reserved := f.chargeAfter(int64(len(p)), off) - oldCharged
	if err := f.spool.reserve(reserved); err != nil {
		return 0, fmt.Errorf("spool: write %d bytes at %d to %s: %w", len(p), off, f.path, err)
	}
	n, err := f.fd.WriteAt(p, off)
	f.charged = f.chargeAfter(int64(n), off)
	f.size = max(f.size, off+int64(n))
	f.spool.release(reserved - (f.charged - oldCharged))
	f.noteWrite(p[:n], off)
	f.noteGrowth(off + int64(n))
	return n, err
}

// chargeAfter is what the file is charged once n bytes are written at off.
// call with f.mu held
func (f *File) chargeAfter(n, off int64) int64 {
	return min(f.charged+n, max(f.size, off+n))
}

// ReadAt reads len(p) bytes at off with io.ReaderAt semantics: fewer bytes
// come with io.EOF at the end of the file. Reads never touch the md5.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	return f.fd.ReadAt(p, off)
}

// Truncate sets the file's length. Growing charges nothing (see File);
// shrinking gives back the charged bytes beyond the new length.
// Truncating to 0 restarts the running md5; truncating below the bytes
// hashed so far makes MD5 read the file once.
func (f *File) Truncate(size int64) error {
	if size < 0 {
		return fmt.Errorf("spool: truncate %s: negative size %d", f.path, size)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.errClosed("truncate")
	}
	if err := f.fd.Truncate(size); err != nil {
		return fmt.Errorf("spool: truncate %s to %d: %w", f.path, size, err)
	}
	if size < f.charged {
		f.spool.release(f.charged - size)
		f.charged = size
	}
	f.size = size
	f.noteTruncate(size)
	f.flush.from = min(f.flush.from, size) // the rewrite is flushed from there
	return nil
}

// Sync flushes the file's content to stable storage.
func (f *File) Sync() error { return f.fd.Sync() }

// Close closes the file descriptor. The file stays on disk and its bytes
// stay charged to the spool until Remove. Closing twice returns an error
// wrapping os.ErrClosed.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.errClosed("close")
	}
	f.closed = true
	f.settle()
	return f.fd.Close()
}

// Remove closes the file if it is open, deletes it and gives its bytes back
// to the spool. Removing twice is a no-op.
func (f *File) Remove() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.removed {
		return nil
	}
	f.settle()
	var errs []error
	if !f.closed {
		f.closed = true
		errs = append(errs, f.fd.Close())
	}
	f.removed = true
	f.spool.forget(f.path, f.charged)
	errs = append(errs, os.Remove(f.path))
	return errors.Join(errs...)
}

func (f *File) errClosed(op string) error {
	return fmt.Errorf("spool: %s %s: %w", op, f.path, os.ErrClosed)
}
