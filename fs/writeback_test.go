package fs

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/pan123fs/pan123fs/spool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeBackEnv(t *testing.T) *testEnv {
	return newTestEnv(t, Options{WriteBack: true, WriteBackDelay: 300 * time.Millisecond})
}

func TestWriteBackCloseReturnsBeforeTheUpload(t *testing.T) {
	env := writeBackEnv(t)
	data := randomBytes(t, 3*testSlice)
	require.NoError(t, os.WriteFile(env.path("later.jpg"), data, 0o644))
	state, err := getxattr(t, env.path("later.jpg"), "user.pan123.state")
	require.NoError(t, err)
	assert.Equal(t, "pending", state)
	assert.Empty(t, env.remoteEntries(t), "close returned before the upload")
	got, err := os.ReadFile(env.path("later.jpg"))
	require.NoError(t, err)
	assert.Equal(t, md5hex(data), md5hex(got), "pending files read from the spool")
	st := env.fsys.Status()
	require.Len(t, st.Items, 1)
	assert.Equal(t, "later.jpg", st.Items[0].Path)
	assert.Equal(t, int64(len(data)), st.Items[0].Size)

	require.NoError(t, env.fsys.Sync(t.Context()))
	e := env.remoteEntries(t)["later.jpg"]
	assert.Equal(t, md5hex(data), e.Etag)
	assert.Empty(t, env.fsys.Status().Items)
}

func TestWriteBackTempThenRenameUploadsOnce(t *testing.T) {
	env := writeBackEnv(t)
	data := randomBytes(t, 2*testSlice+5)
	require.NoError(t, os.WriteFile(env.path(".edit.swp"), data, 0o644))
	require.NoError(t, os.Rename(env.path(".edit.swp"), env.path("edit.txt")))
	require.NoError(t, env.fsys.Sync(t.Context()))
	assert.Equal(t, []string{"edit.txt"}, sortedKeys(env.remoteEntries(t)))
	assert.Equal(t, int64(1), env.calls("POST /upload/v1/oss/file/create"), "one create")
	assert.Equal(t, int64(3), env.calls("PUT /__upload"), "the bytes went up once")
}

func TestWriteBackDeleteBeforeUploadNeverUploads(t *testing.T) {
	env := writeBackEnv(t)
	require.NoError(t, os.WriteFile(env.path("oops.png"), []byte("never"), 0o644))
	require.NoError(t, os.Remove(env.path("oops.png")))
	require.NoError(t, env.fsys.Sync(t.Context()))
	time.Sleep(500 * time.Millisecond) // past the write-back delay
	assert.Empty(t, env.remoteEntries(t))
	assert.Zero(t, env.calls("POST /upload/v1/oss/file/create"))
}

func TestWriteBackFsyncUploadsNow(t *testing.T) {
	env := newTestEnv(t, Options{WriteBack: true, WriteBackDelay: time.Hour})
	f, err := os.Create(env.path("now.txt"))
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Write([]byte("now"))
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	assert.Equal(t, "now", string(download(t, env.remoteEntries(t)["now.txt"])), "fsync returned: on 123pan")
}

func TestSpoolFullFailsWithENOSPCAndUploadsNothing(t *testing.T) {
	env := newTestEnvWith(t, envConfig{spoolMax: 100 << 10})
	require.NoError(t, os.WriteFile(env.path("old.png"), []byte("old content"), 0o644))

	err := os.WriteFile(env.path("big.png"), randomBytes(t, 200<<10), 0o644)
	assert.True(t, errors.Is(err, syscall.ENOSPC), "write over the spool limit: %v, want ENOSPC", err)
	err = os.WriteFile(env.path("old.png"), randomBytes(t, 200<<10), 0o644)
	assert.True(t, errors.Is(err, syscall.ENOSPC), "rewrite over the spool limit: %v, want ENOSPC", err)

	remote := env.remoteEntries(t)
	assert.Equal(t, []string{"old.png"}, sortedKeys(remote), "the partly written file was not uploaded")
	assert.Equal(t, "old content", string(download(t, remote["old.png"])), "the old version stays")
	got, err := os.ReadFile(env.path("old.png"))
	require.NoError(t, err)
	assert.Equal(t, "old content", string(got), "the mount shows the old version again")
	_, err = os.Stat(env.path("big.png"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "a new file whose writing failed is gone: %v", err)
	assert.Empty(t, env.fsys.Status().Items)
}

func TestPermanentRejectionKeepsTheData(t *testing.T) {
	env := newTestEnvWith(t, envConfig{rejectEmpty: true, opts: Options{WriteBack: true, WriteBackDelay: time.Millisecond}})
	require.NoError(t, os.WriteFile(env.path("empty.png"), nil, 0o644), "write-back: close succeeds")
	err := env.fsys.Sync(t.Context())
	require.Error(t, err, "sync reports the refusal")
	assert.Contains(t, err.Error(), "empty.png")
	st := env.fsys.Status()
	require.Len(t, st.Items, 1)
	assert.EqualValues(t, "failed", st.Items[0].State)
	assert.NotEmpty(t, st.Items[0].Error)
	creates := env.calls("POST /upload/v1/oss/file/create")
	time.Sleep(1500 * time.Millisecond)
	assert.Equal(t, creates, env.calls("POST /upload/v1/oss/file/create"), "a permanent refusal is not retried")
	_, err = os.Stat(env.path("empty.png"))
	assert.NoError(t, err, "the file stays visible with its data")
	assert.Empty(t, env.remoteEntries(t))
}

// fsync after a failed write must not upload the incomplete content (the
// rule close follows), and reports the write's error.
func TestFsyncAfterFailedWriteUploadsNothing(t *testing.T) {
	env := newTestEnvWith(t, envConfig{spoolMax: 100 << 10})
	f, err := os.Create(env.path("big.png"))
	require.NoError(t, err)
	_, err = f.Write(randomBytes(t, 64<<10))
	require.NoError(t, err)
	_, err = f.Write(randomBytes(t, 64<<10))
	require.True(t, errors.Is(err, syscall.ENOSPC), "write over the spool limit: %v", err)
	err = f.Sync()
	assert.True(t, errors.Is(err, syscall.ENOSPC), "fsync reports the failed write: %v", err)
	assert.Empty(t, env.remoteEntries(t), "nothing went up")
	f.Close()
	assert.Empty(t, env.remoteEntries(t), "nor at close")
}

// A truncate while only readers hold the file open is uploaded at once:
// a reader's close uploads nothing.
func TestTruncateWithAReaderOpenIsUploaded(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("t.txt"), []byte("hello"), 0o644))
	r, err := os.Open(env.path("t.txt"))
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, os.Truncate(env.path("t.txt"), 2))
	assert.Equal(t, md5hex([]byte("he")), env.remoteEntries(t)["t.txt"].Etag, "on 123pan before the reader closes")
	assert.Empty(t, env.fsys.Status().Items)
}

// Renaming a file still open for writing keeps its record "writing": a
// crash before its close must not upload the partial content as complete.
func TestRenameWhileWritingKeepsTheRecordWriting(t *testing.T) {
	env := newTestEnv(t, Options{WriteBack: true, WriteBackDelay: time.Hour})
	require.NoError(t, os.Mkdir(env.path("d"), 0o755))
	f, err := os.Create(env.path("d/a.png"))
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Write([]byte("part"))
	require.NoError(t, err)
	require.NoError(t, os.Rename(env.path("d/a.png"), env.path("d/b.png")))
	require.NoError(t, os.Rename(env.path("d"), env.path("e")))
	recs, err := env.fsys.journal.Records()
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "e/b.png", recs[0].Path)
	assert.Equal(t, spool.Writing, recs[0].State)
}
