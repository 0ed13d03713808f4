package spool

import (
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkJournalPutRemove journals a Pending record durably and removes
// it, as an upload of one small file does; Parallel does so from several
// goroutines at once (upload workers and FUSE handlers).
func BenchmarkJournalPutRemove(b *testing.B) {
	run := func(b *testing.B, parallel bool) {
		j, err := OpenJournal(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer j.Close()
		var n atomic.Uint64
		one := func() {
			i := n.Add(1)
			r := Record{Key: "spool-" + strconv.FormatUint(i, 10), Path: "photos/img-" + strconv.FormatUint(i, 10) + ".jpg",
				State: Pending, Size: 123456, MD5: "0123456789abcdef0123456789abcdef", Seq: j.NextSeq()}
			if err := j.Put(r); err != nil {
				b.Error(err)
			}
			if err := j.Remove(r.Key); err != nil {
				b.Error(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		if !parallel {
			for i := 0; i < b.N; i++ {
				one()
			}
			return
		}
		b.SetParallelism(4) // 4×GOMAXPROCS goroutines
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				one()
			}
		})
	}
	b.Run("Serial", func(b *testing.B) { run(b, false) })
	b.Run("Parallel", func(b *testing.B) { run(b, true) })
}

// BenchmarkJournalNote journals a file being written (Note: no wait for
// the disk), as each open for writing and each size change does.
func BenchmarkJournalNote(b *testing.B) {
	j, err := OpenJournal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := strconv.Itoa(i % 1000) // a spool of 1,000 files being written
		r := Record{Key: "spool-" + k, Path: "photos/img-" + k + ".jpg", State: Writing, Size: int64(i), Seq: uint64(i%1000 + 1)}
		if err := j.Note(r); err != nil {
			b.Fatal(err)
		}
	}
}
