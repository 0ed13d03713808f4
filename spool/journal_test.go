package spool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJournalRecordsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir)
	require.NoError(t, err)
	a := Record{Key: "spool-1", Path: "a/x.jpg", State: Pending, Size: 3, MD5: "abc", Seq: j.NextSeq()}
	b := Record{Key: "spool-2", Path: "y.jpg", State: Writing, Seq: j.NextSeq()}
	require.NoError(t, j.Put(a))
	require.NoError(t, j.Put(b))
	a.State, a.Resume = Uploading, "pre-1"
	require.NoError(t, j.Put(a))
	require.NoError(t, j.Close())

	j, err = OpenJournal(dir)
	require.NoError(t, err)
	recs, err := j.Records()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, "spool-1", recs[0].Key, "oldest first")
	assert.Equal(t, Uploading, recs[0].State)
	assert.Equal(t, "pre-1", recs[0].Resume)
	assert.Equal(t, Writing, recs[1].State)
	assert.Greater(t, j.NextSeq(), recs[1].Seq, "sequence numbers continue")

	require.NoError(t, j.Remove("spool-1"))
	require.NoError(t, j.Remove("spool-1"), "removing twice is fine")
	recs, err = j.Records()
	require.NoError(t, err)
	assert.Len(t, recs, 1)
	assert.Error(t, j.Put(Record{Key: "../evil"}))
}

func TestJournalDeletes(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir)
	require.NoError(t, err)
	require.NoError(t, j.AddDeletes([]string{"id1", "id2", "id3"}, true))
	require.NoError(t, j.DoneDeletes([]string{"id2"}))
	require.NoError(t, j.SyncDeletes())
	require.NoError(t, j.Close())

	// a torn last line (crash mid-append) is ignored
	f, err := os.OpenFile(filepath.Join(dir, "deletes.log"), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString("-id")
	require.NoError(t, err)
	f.Close()

	j, err = OpenJournal(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"id1", "id3"}, j.PendingDeletes())
	require.NoError(t, j.DoneDeletes([]string{"id1", "id3"}))
	require.NoError(t, j.Close())
	j, err = OpenJournal(dir)
	require.NoError(t, err)
	assert.Empty(t, j.PendingDeletes())
}

// A power loss can leave zeros (blocks never written) after a torn line of
// the delete log, and whole lines after them: the torn line is dropped, the
// whole ones count, and no ID is glued from the pieces.
func TestDeleteLogZerosAfterATornLine(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir)
	require.NoError(t, j.AddDeletes([]string{"id1"}, true))
	require.NoError(t, j.Close())
	f, err := os.OpenFile(filepath.Join(dir, "deletes.log"), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString("+id9" + strings.Repeat("\x00", 4096) + "+id4\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	j = openJournal(t, dir)
	defer j.Close()
	assert.Equal(t, []string{"id1", "id4"}, j.PendingDeletes())
}

func openJournal(t *testing.T, dir string) *Journal {
	t.Helper()
	j, err := OpenJournal(dir)
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	return j
}

func records(t *testing.T, j *Journal) []Record {
	t.Helper()
	recs, err := j.Records()
	require.NoError(t, err)
	return recs
}

func byKey(recs []Record) map[string]Record {
	m := map[string]Record{}
	for _, r := range recs {
		m[r.Key] = r
	}
	return m
}

func readLog(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, recordsLog))
	require.NoError(t, err)
	return b
}

func logLines(t *testing.T, dir string) []string {
	t.Helper()
	s := string(readLog(t, dir))
	if s == "" {
		return nil
	}
	require.True(t, strings.HasSuffix(s, "\n"), "the log holds whole lines")
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func reopen(t *testing.T, j *Journal) *Journal {
	t.Helper()
	require.NoError(t, j.Close())
	return openJournal(t, j.dir)
}

func TestJournalLogRoundTrip(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir)
	a := Record{Key: "spool-a", Path: "x/a.jpg", State: Pending, Size: 3, MD5: "aaa", Seq: j.NextSeq()}
	b := Record{Key: "spool-b", Path: "b.jpg", State: Writing, Seq: j.NextSeq()}
	c := Record{Key: "spool-c", Path: "c.jpg", State: Pending, Size: 1, MD5: "ccc", Seq: j.NextSeq()}
	d := Record{Key: "spool-d", Path: "d d.jpg", State: Writing, Seq: j.NextSeq()}
	require.NoError(t, j.Put(a))
	require.NoError(t, j.Note(b))
	require.NoError(t, j.Put(c))
	require.NoError(t, j.Note(d))
	a.State, a.Resume, a.Replaces, a.Attempts, a.Reason = Uploading, `{"preuploadID":"pre-1","sliceSize":1048576}`, "id-7", 2, "timeout"
	require.NoError(t, j.Put(a))
	a.Path = "y/a.jpg" // renamed while uploading
	require.NoError(t, j.Put(a))
	require.NoError(t, j.Remove("spool-c"))
	require.NoError(t, j.Remove("spool-c"), "removing twice is fine")
	require.NoError(t, j.Remove("spool-never"), "removing a missing record is fine")
	d.State, d.Size, d.MD5 = Pending, 9, "ddd"
	require.NoError(t, j.Put(d))

	for _, bad := range []string{"", "a/b", `a\b`, ".", "..", "a\nb", "a\x00", "\xff"} {
		assert.Error(t, j.Put(Record{Key: bad, State: Pending}), "%q", bad)
		assert.Error(t, j.Note(Record{Key: bad, State: Writing}), "%q", bad)
		assert.NoError(t, j.Remove(bad), "%q: nothing to remove", bad)
	}

	check := func(recs []Record) {
		t.Helper()
		require.Len(t, recs, 3)
		assert.Equal(t, []string{"spool-a", "spool-b", "spool-d"}, []string{recs[0].Key, recs[1].Key, recs[2].Key}, "by Seq")
		got := recs[0]
		assert.False(t, got.Updated.IsZero())
		got.Updated = time.Time{}
		assert.Equal(t, a, got, "the last put wins")
		assert.Equal(t, Writing, recs[1].State)
		assert.Equal(t, "b.jpg", recs[1].Path, "a noted record reads back")
		assert.Equal(t, Pending, recs[2].State)
		for _, r := range recs {
			assert.Empty(t, r.Damaged)
		}
	}
	before := records(t, j)
	check(before)

	lines := logLines(t, dir)
	require.Len(t, lines, 8, "one line per change")
	assert.True(t, strings.HasPrefix(lines[0], `P {"key":"spool-a","path":"x/a.jpg",`), lines[0])
	assert.Equal(t, "R spool-c", lines[6])

	j = reopen(t, j)
	after := records(t, j)
	check(after)
	assert.Equal(t, before, after, "what is read back is what the journal held")
	assert.Greater(t, j.NextSeq(), d.Seq, "sequence numbers continue")
	assert.Len(t, logLines(t, dir), 3, "compacted at open")

	require.NoError(t, j.Remove("spool-a"))
	require.NoError(t, j.Remove("spool-b"))
	require.NoError(t, j.Remove("spool-d"))
	assert.Empty(t, records(t, j))
	j = reopen(t, j)
	assert.Empty(t, records(t, j))
	assert.Empty(t, readLog(t, dir))
	assert.Greater(t, j.NextSeq(), uint64(0))
}

// torn writes the log that j left, cut at n bytes and followed by extra, in
// dir (a fresh journal's) and opens it.
func tornOpen(t *testing.T, dir string, log []byte, n int, extra []byte) *Journal {
	t.Helper()
	data := append(append([]byte(nil), log[:n]...), extra...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, recordsLog), data, 0o600))
	j, err := OpenJournal(dir)
	require.NoError(t, err)
	return j
}

// After a power loss the log may end in a line cut short (a write that did
// not make it to the disk), or in zeros (blocks of it that were never
// written): the record that stood before stays, and a record with nothing
// before it comes back damaged.
func TestJournalTornLines(t *testing.T) {
	src := t.TempDir()
	j := openJournal(t, src)
	v1 := Record{Key: "spool-1", Path: "a.jpg", State: Pending, Size: 5, MD5: "v1", Seq: j.NextSeq()}
	require.NoError(t, j.Put(v1))
	v2 := v1
	v2.State, v2.Resume = Uploading, "pre"
	require.NoError(t, j.Put(v2))
	v1Log := readLog(t, src)
	firstLen := bytes.IndexByte(v1Log, '\n') + 1
	nw := Record{Key: "spool-2", Path: "b.jpg", State: Writing, Seq: j.NextSeq()}
	require.NoError(t, j.Note(nw))
	full := readLog(t, src)
	require.NoError(t, j.Close())
	secondEnd := len(v1Log)
	keyEnd := secondEnd + len(`P {"key":"spool-2"`) // spool-2's line names its key from here on

	dir := t.TempDir()
	t.Run("a torn put: the version before stands", func(t *testing.T) {
		for n := firstLen; n < secondEnd; n++ {
			j := tornOpen(t, dir, full, n, nil)
			recs := records(t, j)
			require.Len(t, recs, 1, "cut at %d", n)
			got := recs[0]
			got.Updated = time.Time{}
			assert.Equal(t, v1, got, "cut at %d", n)
			require.NoError(t, j.Close())
		}
	})
	t.Run("a torn note of a new record: damaged once it names its key", func(t *testing.T) {
		for n := secondEnd; n < len(full); n++ {
			j := tornOpen(t, dir, full, n, nil)
			m := byKey(records(t, j))
			assert.Equal(t, Uploading, m["spool-1"].State, "cut at %d", n)
			assert.Empty(t, m["spool-1"].Damaged)
			r, ok := m["spool-2"]
			if n < keyEnd {
				assert.False(t, ok, "cut at %d: no key, no record", n)
			} else {
				require.True(t, ok, "cut at %d", n)
				assert.NotEmpty(t, r.Damaged, "cut at %d", n)
				assert.Equal(t, Record{Key: "spool-2", State: Writing, Damaged: r.Damaged}, r)
			}
			require.NoError(t, j.Close())
		}
	})
	t.Run("trailing zeros are ignored", func(t *testing.T) {
		j := tornOpen(t, dir, full, len(full), make([]byte, 8192))
		m := byKey(records(t, j))
		require.Len(t, m, 2)
		assert.Equal(t, Uploading, m["spool-1"].State)
		assert.Equal(t, Writing, m["spool-2"].State)
		assert.Empty(t, m["spool-2"].Damaged)
		require.NoError(t, j.Close())
	})
	t.Run("zeros in the middle: before them a torn line, after them whole ones", func(t *testing.T) {
		extra := append(make([]byte, 100), full[:firstLen]...) // spool-1 v1 again, after zeros
		extra = append(extra, "R spool-1\x00\x00\n"...)        // "R spool-12" cut short: not a removal of spool-1
		j := tornOpen(t, dir, full, keyEnd+5, extra)
		m := byKey(records(t, j))
		require.Len(t, m, 2)
		assert.Equal(t, Pending, m["spool-1"].State, "the whole line after the zeros applies")
		assert.NotEmpty(t, m["spool-2"].Damaged)
		require.NoError(t, j.Close())
	})
	t.Run("a damaged record is kept by the compaction, until put or removed", func(t *testing.T) {
		j := tornOpen(t, dir, full, len(full)-1, nil)
		j = reopen(t, j)
		m := byKey(records(t, j))
		assert.NotEmpty(t, m["spool-2"].Damaged)
		lines := logLines(t, dir)
		require.Len(t, lines, 2)
		assert.True(t, strings.HasPrefix(lines[0], `D {"key":"spool-2","damaged":`), "damaged records have no Seq: first; %s", lines[0])

		require.NoError(t, j.Put(nw))
		j = reopen(t, j)
		assert.Empty(t, byKey(records(t, j))["spool-2"].Damaged)
		require.NoError(t, j.Remove("spool-2"))
		j = reopen(t, j)
		assert.Len(t, records(t, j), 1)
		require.NoError(t, j.Close())
	})
	t.Run("lines that do not parse", func(t *testing.T) {
		extra := []byte("P {\"key\":\"spool-3\",\"seq\":\"x\"}\nP {\"key\":\"spool-1\",\"size\":[]}\nX what\nR \nR a/b\nP {\"key\":\"../x\",\"state\":\"closed\"}\n")
		j := tornOpen(t, dir, full, len(full), extra)
		m := byKey(records(t, j))
		require.Len(t, m, 3)
		assert.NotEmpty(t, m["spool-3"].Damaged, "a new key whose line does not parse is damaged")
		assert.Empty(t, m["spool-1"].Damaged, "an existing record stands")
		assert.Equal(t, Uploading, m["spool-1"].State)
		require.NoError(t, j.Close())
	})
}

func TestJournalCompactsAtOpen(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir)
	for i := range 50 {
		r := Record{Key: fmt.Sprintf("spool-%d", i%7), Path: fmt.Sprintf("f%d", i), State: Pending, Seq: uint64(i%7 + 1)}
		require.NoError(t, j.Note(r))
		if i%5 == 4 {
			require.NoError(t, j.Remove(fmt.Sprintf("spool-%d", (i+3)%7)))
		}
	}
	want := records(t, j)
	assert.Len(t, logLines(t, dir), 60)
	j = reopen(t, j)
	lines := logLines(t, dir)
	require.Len(t, lines, len(want), "exactly the live records")
	for i, l := range lines {
		var r Record
		require.True(t, strings.HasPrefix(l, "P "), l)
		require.NoError(t, json.Unmarshal([]byte(l[2:]), &r))
		assert.Equal(t, want[i], r, "oldest first")
	}
	assert.Equal(t, want, records(t, j))
	_, err := os.Stat(filepath.Join(dir, recordsLog+".tmp"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestJournalCompactsWhileRunning(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir)
	const keys = 5
	compacted := false
	for i := range 3000 {
		key := fmt.Sprintf("spool-%d", i%keys)
		r := Record{Key: key, Path: fmt.Sprintf("f%d", i), State: Writing, Seq: uint64(i + 1)}
		switch {
		case i%50 == 7:
			require.NoError(t, j.Remove(key))
		case i%50 == 8:
			r.State = Pending
			require.NoError(t, j.Put(r))
		default:
			require.NoError(t, j.Note(r))
		}
		if i%97 == 0 || i > 1000 && i < 1050 {
			n, live := len(logLines(t, dir)), len(records(t, j))
			assert.LessOrEqual(t, n, 4*live+1000, "after op %d", i)
			if n < i {
				compacted = true
			}
		}
	}
	assert.True(t, compacted)
	want := records(t, j)
	assert.Len(t, want, keys)
	j = reopen(t, j)
	assert.Equal(t, want, records(t, j))
}

// A records folder of the earlier layout (one JSON file per record) is
// moved into the log: a file cut short by a power loss (empty, torn) or one
// naming another key is a damaged Writing record of its key, so that its
// data is kept aside; leftover temporary files are dropped.
func TestJournalMigratesOldRecords(t *testing.T) {
	dir := t.TempDir()
	recDir := filepath.Join(dir, "records")
	require.NoError(t, os.MkdirAll(recDir, 0o700))
	old := Record{Key: "spool-2", Path: "b.jpg", State: Uploading, Size: 1, MD5: "x", Resume: "tok", Seq: 7,
		Updated: time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)}
	b, err := json.Marshal(old)
	require.NoError(t, err)
	files := map[string]string{
		"spool-1.json": `{"key":"spool-1","path":"a.jpg","state":"writing","seq":3}`,
		"spool-2.json": string(b),
		"spool-3.json": "",
		"spool-4.json": `{"key":"spool-1","sta`,
		"spool-5.json": `{"key":"spool-2","state":"closed"}`,
		".tmp-123":     `{"key":`,
		"README":       "not a record",
	}
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(recDir, name), []byte(content), 0o600))
	}

	j := openJournal(t, dir)
	check := func() {
		t.Helper()
		m := byKey(records(t, j))
		require.Len(t, m, 5)
		assert.Equal(t, "a.jpg", m["spool-1"].Path)
		assert.Empty(t, m["spool-1"].Damaged)
		assert.Equal(t, old, m["spool-2"])
		for _, k := range []string{"spool-3", "spool-4", "spool-5"} {
			assert.NotEmpty(t, m[k].Damaged, k)
			assert.Equal(t, Record{Key: k, State: Writing, Damaged: m[k].Damaged}, m[k], k)
		}
		assert.Contains(t, m["spool-5"].Damaged, `names key "spool-2"`)
		assert.Greater(t, j.NextSeq(), uint64(7), "sequence numbers continue")
	}
	check()
	_, err = os.Stat(recDir)
	assert.ErrorIs(t, err, os.ErrNotExist, "the old folder is gone")
	assert.Len(t, logLines(t, dir), 5)

	j = reopen(t, j)
	check()
}

// Should a start be cut short after the log was written and before the old
// folder was removed, both are read, the log over the folder.
func TestJournalMigrationCutShort(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir)
	require.NoError(t, j.Put(Record{Key: "spool-1", Path: "new.jpg", State: Uploading, Seq: 2}))
	require.NoError(t, j.Close())
	recDir := filepath.Join(dir, "records")
	require.NoError(t, os.MkdirAll(recDir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(recDir, "spool-1.json"), []byte(`{"key":"spool-1","path":"old.jpg","state":"closed","seq":2}`), 0o600))

	j = openJournal(t, dir)
	recs := records(t, j)
	require.Len(t, recs, 1)
	assert.Equal(t, "new.jpg", recs[0].Path)
	_, err := os.Stat(recDir)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestJournalConcurrent(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir)
	j.compactMin = 16 // compactions while syncs run, too
	const workers, ops, keys = 8, 60, 3
	models := make([]map[string]*Record, workers)
	var wg sync.WaitGroup
	for w := range workers {
		model := map[string]*Record{}
		models[w] = model
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range ops {
				key := fmt.Sprintf("spool-%d-%d", w, rng.IntN(keys))
				r := Record{Key: key, Path: fmt.Sprintf("w%d/%d", w, i), Size: int64(i), Seq: j.NextSeq()}
				var err error
				switch rng.IntN(3) {
				case 0:
					r.State = Pending
					err = j.Put(r)
					model[key] = &r
				case 1:
					r.State = Writing
					err = j.Note(r)
					model[key] = &r
				default:
					err = j.Remove(key)
					model[key] = nil
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	want := map[string]Record{}
	for _, m := range models {
		for k, r := range m {
			if r != nil {
				want[k] = *r
			}
		}
	}
	check := func(recs []Record) {
		t.Helper()
		got := byKey(recs)
		for k, r := range got {
			r.Updated = time.Time{}
			got[k] = r
		}
		assert.Equal(t, want, got)
	}
	before := records(t, j)
	check(before)
	j = reopen(t, j)
	after := records(t, j)
	check(after)
	assert.Equal(t, before, after)
}

// Put and Remove return only once their line is on the disk: after a sync
// that started once the line was written, or that a rewrite of the log
// made durable. Checked from the outside: the sync function notes how much
// of the log it made durable (its size when the sync began), and each call
// checks, once it returns, that this covers its line.
func TestJournalWaitsForASyncOfItsLine(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir)
	var mu sync.Mutex
	var durable int64
	syncs := 0
	j.datasync = func(f *os.File) error {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		time.Sleep(100 * time.Microsecond) // widen the window for lines appended meanwhile
		if err := datasync(f); err != nil {
			return err
		}
		mu.Lock()
		durable = max(durable, st.Size())
		syncs++
		mu.Unlock()
		return nil
	}
	const workers, each = 8, 15
	seen := map[string]int64{} // a line's start → durable when its call returned
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				key := fmt.Sprintf("spool-%d-%d", w, i)
				if err := j.Put(Record{Key: key, State: Pending, Seq: j.NextSeq()}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[`P {"key":"`+key+`"`] = durable
				mu.Unlock()
				if err := j.Remove(key); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen["\nR "+key+"\n"] = durable
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	log := readLog(t, dir)
	require.Len(t, seen, 2*workers*each)
	for line, d := range seen {
		at := bytes.Index(log, []byte(line))
		require.GreaterOrEqual(t, at, 0, line)
		end := at + bytes.IndexByte(log[at+1:], '\n') + 2
		assert.LessOrEqual(t, int64(end), d, "%q returned before a sync covered it", line)
	}
	t.Logf("%d puts and removes, %d syncs", 2*workers*each, syncs)
}

// A sync that fails may have lost the log's pages while a later one
// succeeds: the log is rewritten from what the journal holds instead.
func TestJournalSyncFailureRewritesTheLog(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir)
	require.NoError(t, j.Put(Record{Key: "spool-1", State: Pending, Seq: j.NextSeq()}))
	var fail atomic.Bool
	j.datasync = func(f *os.File) error {
		if fail.Load() {
			return errors.New("EIO")
		}
		return datasync(f)
	}
	st1, err := os.Stat(filepath.Join(dir, recordsLog))
	require.NoError(t, err)

	fail.Store(true)
	require.NoError(t, j.Put(Record{Key: "spool-2", State: Pending, Seq: j.NextSeq()}), "made durable by a rewrite")
	st2, err := os.Stat(filepath.Join(dir, recordsLog))
	require.NoError(t, err)
	assert.False(t, os.SameFile(st1, st2), "rewritten")

	// A rewrite that fails too is reported, and tried again at the next use.
	block := filepath.Join(dir, recordsLog+".tmp")
	require.NoError(t, os.Mkdir(block, 0o700))
	assert.Error(t, j.Put(Record{Key: "spool-3", State: Pending, Seq: j.NextSeq()}))
	assert.Error(t, j.Note(Record{Key: "spool-4", State: Writing, Seq: j.NextSeq()}), "the log is dirty")
	require.NoError(t, os.Remove(block))
	fail.Store(false)
	require.NoError(t, j.Remove("spool-1"))

	j = reopen(t, j)
	m := byKey(records(t, j))
	assert.Len(t, m, 2)
	assert.Contains(t, m, "spool-2")
	assert.Contains(t, m, "spool-3", "held since its Put, though that Put failed")
}

func TestJournalCompactionFailureIsPutOff(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir)
	j.compactMin = 10
	block := filepath.Join(dir, recordsLog+".tmp")
	require.NoError(t, os.Mkdir(block, 0o700))
	for i := range 40 {
		require.NoError(t, j.Note(Record{Key: "spool-1", Path: fmt.Sprint(i), State: Writing}))
	}
	assert.Len(t, logLines(t, dir), 40)
	assert.Equal(t, 3, j.putOff, "tried at 15, 25 and 35 lines, not at every line past 14")
	require.NoError(t, os.Remove(block))
	for i := range 30 {
		require.NoError(t, j.Note(Record{Key: "spool-1", Path: fmt.Sprint(i), State: Writing}))
	}
	assert.Less(t, len(logLines(t, dir)), 30, "compacted once it could be")
	j = reopen(t, j)
	assert.Equal(t, "29", records(t, j)[0].Path)
}

func TestJournalClosed(t *testing.T) {
	j := openJournal(t, t.TempDir())
	require.NoError(t, j.Put(Record{Key: "spool-1", State: Pending}))
	require.NoError(t, j.Close())
	assert.Error(t, j.Put(Record{Key: "spool-2", State: Pending}))
	assert.Error(t, j.Note(Record{Key: "spool-2", State: Writing}))
	assert.Error(t, j.Remove("spool-1"))
}

// FuzzJournalReplay opens a journal whose log holds anything: it opens, and
// what it reads back is read back the same after its compaction.
func FuzzJournalReplay(f *testing.F) {
	f.Add([]byte("P {\"key\":\"spool-1\",\"path\":\"a\",\"state\":\"closed\",\"size\":1,\"seq\":2,\"updated\":\"2024-01-02T03:04:05.5+08:00\"}\nR spool-1\nP {\"key\":\"spool-2\",\"state\":\"writing\",\"seq\":1}\n"))
	f.Add([]byte("P {\"key\":\"spool-1\",\"state\":\"closed\"}\nP {\"key\":\"spool-1\",\"sta"))
	f.Add([]byte("P {\"key\":\"spool-1\",\"state\x00\x00\x00P {\"key\":\"spool-2\"}\nD {\"key\":\"spool-3\",\"damaged\":\"x\"}\n"))
	f.Add([]byte("P {\"key\":\"spool-1\",\"oldID\":\"7\",\"state\":\"uploading\",\"preuploadID\":\"p<\\\"\",\"sliceSize\":9}\nP {\"key\":\"spool-2\",\"replaces\":\"8\",\"oldID\":\"9\",\"resume\":\"r\",\"preuploadID\":\"q\"}\n"))
	f.Add([]byte("D {\"key\":\"a\",\"damaged\":\"\"}\nP {\"key\":\"b\",\"key\":\"c\"}\nP {\"key\":\"d\",\"oops\n"))
	f.Fuzz(func(t *testing.T, log []byte) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, recordsLog), log, 0o600))
		j, err := OpenJournal(dir)
		require.NoError(t, err)
		first := records(t, j)
		for _, r := range first {
			assert.True(t, validKey(r.Key), "%q", r.Key)
		}
		j = reopen(t, j)
		assert.Equal(t, first, records(t, j))
		require.NoError(t, j.Close())
	})
}

// Stage and Drop write without waiting for the disk; their ticket waits.
// This is what lets callers hold their own locks only around the write.
func TestJournalTicketsWaitForTheDisk(t *testing.T) {
	j, err := OpenJournal(t.TempDir())
	require.NoError(t, err)
	defer j.Close()
	var syncs atomic.Int32
	j.datasync = func(f *os.File) error { syncs.Add(1); return f.Sync() }

	tk, err := j.Stage(Record{Key: "spool-1", Path: "a.jpg", State: Pending, Seq: j.NextSeq()})
	require.NoError(t, err)
	assert.Zero(t, syncs.Load(), "Stage does not wait for the disk")
	recs, err := j.Records()
	require.NoError(t, err)
	assert.Len(t, recs, 1, "the record is there at once")
	require.NoError(t, tk.Wait())
	assert.EqualValues(t, 1, syncs.Load(), "its ticket does")
	require.NoError(t, tk.Wait())
	assert.EqualValues(t, 1, syncs.Load(), "once")

	tk, err = j.Drop("spool-1")
	require.NoError(t, err)
	assert.EqualValues(t, 1, syncs.Load(), "Drop does not wait for the disk")
	recs, err = j.Records()
	require.NoError(t, err)
	assert.Empty(t, recs)
	require.NoError(t, tk.Wait())
	assert.EqualValues(t, 2, syncs.Load())
	require.NoError(t, Ticket{}.Wait(), "the zero ticket waits for nothing")
}
