package fs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrashFoldersAreRefused(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("a.png"), []byte("image"), 0o644))
	require.NoError(t, os.Mkdir(env.path("album"), 0o755))

	assert.ErrorIs(t, os.Mkdir(env.path(".Trash"), 0o700), syscall.EPERM, "mkdir .Trash")
	for _, name := range []string{".Trash-0", ".Trash-1000"} {
		assert.ErrorIs(t, os.Mkdir(env.path(name), 0o700), syscall.EEXIST, "mkdir %s: the stub is there", name)
	}
	for _, name := range []string{".Trash", ".Trash-0", ".Trash-1000", ".Trash-x"} {
		err := os.WriteFile(env.path(name), nil, 0o600)
		assert.True(t, errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES), "create %s: %v", name, err)
		assert.ErrorIs(t, os.Rename(env.path("a.png"), env.path(name)), syscall.EPERM, "rename onto %s", name)
	}
	require.NoError(t, os.Mkdir(env.path("album/.Trash-0"), 0o755), "only the root's trash names are reserved")

	// GLib's test for a volume trash finds no folder it could use.
	st, err := os.Lstat(env.path(".Trash-0"))
	require.NoError(t, err)
	assert.True(t, st.Mode().IsRegular(), ".Trash-UID is a file, not a folder")
	assert.Equal(t, os.FileMode(0o444), st.Mode().Perm())
	assert.Zero(t, st.Size())
	_, err = os.Open(env.path(".Trash-0"))
	assert.ErrorIs(t, err, syscall.EPERM)
	_, err = os.Lstat(env.path(".Trash"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	names, err := readNames(env.mnt)
	require.NoError(t, err)
	assert.Equal(t, []string{".", "..", "a.png", "album"}, names, "the stub is not listed")
	require.NoError(t, env.fsys.Sync(t.Context()))
	assert.Equal(t, []string{"a.png", "album"}, sortedKeys(env.remoteEntries(t)), "nothing of a trash reached 123pan")
}

func TestATrashLeftOn123panTakesNothingIn(t *testing.T) {
	env := newTestEnv(t, Options{})
	ctx := t.Context()
	trash, err := env.check.Mkdir(ctx, "", ".Trash-0")
	require.NoError(t, err)
	files, err := env.check.Mkdir(ctx, trash, "files")
	require.NoError(t, err)
	_, err = env.check.Upload(ctx, uploadOf(files, "old.png", []byte("trashed long ago")))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(env.path("a.png"), []byte("image"), 0o644))

	assert.ErrorIs(t, os.Rename(env.path("a.png"), env.path(".Trash-0/files/a.png")), syscall.EPERM)
	assert.ErrorIs(t, os.WriteFile(env.path(".Trash-0/files/b.png"), nil, 0o644), syscall.EPERM)
	assert.ErrorIs(t, os.Mkdir(env.path(".Trash-0/info"), 0o700), syscall.EPERM)
	require.NoError(t, os.Rename(env.path(".Trash-0/files/old.png"), env.path("old.png")), "restoring out of it works")
	require.NoError(t, os.RemoveAll(env.path(".Trash-0")), "and so does emptying it")
	require.NoError(t, env.fsys.deleter.Flush(ctx))
	assert.Equal(t, []string{"a.png", "old.png"}, sortedKeys(env.remoteEntries(t)))
}

func TestDesktopProbesCostNoCalls(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.Mkdir(env.path("album"), 0o755))
	_, err := os.ReadDir(env.path("album"))
	require.NoError(t, err)
	before := env.emu.Stats().Calls
	for _, dir := range []string{"", "album"} {
		for _, name := range []string{".hidden", ".directory", ".Trash", ".Trash-0", ".Trash-1000"} {
			os.Lstat(env.path(dir + "/" + name))
		}
	}
	assert.Equal(t, before, env.emu.Stats().Calls, "no API call for the names file managers probe")
}

func TestReaddirListsDotAndDotDot(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.Mkdir(env.path("album"), 0o755))
	names, err := readNames(env.path("album"))
	require.NoError(t, err)
	assert.Equal(t, []string{".", ".."}, names)
	var st, up syscall.Stat_t
	require.NoError(t, syscall.Stat(env.path("album/."), &st))
	require.NoError(t, syscall.Stat(env.mnt, &up))
	assert.NotEqual(t, st.Ino, up.Ino)
}

// readNames lists a folder with getdents, "." and ".." included.
func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var names []string
	for {
		n, err := syscall.Getdents(int(f.Fd()), buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return names, nil
		}
		for b := buf[:n]; len(b) > 0; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			name := b[19:reclen]
			names = append(names, string(name[:bytes.IndexByte(name, 0)]))
			b = b[reclen:]
		}
	}
}
