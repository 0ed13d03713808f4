package spool

import (
	"bytes"
	"testing"
)

func (f *File) hashReadBytes() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hashRead
}

func TestMD5SequentialNeedsNoRead(t *testing.T) {
	f := create(t, newSpool(t, 0, 0))
	var data []byte
	for i, n := range []int{1, 4096, 0, 100000, 7, 65536} {
		p := pattern(n, byte(i))
		writeAt(t, f, p, int64(len(data)))
		data = append(data, p...)
		// Reads in between change nothing.
		f.ReadAt(make([]byte, 10), 0)
	}
	if !f.HashedSequentially() {
		t.Errorf("HashedSequentially = false after sequential writes, want true")
	}
	for range 2 {
		if got, err := f.MD5(); err != nil || got != md5hex(data) {
			t.Fatalf("MD5 = %q, %v; want %q", got, err, md5hex(data))
		}
	}
	if got := f.hashReadBytes(); got != 0 {
		t.Errorf("MD5 read %d bytes of a sequentially written file, want 0", got)
	}
}

// op is one step of a write pattern: a write of data at off, or (data nil)
// a truncate to off.
type op struct {
	off  int64
	data []byte
}

func TestMD5Fallback(t *testing.T) {
	tests := []struct {
		name     string
		ops      []op
		want     []byte
		wantSeq  bool  // HashedSequentially before MD5
		wantRead int64 // bytes MD5 reads
	}{
		{
			name:     "out of order",
			ops:      []op{{10, []byte("0123456789")}, {0, []byte("abcdefghij")}},
			want:     []byte("abcdefghij0123456789"),
			wantRead: 20,
		},
		{
			name:     "overlapping rewrite",
			ops:      []op{{0, []byte("abcdefghij")}, {3, []byte("XYZ")}},
			want:     []byte("abcXYZghij"),
			wantRead: 10,
		},
		{
			name:     "hole",
			ops:      []op{{0, []byte("ab")}, {4, []byte("cd")}},
			want:     []byte("ab\x00\x00cd"),
			wantRead: 6,
		},
		{
			name:     "truncate to 0 then rewrite",
			ops:      []op{{5, []byte("junk")}, {0, nil}, {0, []byte("fresh")}, {5, []byte(" start")}},
			want:     []byte("fresh start"),
			wantSeq:  true,
			wantRead: 0,
		},
		{
			name:     "shrink below hashed",
			ops:      []op{{0, []byte("abcdef")}, {4, nil}, {4, []byte("XY")}},
			want:     []byte("abcdXY"),
			wantRead: 6,
		},
		{
			name:     "grow then fill sequentially",
			ops:      []op{{0, []byte("ab")}, {6, nil}, {2, []byte("cdef")}},
			want:     []byte("abcdef"),
			wantSeq:  true,
			wantRead: 0,
		},
		{
			name:     "grow reads only the tail",
			ops:      []op{{0, []byte("ab")}, {5, nil}},
			want:     []byte("ab\x00\x00\x00"),
			wantRead: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := create(t, newSpool(t, 0, 0))
			for _, o := range tt.ops {
				if o.data == nil {
					if err := f.Truncate(o.off); err != nil {
						t.Fatalf("Truncate(%d): %v", o.off, err)
					}
					continue
				}
				writeAt(t, f, o.data, o.off)
			}
			if got := f.HashedSequentially(); got != tt.wantSeq {
				t.Errorf("HashedSequentially = %v, want %v", got, tt.wantSeq)
			}
			if got, err := f.MD5(); err != nil || got != md5hex(tt.want) {
				t.Errorf("MD5 = %q, %v; want %q", got, err, md5hex(tt.want))
			}
			if got := f.hashReadBytes(); got != tt.wantRead {
				t.Errorf("MD5 read %d bytes, want %d", got, tt.wantRead)
			}
			// After a pass, appends are hashed as they arrive again.
			writeAt(t, f, []byte("++"), f.Size())
			if got, err := f.MD5(); err != nil || got != md5hex(append(bytes.Clone(tt.want), "++"...)) {
				t.Errorf("MD5 after append = %q, %v", got, err)
			}
			if got := f.hashReadBytes(); got != tt.wantRead {
				t.Errorf("MD5 after append read %d bytes in all, want still %d", got, tt.wantRead)
			}
		})
	}
}
