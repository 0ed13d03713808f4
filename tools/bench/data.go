package main

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pan123fs/pan123fs/tools/internal/benchkit"
)

// newRNG is a fast pseudo-random source of incompressible, never-repeated
// content (the emulator would answer "reuse" to content it already holds).
// writeSet makes dir with n random files of size bytes (f00000.bin, ...)
// and returns their md5s by name.
func writeSet(dir string, n int, size int64) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rng := benchkit.NewRNG()
	sums := make(map[string]string, n)
	buf := make([]byte, size)
	for i := range n {
		rng.Read(buf)
		name := setName(i)
		if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
			return nil, err
		}
		s := md5.Sum(buf)
		sums[name] = hex.EncodeToString(s[:])
	}
	return sums, nil
}

func setName(i int) string { return fmt.Sprintf("f%05d.bin", i) }

// readAll reads path sequentially in 1 MiB reads (no io.Discard ReadFrom,
// whose 8 KiB reads would measure syscalls), hashing when h is not nil, and
// fails unless it read want bytes.
func readAll(path string, want int64, h hash.Hash) (time.Duration, error) {
	t0 := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := f.Read(buf)
		n += int64(k)
		if h != nil {
			h.Write(buf[:k])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return time.Since(t0), err
		}
	}
	d := time.Since(t0)
	if n != want {
		return d, fmt.Errorf("read %d bytes of %s, want %d", n, path, want)
	}
	return d, nil
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// sizeText prints 1073741824 as "1 GiB".
func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// quiesce writes every dirty page back (sync(2)) so that a timed part
// starts with the same clean page cache, whatever an earlier part or the
// preparation of its input left to write.
func quiesce() {
	syscall.Sync()
}
