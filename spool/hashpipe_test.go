package spool

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// Large writes are hashed on the pipe's goroutine: the md5 must be the
// same as for the bytes written, whatever mix of sizes, MD5 calls in the
// middle, overwrites and truncations came in between, and the pipe must
// read nothing back while the writes stay sequential.
func TestMD5PipelinedWrites(t *testing.T) {
	sizes := []int{pipeMin, 1 << 20, 1<<20 + 1, 10, pipeMin - 1, 200 << 10, 1}
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 1))
		f := create(t, newSpool(t, 0, 0))
		var data []byte
		var read int64
		for step := range 30 {
			switch r := rng.IntN(20); {
			case r == 0 && len(data) > 10:
				// Overwrite inside what was hashed: the next MD5 reads it all.
				p := pattern(5, byte(step))
				off := rng.IntN(len(data) - 5)
				writeAt(t, f, p, int64(off))
				copy(data[off:], p)
				read += int64(len(data))
				mustMD5(t, f, data)
			case r == 1:
				if err := f.Truncate(0); err != nil {
					t.Fatal(err)
				}
				data = data[:0]
			case r < 4:
				mustMD5(t, f, data)
			default:
				p := pattern(sizes[rng.IntN(len(sizes))], byte(step))
				writeAt(t, f, p, int64(len(data)))
				data = append(data, p...)
			}
		}
		mustMD5(t, f, data)
		if got := f.hashReadBytes(); got != read {
			t.Errorf("seed %d: MD5 read %d bytes back, want %d", seed, got, read)
		}
		if err := f.Remove(); err != nil {
			t.Fatal(err)
		}
	}
}

func mustMD5(t *testing.T, f *File, data []byte) {
	t.Helper()
	if got, err := f.MD5(); err != nil || got != md5hex(data) {
		t.Fatalf("MD5 after %d bytes = %q, %v; want %q", len(data), got, err, md5hex(data))
	}
}

// Close ends the pipe: MD5 still answers without the file, and no
// goroutine is left behind by files closed or removed mid-pipe.
func TestPipeEndsWithTheFile(t *testing.T) {
	s := newSpool(t, 0, 0)
	before := runtime.NumGoroutine()
	big := pattern(2<<20, 3)
	closed := create(t, s)
	writeAt(t, closed, big, 0)
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := closed.MD5(); err != nil || got != md5hex(big) {
		t.Fatalf("MD5 after Close = %q, %v; want %q", got, err, md5hex(big))
	}
	for range 10 {
		f := create(t, s)
		writeAt(t, f, big, 0)
		if err := f.Remove(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after closing every file, %d before", n, before)
	}
}

// Writers and MD5 calls on one file from several goroutines: run with
// -race; the md5 of the final content must come out right.
func TestPipeConcurrentMD5(t *testing.T) {
	f := create(t, newSpool(t, 0, 0))
	chunk := pattern(256<<10, 9)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			f.MD5()
			f.HashedSequentially()
		}
	}()
	var data []byte
	for range 32 {
		writeAt(t, f, chunk, int64(len(data)))
		data = append(data, chunk...)
	}
	<-done
	mustMD5(t, f, data)
	if !bytes.Equal(readAll(t, f), data) {
		t.Fatal("content differs")
	}
}

func readAll(t *testing.T, f *File) []byte {
	t.Helper()
	p := make([]byte, f.Size())
	if _, err := f.ReadAt(p, 0); err != nil {
		t.Fatal(err)
	}
	return p
}
