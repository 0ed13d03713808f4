package spool

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Records as earlier versions wrote them (their Record marshalled: "oldID",
// "preuploadID", "sliceSize", state "closed"), and what they read back as.
var (
	legacyUpdated = time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)

	// spool-1 was closed, then its upload began; its preupload ID needs
	// escaping in the token.
	legacyClosed1    = `{"key":"spool-1","path":"a/x.jpg","oldID":"1001","state":"closed","size":3,"md5":"abc","seq":1,"updated":"2024-05-06T07:08:09.00000001Z"}`
	legacyUploading1 = `{"key":"spool-1","path":"a/x.jpg","oldID":"1001","state":"uploading","size":3,"md5":"abc","preuploadID":"pre-\"1\"\\<","sliceSize":16777216,"attempts":2,"seq":1,"updated":"2024-05-06T07:08:09.00000001Z"}`
	// spool-2 replaces a file and waits for its upload.
	legacyOnlyOldID = `{"key":"spool-2","path":"b.jpg","oldID":"1002","state":"closed","size":1,"md5":"def","seq":2,"updated":"2024-05-06T07:08:09.00000001Z"}`
	// spool-3 is a new file that failed.
	legacyNone = `{"key":"spool-3","path":"c d.jpg","state":"failed","size":0,"md5":"d41d8cd98f00b204e9800998ecf8427e","reason":"refused","attempts":5,"seq":3,"updated":"2024-05-06T07:08:09.00000001Z"}`
	// spool-4 is a new file that waits for its upload.
	legacyClosedNew = `{"key":"spool-4","path":"e.jpg","state":"closed","size":7,"md5":"fff","seq":4,"updated":"2024-05-06T07:08:09.00000001Z"}`

	migrated = []Record{
		{Key: "spool-1", Path: "a/x.jpg", Replaces: "1001", State: Uploading, Size: 3, MD5: "abc",
			Resume: `{"preuploadID":"pre-\"1\"\\\u003c","sliceSize":16777216}`, Attempts: 2, Seq: 1, Updated: legacyUpdated},
		{Key: "spool-2", Path: "b.jpg", Replaces: "1002", State: Pending, Size: 1, MD5: "def", Seq: 2, Updated: legacyUpdated},
		{Key: "spool-3", Path: "c d.jpg", State: Failed, MD5: "d41d8cd98f00b204e9800998ecf8427e", Reason: "refused",
			Attempts: 5, Seq: 3, Updated: legacyUpdated},
		{Key: "spool-4", Path: "e.jpg", State: Pending, Size: 7, MD5: "fff", Seq: 4, Updated: legacyUpdated},
	}
)

// assertNewForm checks that the records log holds only records in the
// current form, and all of them.
func assertNewForm(t *testing.T, dir string) {
	t.Helper()
	lines := logLines(t, dir)
	require.Len(t, lines, len(migrated))
	for i, l := range lines {
		require.True(t, strings.HasPrefix(l, "P "), l)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l[2:]), &m), l)
		for _, old := range []string{"oldID", "preuploadID", "sliceSize"} {
			assert.NotContains(t, m, old, l)
		}
		assert.NotEqual(t, "closed", m["state"], l)
		var r Record
		require.NoError(t, json.Unmarshal([]byte(l[2:]), &r), l)
		assert.Equal(t, migrated[i], r, "read as plain JSON, the line is the migrated record")
	}
	log := string(readLog(t, dir))
	for _, old := range []string{`"oldID"`, `"preuploadID"`, `"sliceSize"`, `"closed"`} {
		assert.NotContains(t, log, old)
	}
	for _, s := range []string{`"replaces":"1001"`, `"replaces":"1002"`, `"resume":"{\"preuploadID\":`, `"state":"pending"`} {
		assert.Contains(t, log, s)
	}
}

// A records log written by an earlier version reads back with Replaces,
// Resume and Pending in place of oldID, preuploadID and sliceSize, and
// "closed"; OpenJournal leaves the log in the current form.
func TestJournalMigratesLegacyLog(t *testing.T) {
	dir := t.TempDir()
	log := "P " + legacyClosed1 + "\n" +
		"P " + legacyOnlyOldID + "\n" +
		"P " + legacyNone + "\n" +
		"P " + legacyUploading1 + "\n" +
		"P " + legacyClosedNew + "\n" +
		`P {"key":"spool-5","path":"gone.jpg","oldID":"1005","state":"closed","size":1,"seq":5,"updated":"2024-05-06T07:08:09Z"}` + "\n" +
		"R spool-5\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, recordsLog), []byte(log), 0o600))

	j := openJournal(t, dir)
	assert.Equal(t, migrated, records(t, j))
	assertNewForm(t, dir)
	assert.Greater(t, j.NextSeq(), uint64(5), "sequence numbers continue")

	j = reopen(t, j)
	assert.Equal(t, migrated, records(t, j), "the rewritten log reads back the same")
	assertNewForm(t, dir)
}

// The records folder of the earlier layout migrates the same way.
func TestJournalMigratesLegacyRecordsFolder(t *testing.T) {
	dir := t.TempDir()
	recDir := filepath.Join(dir, oldRecords)
	require.NoError(t, os.MkdirAll(recDir, 0o700))
	for key, js := range map[string]string{
		"spool-1": legacyUploading1,
		"spool-2": legacyOnlyOldID,
		"spool-3": legacyNone,
		"spool-4": legacyClosedNew,
	} {
		require.NoError(t, os.WriteFile(filepath.Join(recDir, key+".json"), []byte(js), 0o600))
	}

	j := openJournal(t, dir)
	assert.Equal(t, migrated, records(t, j))
	_, err := os.Stat(recDir)
	assert.ErrorIs(t, err, os.ErrNotExist, "the old folder is gone")
	assertNewForm(t, dir)

	j = reopen(t, j)
	assert.Equal(t, migrated, records(t, j))
	assertNewForm(t, dir)
}

func TestDecodeRecord(t *testing.T) {
	for _, tc := range []struct {
		name, js string
		want     Record
	}{
		{"current form", `{"key":"k","replaces":"9","state":"uploading","resume":"tok"}`,
			Record{Key: "k", Replaces: "9", State: Uploading, Resume: "tok"}},
		{"oldID", `{"key":"k","oldID":"9","state":"writing"}`,
			Record{Key: "k", Replaces: "9", State: Writing}},
		{"replaces wins over oldID", `{"key":"k","oldID":"8","replaces":"9","state":"pending"}`,
			Record{Key: "k", Replaces: "9", State: Pending}},
		{"preuploadID and sliceSize", `{"key":"k","state":"uploading","preuploadID":"p","sliceSize":5}`,
			Record{Key: "k", State: Uploading, Resume: `{"preuploadID":"p","sliceSize":5}`}},
		{"preuploadID without sliceSize", `{"key":"k","state":"uploading","preuploadID":"p"}`,
			Record{Key: "k", State: Uploading, Resume: `{"preuploadID":"p","sliceSize":0}`}},
		{"resume wins over preuploadID", `{"key":"k","state":"uploading","resume":"tok","preuploadID":"p","sliceSize":5}`,
			Record{Key: "k", State: Uploading, Resume: "tok"}},
		{"an empty preuploadID is no token", `{"key":"k","state":"failed","preuploadID":"","sliceSize":5}`,
			Record{Key: "k", State: Failed}},
		{"closed is pending", `{"key":"k","state":"closed"}`,
			Record{Key: "k", State: Pending}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeRecord([]byte(tc.js))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{`{"key":"k","sliceSize":"x"}`, `{"key":"k","oldID":1}`, `{"key":`} {
		_, err := decodeRecord([]byte(bad))
		assert.Error(t, err, bad)
	}
}
