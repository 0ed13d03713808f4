package spool

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
)

// hashBufSize is the read size of MD5's pass over the file.
const hashBufSize = 256 << 10

// MD5 returns the lower-case hex md5 of the whole content. After sequential
// writes it reads nothing; otherwise it reads the bytes not yet hashed (all
// of them after an out-of-order write) once, streaming, and from then on
// hashes sequential appends as they arrive again. Writers wait while it
// reads; readers do not. After Close it works only if no read is needed.
func (f *File) MD5() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settle()
	if f.seq != nil && f.hashed == f.size {
		return hex.EncodeToString(f.seq.Sum(nil)), nil
	}
	if f.closed {
		return "", f.errClosed("md5")
	}
	h, from := f.seq, f.hashed
	if h == nil {
		h, from = md5.New(), 0
	}
	f.seq = nil // until the pass succeeds: a failed pass leaves h part-fed
	n, err := io.CopyBuffer(h, io.NewSectionReader(f.fd, from, f.size-from), make([]byte, hashBufSize))
	f.hashRead += n
	if err == nil && n != f.size-from {
		err = fmt.Errorf("file is %d bytes shorter than expected", f.size-from-n)
	}
	if err != nil {
		return "", fmt.Errorf("spool: md5 %s: %w", f.path, err)
	}
	f.seq, f.hashed = h, f.size
	return hex.EncodeToString(h.Sum(nil)), nil
}

// HashedSequentially reports whether MD5 can answer without reading the
// file: every byte has been hashed as it arrived (or by an earlier MD5).
func (f *File) HashedSequentially() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seq != nil && f.hashed == f.size
}

// noteWrite updates the running md5 after p was written at off.
// Call with mu held.
func (f *File) noteWrite(p []byte, off int64) {
	if f.seq == nil || len(p) == 0 {
		return
	}
	if off != f.hashed {
		// A hole before p, or p overwrites bytes already hashed.
		f.settle()
		f.seq = nil
		return
	}
	f.hashWrite(p)
	f.hashed += int64(len(p))
}

// noteTruncate updates the running md5 after the file was truncated to
// size. Growing leaves it alone: the zeros are hashed by MD5 unless
// sequential writes replace them first. Call with mu held.
func (f *File) noteTruncate(size int64) {
	if size < f.hashed {
		f.settle()
	}
	switch {
	case size == 0:
		f.seq, f.hashed = md5.New(), 0
	case f.seq != nil && size < f.hashed:
		f.seq = nil
	}
}
