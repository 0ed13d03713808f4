package spool

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzOps runs a random sequence of WriteAt, Truncate and MD5 calls against
// a File and an in-memory model, with a spool limit that refuses some
// writes, and compares content, size, Used and md5 after every step. The
// model charges what File's comment says: written bytes, at most the
// length; growing by Truncate charges nothing.
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
		charged := 0
		for i := 0; i+2 < len(prog); i += 3 {
			kind, a, b := prog[i]%4, int(prog[i+1]), int(prog[i+2])
			var err error
			var newLen, newCharged int
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
				newCharged = min(charged+len(data), newLen)
				_, err = file.WriteAt(data, int64(off))
				if err == nil && len(data) > 0 {
					model = append(model, make([]byte, newLen-len(model))...)
					copy(model[off:], data)
					charged = newCharged
				}
			case 2:
				newLen = a * 16
				err = file.Truncate(int64(newLen))
				if err == nil {
					model = append(model[:min(newLen, len(model))], make([]byte, max(newLen-len(model), 0))...)
					charged = min(charged, newLen)
				}
			case 3:
				if sum, err := file.MD5(); err != nil || sum != md5hex(model) {
					t.Fatalf("op %d: MD5 = %q, %v; want %q", i/3, sum, err, md5hex(model))
				}
			}
			if kind < 2 && (err != nil) != (newCharged > limit) {
				t.Fatalf("op %d (kind %d) charging %d: err = %v, want refusal only past %d", i/3, kind, newCharged, err, limit)
			}
			if kind == 2 && err != nil {
				t.Fatalf("op %d: Truncate(%d) = %v, want nil", i/3, newLen, err)
			}
			if err != nil && !errors.Is(err, ErrNoSpace) {
				t.Fatalf("op %d: err = %v, want ErrNoSpace", i/3, err)
			}
			if file.Size() != int64(len(model)) || s.Used() != int64(charged) {
				t.Fatalf("op %d: Size %d, Used %d; want %d, %d", i/3, file.Size(), s.Used(), len(model), charged)
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
