package main

import (
	"crypto/md5"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// newRNG is a fast pseudo-random source of incompressible, never-repeated
// content (the emulator would answer "reuse" to content it already holds).
func newRNG() *rand.ChaCha8 {
	var seed [32]byte
	crand.Read(seed[:])
	return rand.NewChaCha8(seed)
}

// writeRandom fills path with size random bytes and returns their md5.
func writeRandom(path string, size int64) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	rng, h := newRNG(), md5.New()
	buf := make([]byte, 4<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		rng.Read(buf[:n])
		h.Write(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return "", err
		}
		left -= n
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}

// writeSet makes dir with n random files of size bytes (f00000.bin, ...)
// and returns their md5s by name.
func writeSet(dir string, n int, size int64) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rng := newRNG()
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

func md5File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readAll reads path sequentially in 1 MiB reads (no io.Discard ReadFrom,
// whose 8 KiB reads would measure syscalls), hashing when h is not nil.
func readAll(path string, h hash.Hash) (int64, time.Duration, error) {
	t0 := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
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
			return n, time.Since(t0), nil
		}
		if err != nil {
			return n, time.Since(t0), err
		}
	}
}

// parseSize reads "1GiB", "64MiB", "4096".
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive size", s)
	}
	return n * mult, nil
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
