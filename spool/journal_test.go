package spool

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJournalRecordsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir)
	require.NoError(t, err)
	a := Record{Key: "spool-1", Path: "a/x.jpg", State: Closed, Size: 3, MD5: "abc", Seq: j.NextSeq()}
	b := Record{Key: "spool-2", Path: "y.jpg", State: Writing, Seq: j.NextSeq()}
	require.NoError(t, j.Put(a))
	require.NoError(t, j.Put(b))
	a.State, a.PreuploadID = Uploading, "pre-1"
	require.NoError(t, j.Put(a))
	require.NoError(t, j.Close())

	// a Put cut short leaves a temporary file: ignored and removed
	require.NoError(t, os.WriteFile(filepath.Join(dir, "records", ".tmp-123"), []byte(`{"key":`), 0o600))

	j, err = OpenJournal(dir)
	require.NoError(t, err)
	recs, err := j.Records()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, "spool-1", recs[0].Key, "oldest first")
	assert.Equal(t, Uploading, recs[0].State)
	assert.Equal(t, "pre-1", recs[0].PreuploadID)
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

// A record written by Note and cut short by a power loss (an empty or torn
// file under the final name), or one naming another key, comes back as a
// damaged Writing record of its key, so that its data is kept aside.
func TestJournalDamagedRecords(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir)
	require.NoError(t, err)
	require.NoError(t, j.Note(Record{Key: "spool-1", Path: "a.jpg", State: Writing, Seq: j.NextSeq()}))
	require.NoError(t, j.Put(Record{Key: "spool-2", Path: "b.jpg", State: Closed, Size: 1, MD5: "x", Seq: j.NextSeq()}))
	require.NoError(t, j.Close())
	recDir := filepath.Join(dir, "records")
	require.NoError(t, os.WriteFile(filepath.Join(recDir, "spool-3.json"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(recDir, "spool-4.json"), []byte(`{"key":"spool-1","sta`), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(recDir, "spool-5.json"), []byte(`{"key":"spool-2","state":"closed"}`), 0o600))

	j, err = OpenJournal(dir)
	require.NoError(t, err)
	recs, err := j.Records()
	require.NoError(t, err)
	byKey := map[string]Record{}
	for _, r := range recs {
		byKey[r.Key] = r
	}
	require.Len(t, byKey, 5)
	assert.Equal(t, "a.jpg", byKey["spool-1"].Path, "a noted record reads back")
	assert.Empty(t, byKey["spool-1"].Damaged)
	assert.Empty(t, byKey["spool-2"].Damaged)
	for _, k := range []string{"spool-3", "spool-4", "spool-5"} {
		assert.NotEmpty(t, byKey[k].Damaged, k)
		assert.Equal(t, Writing, byKey[k].State, k)
		assert.Empty(t, byKey[k].Path, k)
	}
}
