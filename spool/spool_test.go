package spool

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func newSpool(t *testing.T, maxSize, minFree int64) *Spool {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "spool"), maxSize, minFree)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func create(t *testing.T, s *Spool) *File {
	t.Helper()
	f, err := s.Create()
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { f.Remove() })
	return f
}

func writeAt(t *testing.T, f *File, p []byte, off int64) {
	t.Helper()
	if n, err := f.WriteAt(p, off); n != len(p) || err != nil {
		t.Fatalf("WriteAt(%d bytes, %d) = %d, %v; want %d, nil", len(p), off, n, err, len(p))
	}
}

func md5hex(p []byte) string {
	sum := md5.Sum(p)
	return hex.EncodeToString(sum[:])
}

// pattern returns n bytes that differ with seed and position.
func pattern(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7) + seed
	}
	return p
}

func TestOpenCreatesPrivateDir(t *testing.T) {
	s := newSpool(t, 0, 0)
	st, err := os.Stat(s.Dir())
	if err != nil {
		t.Fatalf("Stat(%s): %v", s.Dir(), err)
	}
	if got := st.Mode().Perm(); got != 0o700 {
		t.Errorf("dir mode = %o, want 700", got)
	}
	f := create(t, s)
	st, err = os.Stat(f.Path())
	if err != nil {
		t.Fatalf("Stat(%s): %v", f.Path(), err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("file mode = %o, want 600", got)
	}
	if filepath.Dir(f.Path()) != s.Dir() {
		t.Errorf("Path() = %s, want a file in %s", f.Path(), s.Dir())
	}
}

func TestReadAt(t *testing.T) {
	f := create(t, newSpool(t, 0, 0))
	data := pattern(100, 1)
	writeAt(t, f, data, 0)
	p := make([]byte, 30)
	if n, err := f.ReadAt(p, 80); n != 20 || err != io.EOF || !bytes.Equal(p[:n], data[80:]) {
		t.Errorf("ReadAt(30, 80) = %d, %v; want 20, EOF and the last 20 bytes", n, err)
	}
	if n, err := f.ReadAt(p, 100); n != 0 || err != io.EOF {
		t.Errorf("ReadAt(30, 100) = %d, %v; want 0, EOF", n, err)
	}
	if n, err := f.ReadAt(p, 10); n != 30 || err != nil || !bytes.Equal(p, data[10:40]) {
		t.Errorf("ReadAt(30, 10) = %d, %v; want 30, nil and bytes 10..40", n, err)
	}
}

func TestNoSpaceOverMaxSize(t *testing.T) {
	s := newSpool(t, 100, 0)
	f := create(t, s)
	writeAt(t, f, pattern(80, 1), 0)

	n, err := f.WriteAt(pattern(30, 2), 80)
	if n != 0 || !errors.Is(err, ErrNoSpace) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("WriteAt past maxSize = %d, %v; want 0, ErrNoSpace wrapping ENOSPC", n, err)
	}
	if got := f.Size(); got != 80 {
		t.Errorf("Size after refused write = %d, want 80", got)
	}
	if st, _ := os.Stat(f.Path()); st.Size() != 80 {
		t.Errorf("size on disk after refused write = %d, want 80", st.Size())
	}
	if got := s.Used(); got != 80 {
		t.Errorf("Used after refused write = %d, want 80", got)
	}
	// Growing by truncate makes a hole, which takes no space.
	if err := f.Truncate(101); err != nil {
		t.Errorf("Truncate(101) = %v, want nil (a hole)", err)
	}
	if got := s.Used(); got != 80 {
		t.Errorf("Used after Truncate(101) = %d, want 80", got)
	}
	if err := f.Truncate(80); err != nil {
		t.Fatalf("Truncate(80): %v", err)
	}
	// Overwriting in place needs no space.
	writeAt(t, f, pattern(80, 3), 0)
	// The budget is shared: a second file gets only what is left.
	g := create(t, s)
	if _, err := g.WriteAt(pattern(21, 4), 0); !errors.Is(err, ErrNoSpace) {
		t.Errorf("second file WriteAt(21) = %v, want ErrNoSpace", err)
	}
	writeAt(t, g, pattern(20, 4), 0)
	if got := s.Used(); got != 100 {
		t.Errorf("Used = %d, want 100", got)
	}
}

func TestNoSpaceUnderMinFree(t *testing.T) {
	s := newSpool(t, 0, 1000)
	free := int64(1500)
	s.disk.Statfs = func(string) (int64, error) { return free, nil }
	f := create(t, s)
	writeAt(t, f, pattern(500, 1), 0)
	free -= 500
	if _, err := f.WriteAt([]byte{1}, 500); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("WriteAt leaving %d free under minFree 1000 = %v, want ENOSPC", free-1, err)
	}
	if err := f.Truncate(1 << 40); err != nil {
		t.Errorf("Truncate(1 TiB) = %v, want nil (a hole needs no space)", err)
	}
	if _, err := f.WriteAt([]byte{1}, 600); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("WriteAt into the hole leaving too little free = %v, want ENOSPC", err)
	}
	if err := f.Truncate(100); err != nil {
		t.Errorf("Truncate(100) = %v, want nil (shrinking needs no space)", err)
	}
}

func TestMinFreeUsesStatfs(t *testing.T) {
	s := newSpool(t, 0, 1<<62) // more than any test disk has free
	f := create(t, s)
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("WriteAt with minFree beyond the disk = %v, want ENOSPC", err)
	}
}

func TestUsedAccounting(t *testing.T) {
	s := newSpool(t, 0, 0)
	steps := []struct {
		name string
		do   func(f, g *File) error
		want int64
	}{
		{"write f", func(f, g *File) error { _, err := f.WriteAt(pattern(100, 1), 0); return err }, 100},
		{"write g with hole", func(f, g *File) error { _, err := g.WriteAt(pattern(10, 1), 40); return err }, 110},
		{"overwrite f", func(f, g *File) error { _, err := f.WriteAt(pattern(50, 1), 60); return err }, 120},
		{"shrink f", func(f, g *File) error { return f.Truncate(30) }, 40},
		{"grow g: a hole", func(f, g *File) error { return g.Truncate(200) }, 40},
		{"write into g's hole", func(f, g *File) error { _, err := g.WriteAt(pattern(20, 1), 100); return err }, 60},
		{"shrink g below what it was charged", func(f, g *File) error { return g.Truncate(15) }, 45},
		{"close g keeps space", func(f, g *File) error { return g.Close() }, 45},
		{"remove g", func(f, g *File) error { return g.Remove() }, 30},
		{"remove g again", func(f, g *File) error { return g.Remove() }, 30},
		{"remove f", func(f, g *File) error { return f.Remove() }, 0},
	}
	f, g := create(t, s), create(t, s)
	for _, st := range steps {
		if err := st.do(f, g); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := s.Used(); got != st.want {
			t.Fatalf("%s: Used = %d, want %d", st.name, got, st.want)
		}
	}
	if _, err := os.Stat(g.Path()); !os.IsNotExist(err) {
		t.Errorf("Stat after Remove = %v, want not exist", err)
	}
}

func TestClosedFile(t *testing.T) {
	s := newSpool(t, 0, 0)
	f := create(t, s)
	data := pattern(64, 1)
	writeAt(t, f, data, 0)
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := f.WriteAt([]byte("x"), 64); !errors.Is(err, os.ErrClosed) {
		t.Errorf("WriteAt after Close = %v, want os.ErrClosed", err)
	}
	if err := f.Truncate(0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Truncate after Close = %v, want os.ErrClosed", err)
	}
	if err := f.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close = %v, want os.ErrClosed", err)
	}
	if got, err := f.MD5(); err != nil || got != md5hex(data) {
		t.Errorf("MD5 after Close = %q, %v; want %q (no read needed)", got, err, md5hex(data))
	}
	if _, err := os.Stat(f.Path()); err != nil {
		t.Errorf("file gone after Close: %v", err)
	}
}

func TestAdopt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	old, err := Open(dir, 0, 0)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	f, err := old.Create()
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	data := pattern(5000, 9)
	writeAt(t, f, data, 0)
	f.Close()

	// A new run: the spool counts nothing until the file is adopted.
	s, err := Open(dir, 100, 0)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	if got := s.Used(); got != 0 {
		t.Errorf("Used before Adopt = %d, want 0", got)
	}
	a, err := s.Adopt(f.Path())
	if err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	if got := s.Used(); got != 5000 {
		t.Errorf("Used after Adopt = %d, want 5000 (even over maxSize)", got)
	}
	if a.Size() != 5000 || a.HashedSequentially() {
		t.Errorf("adopted Size, HashedSequentially = %d, %v; want 5000, false", a.Size(), a.HashedSequentially())
	}
	if got, err := a.MD5(); err != nil || got != md5hex(data) {
		t.Errorf("adopted MD5 = %q, %v; want %q", got, err, md5hex(data))
	}
	if _, err := s.Adopt(f.Path()); err == nil {
		t.Errorf("Adopt of a live file succeeded, want an error")
	}
	if _, err := s.Adopt(filepath.Join(t.TempDir(), "elsewhere")); err == nil {
		t.Errorf("Adopt outside the spool directory succeeded, want an error")
	}
	if err := a.Remove(); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if got := s.Used(); got != 0 {
		t.Errorf("Used after Remove = %d, want 0", got)
	}
}
