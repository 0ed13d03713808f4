package spool

import (
	"bytes"
	"io"
	"sync"
	"testing"
)

func TestConcurrentWriters(t *testing.T) {
	const workers, chunk, chunks = 8, 4096, 16
	s := newSpool(t, workers*chunk*chunks*2, 0)
	shared := create(t, s)
	own := make([]*File, workers)
	var wg sync.WaitGroup
	for w := range workers {
		own[w] = create(t, s)
		wg.Go(func() {
			for c := range chunks {
				// Sequential appends to its own file...
				if _, err := own[w].WriteAt(pattern(chunk, byte(w+c)), int64(c*chunk)); err != nil {
					t.Errorf("worker %d: WriteAt own: %v", w, err)
				}
				// ...and interleaved chunks of the shared file.
				off := int64((c*workers + w) * chunk)
				if _, err := shared.WriteAt(pattern(chunk, byte(w)), off); err != nil {
					t.Errorf("worker %d: WriteAt shared: %v", w, err)
				}
				shared.ReadAt(make([]byte, chunk), off)
				shared.Size()
			}
		})
	}
	wg.Wait()

	var want []byte
	for range chunks {
		for w := range workers {
			want = append(want, pattern(chunk, byte(w))...)
		}
	}
	got := make([]byte, len(want))
	if n, err := shared.ReadAt(got, 0); n != len(want) || (err != nil && err != io.EOF) || !bytes.Equal(got, want) {
		t.Errorf("shared content wrong (read %d, %v)", n, err)
	}
	if sum, err := shared.MD5(); err != nil || sum != md5hex(want) {
		t.Errorf("shared MD5 = %q, %v; want %q", sum, err, md5hex(want))
	}
	for w, f := range own {
		var data []byte
		for c := range chunks {
			data = append(data, pattern(chunk, byte(w+c))...)
		}
		if sum, err := f.MD5(); err != nil || sum != md5hex(data) || f.hashReadBytes() != 0 {
			t.Errorf("worker %d: MD5 = %q, %v after reading %d bytes; want %q without reading",
				w, sum, err, f.hashReadBytes(), md5hex(data))
		}
	}
	if got, want := s.Used(), int64(2*workers*chunk*chunks); got != want {
		t.Errorf("Used = %d, want %d", got, want)
	}
}
