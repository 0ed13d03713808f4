package spool

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzOps runs a random sequence of WriteAt, Truncate and MD5 calls against
// a File and an in-memory model, with a spool limit that refuses some of
// them, and compares content, size, Used and md5 after every step.
//
// Each op takes 3 bytes: kind, a, b. Kinds: append len a*8 at the end,
// write len a*8 at b*16, truncate to a*16, check MD5.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 10, 0, 0, 20, 0, 3, 0, 0})
	f.Add([]byte{1, 10, 5, 0, 3, 0, 3, 0, 0, 0, 4, 0})
	f.Add([]byte{2, 0, 0, 0, 255, 0, 2, 50, 0, 0, 7, 0, 3, 0, 0})
	f.Add([]byte{0, 200, 0, 0, 200, 0, 1, 1, 255, 2, 255, 0})
	f.Fuzz(func(t *testing.T, prog []byte) {
		const limit = 3000
		s := newSpool(t, limit, 0)
		file := create(t, s)
		var model []byte
		for i := 0; i+2 < len(prog); i += 3 {
			kind, a, b := prog[i]%4, int(prog[i+1]), int(prog[i+2])
			var err error
			var newLen int
			switch kind {
			case 0, 1:
				off := len(model)
				if kind == 1 {
					off = b * 16
				}
				data := pattern(a*8, byte(i))
				newLen = max(len(model), off+len(data))
				if len(data) == 0 {
					newLen = len(model)
				}
				_, err = file.WriteAt(data, int64(off))
				if err == nil && len(data) > 0 {
					model = append(model, make([]byte, newLen-len(model))...)
					copy(model[off:], data)
				}
			case 2:
				newLen = a * 16
				err = file.Truncate(int64(newLen))
				if err == nil {
					model = append(model[:min(newLen, len(model))], make([]byte, max(newLen-len(model), 0))...)
				}
			case 3:
				if sum, err := file.MD5(); err != nil || sum != md5hex(model) {
					t.Fatalf("op %d: MD5 = %q, %v; want %q", i/3, sum, err, md5hex(model))
				}
			}
			if kind != 3 && (err != nil) != (newLen > limit) {
				t.Fatalf("op %d (kind %d) to length %d: err = %v, want refusal only past %d", i/3, kind, newLen, err, limit)
			}
			if err != nil && !errors.Is(err, ErrNoSpace) {
				t.Fatalf("op %d: err = %v, want ErrNoSpace", i/3, err)
			}
			if file.Size() != int64(len(model)) || s.Used() != int64(len(model)) {
				t.Fatalf("op %d: Size %d, Used %d; want %d", i/3, file.Size(), s.Used(), len(model))
			}
		}
		got := make([]byte, len(model))
		if n, _ := file.ReadAt(got, 0); n != len(model) || !bytes.Equal(got, model) {
			t.Fatalf("content differs from model (read %d of %d)", n, len(model))
		}
		if sum, err := file.MD5(); err != nil || sum != md5hex(model) {
			t.Fatalf("final MD5 = %q, %v; want %q", sum, err, md5hex(model))
		}
	})
}
