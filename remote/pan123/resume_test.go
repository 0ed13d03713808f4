package pan123

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/spool"
)

// A journal written before the resume token existed held 123pan's upload
// fields in the record; the spool carries them into Resume, and this
// backend must read that as the token of the same upload.
func TestResumeTokenOfAnOldJournal(t *testing.T) {
	dir := t.TempDir()
	line := `P {"key":"k1","path":"a/b.png","oldID":"42","state":"uploading","size":300,"md5":"0123456789abcdef0123456789abcdef",` +
		`"preuploadID":"pre/+id==","sliceSize":100,"seq":1,"updated":"2026-11-01T00:00:00Z"}` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "records.log"), []byte(line), 0o600))
	j, err := spool.OpenJournal(dir)
	require.NoError(t, err)
	defer j.Close()
	recs, err := j.Records()
	require.NoError(t, err)
	require.Len(t, recs, 1)
	r, ok := parseResume(recs[0].Resume)
	require.True(t, ok, "token %q", recs[0].Resume)
	assert.Equal(t, resume{PreuploadID: "pre/+id==", SliceSize: 100}, r)
	assert.Equal(t, "42", recs[0].Replaces)

	tok := resumeToken("pre/+id==", 100)
	assert.Equal(t, recs[0].Resume, tok, "the token this backend hands out has the same form")
}

func TestGarbageResumeTokensStartAfresh(t *testing.T) {
	for _, tok := range []string{"", "{", `{"preuploadID":""}`, `{"preuploadID":"x","sliceSize":0}`, "mem:3"} {
		_, ok := parseResume(tok)
		assert.False(t, ok, "parseResume(%q)", tok)
	}
}
