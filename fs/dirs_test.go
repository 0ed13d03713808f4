package fs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
)

func TestMkdirListRmdir(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.MkdirAll(env.path("a/b/c"), 0o755))
	require.NoError(t, os.WriteFile(env.path("a/b/c/x.txt"), []byte("x"), 0o644))
	a := env.remoteEntries(t)["a"]
	assert.True(t, a.IsDir())
	assert.Contains(t, env.remoteEntries(t, "a", "b", "c"), "x.txt")

	err := os.Mkdir(env.path("a"), 0o755)
	assert.True(t, errors.Is(err, syscall.EEXIST), "mkdir of an existing folder: %v", err)
	err = syscall.Rmdir(env.path("a/b"))
	assert.Equal(t, syscall.ENOTEMPTY, err, "rmdir of a non-empty folder")

	ents, err := os.ReadDir(env.path("a/b/c"))
	require.NoError(t, err)
	require.Len(t, ents, 1)
	assert.Equal(t, "x.txt", ents[0].Name())

	require.NoError(t, os.RemoveAll(env.path("a")))
	require.NoError(t, env.fsys.deleter.Flush(t.Context()))
	assert.Empty(t, env.remoteEntries(t), "rm -r leaves nothing on 123pan")
}

func TestBadNames(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("a:b?.png"), []byte("1"), 0o644))
	assert.Contains(t, env.remoteEntries(t), "a：b？.png", "forbidden characters map to full-width look-alikes")
	ents, err := os.ReadDir(env.mnt)
	require.NoError(t, err)
	assert.Equal(t, "a:b?.png", ents[0].Name(), "and map back when listed")

	_, err = os.Create(env.path(strings.Repeat("x", 255)))
	assert.True(t, errors.Is(err, syscall.ENAMETOOLONG), "255 characters: %v", err)
	_, err = os.Create(env.path("   "))
	assert.True(t, errors.Is(err, syscall.EINVAL), "all spaces: %v", err)
	err = os.Mkdir(env.path(strings.Repeat("图", 254)), 0o755)
	assert.True(t, errors.Is(err, syscall.ENAMETOOLONG), "long CJK name: %v", err)
	assert.Len(t, env.remoteEntries(t), 1, "nothing made for refused names")
}

func TestLinksAreRefused(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("f"), []byte("1"), 0o644))
	assert.True(t, errors.Is(os.Link(env.path("f"), env.path("g")), syscall.ENOTSUP))
	assert.True(t, errors.Is(os.Symlink("f", env.path("s")), syscall.ENOTSUP))
}

func TestRename(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.MkdirAll(env.path("src"), 0o755))
	require.NoError(t, os.MkdirAll(env.path("dst"), 0o755))
	require.NoError(t, os.WriteFile(env.path("src/keep.jpg"), []byte("keep"), 0o644))
	require.NoError(t, os.WriteFile(env.path("src/old.jpg"), []byte("renamed"), 0o644))
	require.NoError(t, os.WriteFile(env.path("dst/victim.jpg"), []byte("victim"), 0o644))
	keep := env.remoteEntries(t, "src")["keep.jpg"]

	// same name, other folder: a move, ID and link kept
	require.NoError(t, os.Rename(env.path("src/keep.jpg"), env.path("dst/keep.jpg")))
	moved := env.remoteEntries(t, "dst")["keep.jpg"]
	assert.Equal(t, keep.FileID, moved.FileID, "a move keeps the ID")
	assert.Equal(t, keep.DownloadURL, moved.DownloadURL, "a move keeps the link")

	// new name: the content under the new name, the old entry gone
	require.NoError(t, os.Rename(env.path("src/old.jpg"), env.path("src/new.jpg")))
	// over an existing target: the target is replaced
	require.NoError(t, os.Rename(env.path("src/new.jpg"), env.path("dst/victim.jpg")))
	require.NoError(t, env.fsys.deleter.Flush(t.Context()))

	assert.Empty(t, env.remoteEntries(t, "src"))
	dst := env.remoteEntries(t, "dst")
	assert.Equal(t, []string{"keep.jpg", "victim.jpg"}, sortedKeys(dst))
	assert.Equal(t, "renamed", string(download(t, dst["victim.jpg"])))
	got, err := os.ReadFile(env.path("dst/victim.jpg"))
	require.NoError(t, err)
	assert.Equal(t, "renamed", string(got))
}

// A rename over a file whose delete fails changes nothing: the target keeps
// its content, even new content not uploaded yet, and the source stays.
func TestRenameOverFileWhoseDeleteFails(t *testing.T) {
	env := newTestEnv(t, Options{WriteBack: true, WriteBackDelay: time.Hour, DirTTL: time.Hour})
	require.NoError(t, os.WriteFile(env.path("src.jpg"), []byte("src"), 0o644))
	require.NoError(t, os.WriteFile(env.path("victim.jpg"), []byte("v1"), 0o644))
	require.NoError(t, env.fsys.Sync(t.Context()))
	require.NoError(t, os.WriteFile(env.path("victim.jpg"), []byte("v2, not uploaded yet"), 0o644))

	env.setFaults(t, "429=1")
	err := os.Rename(env.path("src.jpg"), env.path("victim.jpg"))
	env.setFaults(t, "")
	require.Error(t, err, "the target's delete was refused")

	got, err := os.ReadFile(env.path("victim.jpg"))
	require.NoError(t, err)
	assert.Equal(t, "v2, not uploaded yet", string(got))
	got, err = os.ReadFile(env.path("src.jpg"))
	require.NoError(t, err)
	assert.Equal(t, "src", string(got))
	require.NoError(t, env.fsys.Sync(t.Context()))
	remote := env.remoteEntries(t)
	assert.Equal(t, md5hex([]byte("v2, not uploaded yet")), remote["victim.jpg"].Etag)
	assert.Equal(t, md5hex([]byte("src")), remote["src.jpg"].Etag)
}

func TestRenameFolders(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.MkdirAll(env.path("album/inner"), 0o755))
	require.NoError(t, os.MkdirAll(env.path("archive"), 0o755))
	for i := 0; i < 5; i++ {
		require.NoError(t, os.WriteFile(env.path(filepath.Join("album", string(rune('a'+i))+".png")), []byte{byte(i)}, 0o644))
	}
	albumID := env.remoteEntries(t)["album"].FileID

	require.NoError(t, os.Rename(env.path("album"), env.path("archive/album")))
	assert.Equal(t, albumID, env.remoteEntries(t, "archive")["album"].FileID, "same name: moved")

	require.NoError(t, os.Rename(env.path("archive/album"), env.path("photos")))
	require.NoError(t, env.fsys.deleter.Flush(t.Context()))
	top := env.remoteEntries(t)
	assert.Equal(t, []string{"archive", "photos"}, sortedKeys(top))
	assert.Empty(t, env.remoteEntries(t, "archive"))
	assert.Equal(t, []string{"a.png", "b.png", "c.png", "d.png", "e.png", "inner"}, sortedKeys(env.remoteEntries(t, "photos")))
	got, err := os.ReadFile(env.path("photos/c.png"))
	require.NoError(t, err)
	assert.Equal(t, []byte{2}, got)
}

func TestWriteTempThenRenameCostsOneUpload(t *testing.T) {
	env := newTestEnv(t, Options{})
	data := randomBytes(t, 2*testSlice)
	require.NoError(t, os.WriteFile(env.path(".photo.jpg.tmp"), data, 0o644))
	require.NoError(t, os.Rename(env.path(".photo.jpg.tmp"), env.path("photo.jpg")))
	require.NoError(t, env.fsys.deleter.Flush(t.Context()))
	assert.Equal(t, []string{"photo.jpg"}, sortedKeys(env.remoteEntries(t)))
	assert.Equal(t, int64(2), env.calls("PUT /__upload"), "the bytes went up once (two slices)")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestFailedDeleteShowsTheFileAgain(t *testing.T) {
	env := newTestEnv(t, Options{DirTTL: time.Hour, DeleteRetry: backoff.Policy{Initial: 10 * time.Millisecond, Max: time.Minute, Attempts: 3}})
	require.NoError(t, os.WriteFile(env.path("stays.png"), []byte("1"), 0o644))
	env.setFaults(t, "429=1") // a definite refusal: a 5xx may come after the delete was done
	require.NoError(t, os.Remove(env.path("stays.png")), "unlink answers at once")
	_, err := os.Stat(env.path("stays.png"))
	assert.True(t, errors.Is(err, os.ErrNotExist))
	assert.Error(t, env.fsys.deleter.Flush(t.Context()), "the delete call fails, is tried again, and is given up")
	assert.GreaterOrEqual(t, env.calls("POST /api/v1/oss/file/delete"), int64(3), "three rounds of calls")
	env.setFaults(t, "")
	assert.Contains(t, env.remoteEntries(t), "stays.png", "nothing was deleted")
	time.Sleep(1100 * time.Millisecond) // past the kernel's negative entry cache
	_, err = os.Stat(env.path("stays.png"))
	assert.NoError(t, err, "the file shows up again at the next listing")
}

func TestDeleteRetriedAfterPassingFailure(t *testing.T) {
	env := newTestEnv(t, Options{DeleteRetry: backoff.Policy{Initial: 300 * time.Millisecond, Max: time.Minute, Attempts: 6}})
	require.NoError(t, os.WriteFile(env.path("goes.png"), []byte("1"), 0o644))
	env.setFaults(t, "429=1")
	require.NoError(t, os.Remove(env.path("goes.png")))
	time.Sleep(150 * time.Millisecond) // the first call fails
	env.setFaults(t, "")
	require.NoError(t, env.fsys.deleter.Flush(t.Context()), "the next round succeeds")
	assert.Empty(t, env.remoteEntries(t))
}

func TestRemoteNamesThatCannotBeLinuxNamesAreHidden(t *testing.T) {
	env := newTestEnv(t, Options{})
	long := strings.Repeat("图", 100) // 300 bytes: a valid 123pan name, too long for Linux
	_, err := env.check.Mkdir(t.Context(), "", long)
	require.NoError(t, err)
	_, err = env.check.Mkdir(t.Context(), "", "visible")
	require.NoError(t, err)
	ents, err := os.ReadDir(env.mnt)
	require.NoError(t, err)
	require.Len(t, ents, 1)
	assert.Equal(t, "visible", ents[0].Name())
}

func TestListingIsCachedAndNeverDetailed(t *testing.T) {
	env := newTestEnv(t, Options{})
	dir, err := env.check.Mkdir(t.Context(), "", "many")
	require.NoError(t, err)
	for i := 0; i < 250; i++ {
		_, err := env.check.Upload(t.Context(), uploadOf(dir, fmt.Sprintf("%03d.png", i), []byte("same")))
		require.NoError(t, err)
	}
	lists, details := env.calls("POST /api/v1/oss/file/list"), env.calls("GET /api/v1/oss/file/detail")
	for i := 0; i < 2; i++ {
		ents, err := os.ReadDir(env.path("many"))
		require.NoError(t, err)
		require.Len(t, ents, 250)
		for _, e := range ents {
			_, err := e.Info()
			require.NoError(t, err)
		}
	}
	assert.Equal(t, int64(1+3), env.calls("POST /api/v1/oss/file/list")-lists, "the root and three pages of 100, once")
	assert.Equal(t, details, env.calls("GET /api/v1/oss/file/detail"), "no detail call per entry")
}
