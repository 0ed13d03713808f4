package fs

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/spool"
	"golang.org/x/sys/unix"
)

// Tests of issue 9's defects, each through the mount.

func TestRmdirRefusesAFolderWithHiddenEntries(t *testing.T) {
	env := newTestEnv(t, Options{})
	ctx := t.Context()
	dirID, err := env.check.Mkdir(ctx, "", "album")
	require.NoError(t, err)
	long := strings.Repeat("图", 100) + ".png" // valid on 123pan, over 255 bytes
	_, err = env.check.Upload(ctx, uploadOf(dirID, long, []byte("hidden image")))
	require.NoError(t, err)
	_, err = env.check.Mkdir(ctx, "", "target")
	require.NoError(t, err)

	ents, err := os.ReadDir(env.path("album"))
	require.NoError(t, err)
	assert.Empty(t, ents, "the entry is hidden")
	err = syscall.Rmdir(env.path("album"))
	assert.Equal(t, syscall.ENOTEMPTY, err, "rmdir of a folder whose only entry is hidden")
	err = syscall.Rename(env.path("target"), env.path("album"))
	assert.Equal(t, syscall.ENOTEMPTY, err, "rename over a folder whose only entry is hidden")

	require.NoError(t, env.fsys.deleter.Flush(ctx))
	assert.Contains(t, env.remoteEntries(t, "album"), long, "the hidden image is still on 123pan")
	assert.Contains(t, env.remoteEntries(t), "target")
}

// openRemoteFile uploads data as name through the checking client and
// opens it through the mount, reading its first block.
func openRemoteFile(t *testing.T, env *testEnv, name string, data []byte) *os.File {
	t.Helper()
	_, err := env.check.Upload(t.Context(), uploadOf("", name, data))
	require.NoError(t, err)
	f, err := os.Open(env.path(name))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	head := make([]byte, 4096)
	_, err = f.ReadAt(head, 0)
	require.NoError(t, err)
	require.Equal(t, data[:4096], head)
	return f
}

func TestReaderKeepsAnUnlinkedFile(t *testing.T) {
	env := newTestEnv(t, Options{})
	data := randomBytes(t, 8<<20)
	f := openRemoteFile(t, env, "photo.jpg", data)

	require.NoError(t, os.Remove(env.path("photo.jpg")))
	_, err := os.Stat(env.path("photo.jpg"))
	require.ErrorIs(t, err, os.ErrNotExist, "the name goes at once")
	require.NoError(t, env.fsys.deleter.Flush(t.Context()))
	assert.Contains(t, env.remoteEntries(t), "photo.jpg", "123pan keeps the file while a reader has it")

	tail := make([]byte, 1<<20)
	_, err = f.ReadAt(tail, 7<<20)
	require.NoError(t, err, "reading past what was cached, after the unlink")
	assert.True(t, bytes.Equal(data[7<<20:], tail), "the reader gets the file's own bytes")

	require.NoError(t, f.Close())
	require.Eventually(t, func() bool {
		_, there := env.remoteEntries(t)["photo.jpg"]
		return !there
	}, 10*time.Second, 20*time.Millisecond, "deleted from 123pan after the last close")
}

func TestReaderKeepsAFileRenamedOver(t *testing.T) {
	env := newTestEnv(t, Options{})
	old := randomBytes(t, 8<<20)
	f := openRemoteFile(t, env, "photo.jpg", old)
	require.NoError(t, os.WriteFile(env.path("new.jpg"), []byte("new content"), 0o644))

	require.NoError(t, os.Rename(env.path("new.jpg"), env.path("photo.jpg")))
	tail := make([]byte, 1<<20)
	_, err := f.ReadAt(tail, 7<<20)
	require.NoError(t, err, "reading the replaced file past what was cached")
	assert.True(t, bytes.Equal(old[7<<20:], tail), "the reader gets the old bytes")

	got, err := os.ReadFile(env.path("photo.jpg"))
	require.NoError(t, err)
	assert.Equal(t, "new content", string(got))
	remote := env.remoteEntries(t)
	require.Contains(t, remote, "photo.jpg")
	assert.Equal(t, md5hex([]byte("new content")), remote["photo.jpg"].Etag, "123pan holds the new file under the name")
}

func TestNamesWithInvalidUTF8AreRefused(t *testing.T) {
	env := newTestEnv(t, Options{})
	for _, name := range []string{"bad\xff:x", "bad\xff.png", "\xc3(：.jpg"} {
		err := os.WriteFile(env.path(name), []byte("x"), 0o644)
		assert.ErrorIs(t, err, syscall.EINVAL, "create %q", name)
		err = os.Mkdir(env.path(name), 0o755)
		assert.ErrorIs(t, err, syscall.EINVAL, "mkdir %q", name)
	}
	require.NoError(t, env.fsys.Sync(t.Context()))
	assert.Empty(t, env.remoteEntries(t), "nothing reached 123pan")
}

func TestRenameWhiteoutIsRefused(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("a.png"), []byte("a"), 0o644))
	err := unix.Renameat2(unix.AT_FDCWD, env.path("a.png"), unix.AT_FDCWD, env.path("b.png"), unix.RENAME_WHITEOUT)
	assert.ErrorIs(t, err, syscall.EINVAL)
	_, err = os.Stat(env.path("a.png"))
	assert.NoError(t, err, "the source stays")
	assert.Equal(t, []string{"a.png"}, sortedKeys(env.remoteEntries(t)))
}

func TestNetworkErrorsAreEIO(t *testing.T) {
	env := newTestEnv(t, Options{})
	_, err := env.check.Mkdir(t.Context(), "", "album")
	require.NoError(t, err)
	_, err = os.Stat(env.path("album"))
	require.NoError(t, err)
	env.emu.Close() // connections are refused from now on

	_, err = os.ReadDir(env.path("album"))
	var errno syscall.Errno
	require.True(t, errors.As(err, &errno), "listing with the API gone: %v", err)
	assert.Equal(t, syscall.EIO, errno, "not the socket's own errno")
}

func TestANameTakenElsewhereKeepsTheLocalFileAndSaysSo(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Unix(1_700_000_000, 0))
	env := newTestEnv(t, Options{Clock: clock, WriteBack: true, WriteBackDelay: time.Hour})
	require.NoError(t, os.WriteFile(env.path("a.png"), []byte("ours"), 0o644))
	_, err := env.check.Upload(t.Context(), uploadOf("", "a.png", []byte("theirs")))
	require.NoError(t, err)

	clock.Advance(time.Hour) // the root is listed again, with their a.png
	_, err = os.ReadDir(env.mnt)
	require.NoError(t, err)
	got, err := os.ReadFile(env.path("a.png"))
	require.NoError(t, err)
	assert.Equal(t, "ours", string(got), "what this mount wrote keeps its name until 123pan took it")

	require.Error(t, env.fsys.Sync(t.Context()), "the upload clashes with their file")
	state, err := getxattr(t, env.path("a.png"), xattrState)
	require.NoError(t, err)
	assert.Equal(t, string(spool.Failed), state)
	st := env.fsys.Status()
	require.Len(t, st.Items, 1)
	assert.Equal(t, "a.png", st.Items[0].Path)
	assert.Equal(t, spool.Failed, st.Items[0].State, "status and the attribute agree")
	got, err = os.ReadFile(env.path("a.png"))
	require.NoError(t, err)
	assert.Equal(t, "ours", string(got), "our data stays where it was written")
	assert.Equal(t, md5hex([]byte("theirs")), env.remoteEntries(t)["a.png"].Etag, "their file is untouched")
}
