package spool

import (
	"crypto/md5"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/pan123fs/pan123fs/internal/diskfree"
)

// ErrNoSpace is returned (wrapped) when a write would take the
// spool over its maxSize or leave less than minFree bytes free on the disk.
// errors.Is(err, syscall.ENOSPC) is true for it.
var ErrNoSpace = fmt.Errorf("spool: no space left: %w", syscall.ENOSPC)

// Spool is a directory of spool files sharing one space budget.
//
// Lock order: File.mu before Spool.mu. Spool.mu is held only for
// bookkeeping, never for file I/O or a statfs.
type Spool struct {
	dir     string
	maxSize int64 // 0: unlimited

	// disk estimates the free space of the spool's disk; its Floor is the
	// free space every write must leave. Tests replace its Statfs.
	disk diskfree.Gauge

	flushBehind atomic.Bool // see flush.go

	mu   sync.Mutex
	used int64               // GUARDED_BY(mu): sum of the sizes of live files
	live map[string]struct{} // GUARDED_BY(mu): paths of live files
}

// Open makes dir (mode 0700) if needed and returns a Spool over it. maxSize
// bounds the bytes held by live spool files (0: unlimited); minFree is the
// free disk space, as statfs(2) of dir reports it, that every write must
// leave. Files already in dir are not counted until they are adopted.
func Open(dir string, maxSize, minFree int64) (*Spool, error) {
	if maxSize < 0 || minFree < 0 {
		return nil, fmt.Errorf("spool: negative limit (maxSize %d, minFree %d)", maxSize, minFree)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &Spool{
		dir:     abs,
		maxSize: maxSize,
		disk:    diskfree.Gauge{Dir: abs, Floor: minFree},
		live:    make(map[string]struct{}),
	}, nil
}

// Dir returns the spool directory (absolute).
func (s *Spool) Dir() string { return s.dir }

// Used returns the bytes held by live spool files: the sum of what they are
// charged (see File), for files created or adopted and not yet removed.
func (s *Spool) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// Create makes a new empty spool file (mode 0600) in the spool directory.
func (s *Spool) Create() (*File, error) {
	fd, err := os.CreateTemp(s.dir, "spool-*")
	if err != nil {
		return nil, fmt.Errorf("spool: create: %w", err)
	}
	s.mu.Lock()
	s.live[fd.Name()] = struct{}{}
	s.mu.Unlock()
	return &File{spool: s, fd: fd, path: fd.Name(), seq: md5.New()}, nil
}

// Adopt reopens a spool file left in the spool directory by an earlier run,
// for crash recovery. Its size is counted in Used even if that exceeds
// maxSize (the bytes are on disk already); its md5 is computed on demand.
// Adopting a file that is live in this Spool is an error.
func (s *Spool) Adopt(path string) (*File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("spool: adopt: %w", err)
	}
	if filepath.Dir(abs) != s.dir {
		return nil, fmt.Errorf("spool: adopt %s: not in spool directory %s", abs, s.dir)
	}
	fd, err := os.OpenFile(abs, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("spool: adopt: %w", err)
	}
	st, err := fd.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("spool: adopt %s: %w", abs, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.live[abs]; ok {
		fd.Close()
		return nil, fmt.Errorf("spool: adopt %s: file is already live", abs)
	}
	s.live[abs] = struct{}{}
	s.used += st.Size()
	f := &File{spool: s, fd: fd, path: abs, size: st.Size(), charged: st.Size()}
	if st.Size() == 0 {
		f.seq = md5.New()
	}
	return f, nil
}

// reserve accounts for delta more bytes, or returns ErrNoSpace if they do
// not fit within maxSize or would leave less than minFree on the disk.
func (s *Spool) reserve(delta int64) error {
	if delta <= 0 {
		return nil
	}
	floor := s.disk.Floor
	if floor > 0 {
		left, err := s.disk.Left(delta) // its statfs, when due, runs without mu
		if err != nil {
			return fmt.Errorf("spool: statfs %s: %w", s.dir, err)
		}
		if left < floor {
			s.disk.Freed(delta)
			return fmt.Errorf("%w: %d more bytes would leave %d free on disk, less than %d",
				ErrNoSpace, delta, left, floor)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maxSize > 0 && s.used+delta > s.maxSize {
		s.disk.Freed(delta)
		return fmt.Errorf("%w: %d bytes used, %d more would exceed the spool limit of %d",
			ErrNoSpace, s.used, delta, s.maxSize)
	}
	s.used += delta
	return nil
}

// release gives back n bytes reserved earlier.
func (s *Spool) release(n int64) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.used -= n
	s.mu.Unlock()
}

// forget drops a removed file from the live set and releases its bytes.
func (s *Spool) forget(path string, size int64) {
	s.mu.Lock()
	delete(s.live, path)
	s.used -= size
	s.mu.Unlock()
}
