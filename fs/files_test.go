package fs

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func TestWriteThenReadBackEverySize(t *testing.T) {
	env := newTestEnv(t, Options{})
	sizes := map[string]int{"empty.bin": 0, "one.bin": 1, "slice.bin": testSlice, "several.bin": 3*testSlice + 123}
	want := map[string][]byte{}
	for name, size := range sizes {
		want[name] = randomBytes(t, size)
		require.NoError(t, os.WriteFile(env.path(name), want[name], 0o644), "write %s", name)
	}
	remote := env.remoteEntries(t)
	require.Len(t, remote, len(sizes))
	for name, data := range want {
		e, ok := remote[name]
		require.True(t, ok, "%s missing on 123pan", name)
		assert.Equal(t, int64(len(data)), e.Size, "remote size of %s", name)
		assert.Equal(t, md5hex(data), e.Etag, "remote md5 of %s", name)
		assert.Equal(t, data, download(t, e), "remote bytes of %s", name)

		got, err := os.ReadFile(env.path(name))
		require.NoError(t, err)
		assert.Equal(t, md5hex(data), md5hex(got), "bytes read back through the mount of %s", name)
		st, err := os.Stat(env.path(name))
		require.NoError(t, err)
		assert.Equal(t, int64(len(data)), st.Size(), "stat size of %s", name)
	}
}

func TestSizeVisibleWhileWriting(t *testing.T) {
	env := newTestEnv(t, Options{})
	f, err := os.Create(env.path("growing.txt"))
	require.NoError(t, err)
	_, err = f.Write([]byte("hello"))
	require.NoError(t, err)
	st, err := os.Stat(env.path("growing.txt"))
	require.NoError(t, err)
	assert.Equal(t, int64(5), st.Size())
	other, err := os.ReadFile(env.path("growing.txt"))
	require.NoError(t, err)
	assert.Equal(t, "hello", string(other), "another reader sees the spool")
	assert.Empty(t, env.remoteEntries(t), "nothing is uploaded before close")
	require.NoError(t, f.Close())
	assert.Contains(t, env.remoteEntries(t), "growing.txt")
}

func TestAppendAndOverwrite(t *testing.T) {
	env := newTestEnv(t, Options{})
	p := env.path("log.txt")
	require.NoError(t, os.WriteFile(p, []byte("first\n"), 0o644))
	firstID := env.remoteEntries(t)["log.txt"].FileID

	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("second\n"))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	remote := env.remoteEntries(t)
	require.Len(t, remote, 1, "one entry after the append, no temporary left: %v", remote)
	e := remote["log.txt"]
	assert.NotEqual(t, firstID, e.FileID, "new content is a new file on 123pan")
	assert.Equal(t, "first\nsecond\n", string(download(t, e)))

	require.NoError(t, os.WriteFile(p, []byte("third"), 0o644))
	remote = env.remoteEntries(t)
	require.Len(t, remote, 1)
	assert.Equal(t, "third", string(download(t, remote["log.txt"])))
}

func TestUnchangedFileIsNotUploadedAgain(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("a.txt"), []byte("abc"), 0o644))
	creates := env.calls("POST /upload/v1/oss/file/create")
	f, err := os.OpenFile(env.path("a.txt"), os.O_RDWR, 0)
	require.NoError(t, err)
	buf := make([]byte, 3)
	_, err = f.Read(buf)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.Equal(t, creates, env.calls("POST /upload/v1/oss/file/create"), "no create call for an unchanged file")
}

func TestUnlinkedWhileOpenIsNeverUploaded(t *testing.T) {
	env := newTestEnv(t, Options{})
	f, err := os.Create(env.path("gone.txt"))
	require.NoError(t, err)
	_, err = f.Write([]byte("data"))
	require.NoError(t, err)
	require.NoError(t, os.Remove(env.path("gone.txt")))
	require.NoError(t, f.Close())
	assert.Empty(t, env.remoteEntries(t))
	assert.Zero(t, env.calls("POST /upload/v1/oss/file/create"))
}

func TestCloseReportsUploadFailure(t *testing.T) {
	env := newTestEnv(t, Options{})
	_, err := os.ReadDir(env.mnt) // token and listing first: the upload is what must fail
	require.NoError(t, err)
	env.setFaults(t, "5xx=1")
	f, err := os.Create(env.path("doomed.txt"))
	require.NoError(t, err)
	_, err = f.Write([]byte("data"))
	require.NoError(t, err)
	err = f.Close()
	require.Error(t, err, "close must fail when the upload fails")
	assert.True(t, errors.Is(err, syscall.EIO), "close error %v, want EIO", err)
	env.setFaults(t, "")
	assert.Empty(t, env.remoteEntries(t))

	got, err := os.ReadFile(env.path("doomed.txt"))
	require.NoError(t, err, "the data stays readable from the spool")
	assert.Equal(t, "data", string(got))
	f, err = os.OpenFile(env.path("doomed.txt"), os.O_WRONLY, 0)
	require.NoError(t, err)
	require.NoError(t, f.Sync(), "fsync uploads the pending file")
	require.NoError(t, f.Close())
	assert.Equal(t, "data", string(download(t, env.remoteEntries(t)["doomed.txt"])))
}

func TestRejectedImageCannotBeOpened(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("bad.png"), []byte("png"), 0o644))
	env.setStatus(t, string(env.remoteEntries(t)["bad.png"].FileID), 150)
	env.fsys.root.invalidate()
	time.Sleep(1100 * time.Millisecond) // past the kernel's entry timeout, so that open looks the file up again
	_, err := os.ReadFile(env.path("bad.png"))
	assert.True(t, errors.Is(err, syscall.EACCES), "open of a rejected image: %v, want EACCES", err)
	_, err = os.Stat(env.path("bad.png"))
	assert.NoError(t, err, "a rejected image is still listed")
}

func TestReadsComeThroughTheCache(t *testing.T) {
	env := newTestEnv(t, Options{})
	data := randomBytes(t, 2*testSlice)
	_, err := env.check.Upload(t.Context(), uploadOf("", "pic.jpg", data))
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		got, err := os.ReadFile(env.path("pic.jpg"))
		require.NoError(t, err)
		require.True(t, bytes.Equal(data, got))
	}
	assert.Equal(t, int64(1), env.calls("GET /__download"), "three reads, one download")
}

// What the mount wrote is in the block cache once 123pan has it: reading it
// back, or a copy, or the file under a new name (a new file ID), downloads
// nothing.
func TestWrittenFilesAreNeverDownloadedBack(t *testing.T) {
	env := newTestEnv(t, Options{})
	data := randomBytes(t, 3*testSlice+7)
	require.NoError(t, os.WriteFile(env.path("pic.jpg"), data, 0o644))
	require.NoError(t, os.Rename(env.path("pic.jpg"), env.path("renamed.jpg")))
	require.NoError(t, os.Mkdir(env.path("album"), 0o755))
	require.NoError(t, os.Rename(env.path("renamed.jpg"), env.path("album/renamed.jpg")))
	_, err := env.check.Upload(t.Context(), uploadOf("", "copy-elsewhere.jpg", data))
	require.NoError(t, err)
	env.fsys.root.invalidate()
	for _, name := range []string{"album/renamed.jpg", "copy-elsewhere.jpg"} {
		got, err := os.ReadFile(env.path(name))
		require.NoError(t, err)
		require.True(t, bytes.Equal(data, got), name)
	}
	assert.Zero(t, env.calls("GET /__download"), "nothing downloaded")
	assert.Zero(t, env.calls("GET /api/v1/oss/file/detail"), "not even a link asked for")
}

// Once 123pan has deleted a file, its cached blocks are freed.
func TestDeletedFileLeavesTheCache(t *testing.T) {
	env := newTestEnv(t, Options{})
	gone, kept := randomBytes(t, 2*testSlice), randomBytes(t, 2*testSlice)
	require.NoError(t, os.WriteFile(env.path("gone.jpg"), gone, 0o644))
	require.NoError(t, os.WriteFile(env.path("kept.jpg"), kept, 0o644))
	assert.Equal(t, int64(len(gone)+len(kept)), env.fsys.blocks.Stats().Bytes, "both are cached once uploaded")
	require.NoError(t, os.Remove(env.path("gone.jpg")))
	require.NoError(t, env.fsys.deleter.Flush(t.Context()))
	assert.NotContains(t, env.remoteEntries(t), "gone.jpg")
	// The deleter reports a confirmed delete to its waiters before it runs
	// the callbacks (one of them frees the blocks).
	assert.Eventually(t, func() bool { return env.fsys.blocks.Stats().Bytes == int64(len(kept)) },
		5*time.Second, 10*time.Millisecond, "only kept.jpg stays cached")
	got, err := os.ReadFile(env.path("kept.jpg"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(kept, got))
	assert.Zero(t, env.calls("GET /__download"))
}

func TestOwnerModesAndStableInodes(t *testing.T) {
	env := newTestEnv(t, Options{UID: 1234, GID: 5678, Umask: 0o027})
	require.NoError(t, os.Mkdir(env.path("d"), 0o777))
	require.NoError(t, os.WriteFile(env.path("d/f.png"), []byte("1"), 0o666))
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(env.path("d/f.png"), &st))
	assert.Equal(t, uint32(syscall.S_IFREG|0o640), st.Mode, "file mode")
	assert.Equal(t, uint32(1234), st.Uid)
	assert.Equal(t, uint32(5678), st.Gid)
	require.NoError(t, syscall.Stat(env.path("d"), &st))
	assert.Equal(t, uint32(syscall.S_IFDIR|0o750), st.Mode, "folder mode")

	require.NoError(t, os.Chmod(env.path("d/f.png"), 0o600), "chmod is accepted")
	require.NoError(t, syscall.Stat(env.path("d/f.png"), &st))
	assert.Equal(t, uint32(syscall.S_IFREG|0o640), st.Mode, "and ignored")

	res, err := env.check.Upload(t.Context(), uploadOf("", "from-elsewhere.png", []byte("2")))
	require.NoError(t, err)
	env.fsys.root.invalidate()
	require.NoError(t, syscall.Stat(env.path("from-elsewhere.png"), &st))
	assert.Equal(t, inoOf(res.FileID), st.Ino, "a listed file's inode number comes from its ID, the same at every mount")
}

func TestLinkIsAskedForOnlyWhenNeeded(t *testing.T) {
	env := newTestEnv(t, Options{})
	for _, name := range []string{"a.png", "b.png", "c.png"} {
		require.NoError(t, os.WriteFile(env.path(name), []byte(name), 0o644))
	}
	details := func() int64 { return env.calls("GET /api/v1/oss/file/detail") }
	assert.Zero(t, details(), "uploads make no detail call")

	for i := 0; i < 2; i++ {
		got, err := os.ReadFile(env.path("a.png"))
		require.NoError(t, err)
		assert.Equal(t, "a.png", string(got))
	}
	url, err := getxattr(t, env.path("a.png"), "user.pan123.url")
	require.NoError(t, err)
	assert.Equal(t, env.remoteEntries(t)["a.png"].DownloadURL, url)
	assert.Equal(t, int64(1), details(), "one detail call for the file read, none for the others")
}

// cp over an existing file opens it with O_TRUNC: the old content is not
// needed and must not be downloaded into the spool first (the mount asks
// the kernel for atomic O_TRUNC opens).
func TestTruncatingOpenDownloadsNothing(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("pic.jpg"), randomBytes(t, 2*testSlice), 0o644))
	before := env.calls("GET /__download")
	fresh := randomBytes(t, testSlice+1)
	require.NoError(t, os.WriteFile(env.path("pic.jpg"), fresh, 0o644))
	assert.Equal(t, before, env.calls("GET /__download"), "no download of the old content")
	assert.Equal(t, md5hex(fresh), env.remoteEntries(t)["pic.jpg"].Etag)
}

// truncate(2) to the size a file already has changes nothing: no download
// into the spool, no upload.
func TestTruncateToSameSizeDoesNothing(t *testing.T) {
	env := newTestEnv(t, Options{})
	content := randomBytes(t, 2*testSlice)
	require.NoError(t, os.WriteFile(env.path("pic.jpg"), content, 0o644))
	id := env.remoteEntries(t)["pic.jpg"].FileID
	downloads, creates := env.calls("GET /__download"), env.calls("POST /upload/v1/oss/file/create")
	require.NoError(t, os.Truncate(env.path("pic.jpg"), int64(len(content))))
	assert.Equal(t, downloads, env.calls("GET /__download"), "no download")
	assert.Equal(t, creates, env.calls("POST /upload/v1/oss/file/create"), "no upload")
	assert.Equal(t, id, env.remoteEntries(t)["pic.jpg"].FileID)
	got, err := os.ReadFile(env.path("pic.jpg"))
	require.NoError(t, err)
	assert.Equal(t, content, got)
}

// Writing over an empty file opens it with O_TRUNC, which changes nothing
// but still needs a spool copy to write into.
func TestWriteOverAnEmptyFile(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("e.txt"), nil, 0o644))
	require.NoError(t, os.WriteFile(env.path("e.txt"), []byte("hi"), 0o644))
	got, err := os.ReadFile(env.path("e.txt"))
	require.NoError(t, err)
	assert.Equal(t, "hi", string(got))
	assert.Equal(t, md5hex([]byte("hi")), env.remoteEntries(t)["e.txt"].Etag)
}

// Files report a 1 MiB preferred I/O size, so that cp writes in 1 MiB
// requests (the mount's MaxWrite) rather than 128 KiB ones.
func TestPreferredIOSize(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("a.png"), []byte("a"), 0o644))
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(env.path("a.png"), &st))
	assert.Equal(t, int64(1<<20), int64(st.Blksize))
}

// As root the mount raises the kernel's read-ahead past FUSE's 128 KiB cap, so
// sequential read(2)s of 1 MiB reach pan123fs as 1 MiB READs.
func TestKernelReadAheadRaised(t *testing.T) {
	env := newTestEnv(t, Options{})
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(env.mnt, &st))
	got, err := os.ReadFile(fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev)))
	require.NoError(t, err)
	assert.Equal(t, "1024", strings.TrimSpace(string(got)), "1 MiB")
}

// A writer's close(2) uploads; its handle is released only when the kernel
// gets to it, or, with a descriptor still open (dup), later still. A
// truncate after that close must upload itself rather than leave it to a
// close that has already happened.
func TestTruncateAfterTheWritersClose(t *testing.T) {
	env := newTestEnv(t, Options{})
	fd, err := syscall.Open(env.path("t.txt"), syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC, 0o644)
	require.NoError(t, err)
	_, err = syscall.Write(fd, []byte("hello"))
	require.NoError(t, err)
	kept, err := syscall.Dup(fd)
	require.NoError(t, err)
	require.NoError(t, syscall.Close(fd), "uploads hello")
	require.Equal(t, md5hex([]byte("hello")), env.remoteEntries(t)["t.txt"].Etag)

	require.NoError(t, os.Truncate(env.path("t.txt"), 2))
	assert.Equal(t, md5hex([]byte("he")), env.remoteEntries(t)["t.txt"].Etag, "truncate(2) uploaded at once")
	require.NoError(t, syscall.Close(kept))
	assert.Equal(t, md5hex([]byte("he")), env.remoteEntries(t)["t.txt"].Etag)
}

// open(O_RDONLY|O_TRUNC) empties a file on Linux filesystems; with atomic
// O_TRUNC the kernel leaves that to pan123fs, which must not forget it.
func TestReadOnlyTruncatingOpen(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("t.txt"), []byte("hello"), 0o644))
	fd, err := syscall.Open(env.path("t.txt"), syscall.O_RDONLY|syscall.O_TRUNC, 0)
	require.NoError(t, err)
	require.NoError(t, syscall.Close(fd))
	st, err := os.Stat(env.path("t.txt"))
	require.NoError(t, err)
	assert.Zero(t, st.Size())
	assert.Equal(t, md5hex(nil), env.remoteEntries(t)["t.txt"].Etag, "123pan holds the empty file")
}
