package fs

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/store"
)

// putElsewhere puts a file into the folder named folder of the root
// through the store itself, as another machine would, and returns the
// folder's ID.
func (e *memEnv) putElsewhere(t *testing.T, folder, name string, data []byte) string {
	t.Helper()
	var id string
	for ent, err := range e.store.List(t.Context(), "") {
		require.NoError(t, err)
		if ent.Name == folder {
			id = ent.ID
		}
	}
	require.NotEmpty(t, id, folder)
	sum := md5.Sum(data)
	_, err := e.store.Put(t.Context(), store.PutRequest{Parent: id, Name: name, Content: bytes.NewReader(data),
		Size: int64(len(data)), MD5: hex.EncodeToString(sum[:])})
	require.NoError(t, err)
	return id
}

// Folders the mount has listed as empty, into which another client then
// put a file, are not deleted, however young the listing. A rename over
// one answers ENOTEMPTY. rmdir returns at once, as an unlink does, but the
// folder's delete is sent only once the service says it is empty; here it
// is not, so the folder shows again with the file, which stays. An rm -r
// of it then deletes both, its file's queued delete not counting.
func TestRmdirAsksTheServiceFirst(t *testing.T) {
	e := newMemEnv(t, Options{DirTTL: time.Hour})
	for _, dir := range []string{"a", "b", "other"} {
		require.NoError(t, os.Mkdir(e.path(dir), 0o755))
		ents, err := os.ReadDir(e.path(dir))
		require.NoError(t, err)
		require.Empty(t, ents)
	}
	data := []byte("put by another machine")
	idA := e.putElsewhere(t, "a", "f.txt", data)
	e.putElsewhere(t, "b", "g.txt", data)

	assert.Equal(t, syscall.ENOTEMPTY, syscall.Rename(e.path("other"), e.path("b")), "(os.Rename refuses a folder target itself)")
	require.NoError(t, os.Remove(e.path("a")), "rmdir of what looks empty here")
	require.Eventually(t, func() bool {
		ents, err := os.ReadDir(e.path("a"))
		return err == nil && len(ents) == 1 && ents[0].Name() == "f.txt"
	}, 5*time.Second, 10*time.Millisecond, "the folder shows again, with the file")
	assert.Equal(t, map[string]string{"f.txt": string(data)}, e.held(t, idA), "the file stays")
	assert.Zero(t, e.store.Calls("Delete"), "nothing was deleted")

	require.NoError(t, os.RemoveAll(e.path("a")))
	require.NoError(t, e.fsys.Close(t.Context()), "unmounting sends the folder's delete after its file's")
	for ent, err := range e.store.List(t.Context(), "") {
		require.NoError(t, err)
		assert.NotEqual(t, "a", ent.Name, "rm -r deleted the folder")
	}
}

// rm -r of a tree in which another client put a file deep down keeps the
// folders on the way to it, and the file: each folder's check sees what
// its subfolder's check kept.
func TestRmRecursiveKeepsTheWayToAFileNotSeen(t *testing.T) {
	e := newMemEnv(t, Options{DirTTL: time.Hour})
	require.NoError(t, os.MkdirAll(e.path("top/mid/low"), 0o755))
	require.NoError(t, os.WriteFile(e.path("top/mid/seen.txt"), []byte("seen"), 0o644))
	for _, dir := range []string{"top", "top/mid", "top/mid/low"} {
		_, err := os.ReadDir(e.path(dir))
		require.NoError(t, err)
	}
	var mid, low string
	for ent, err := range e.store.List(t.Context(), "") {
		require.NoError(t, err)
		for m, err := range e.store.List(t.Context(), ent.ID) {
			require.NoError(t, err)
			if m.Name == "mid" {
				mid = m.ID
			}
		}
	}
	for ent, err := range e.store.List(t.Context(), mid) {
		require.NoError(t, err)
		if ent.Name == "low" {
			low = ent.ID
		}
	}
	require.NotEmpty(t, low)
	data := []byte("not seen here")
	sum := md5.Sum(data)
	_, err := e.store.Put(t.Context(), store.PutRequest{Parent: low, Name: "new.txt", Content: bytes.NewReader(data),
		Size: int64(len(data)), MD5: hex.EncodeToString(sum[:])})
	require.NoError(t, err)

	if err := os.RemoveAll(e.path("top")); err != nil {
		// low's check may have shown it again before rm -r came to mid
		require.ErrorIs(t, err, syscall.ENOTEMPTY)
	}
	if err := e.fsys.Sync(t.Context()); err != nil { // low's delete, when still pending, is refused
		require.ErrorContains(t, err, "directory not empty")
	}
	assert.Equal(t, map[string]string{"new.txt": string(data)}, e.held(t, low), "the file stays, and its folder")
	assert.Equal(t, map[string]string{"low/": ""}, e.held(t, mid), "seen.txt went; mid stays, holding low")
	require.Eventually(t, func() bool {
		got, err := os.ReadFile(e.path("top/mid/low/new.txt"))
		return err == nil && string(got) == string(data)
	}, 5*time.Second, 10*time.Millisecond, "the way to the file shows again")
}

// While a removed folder's delete waits for its gate (its files' deletes,
// then the check), the name is taken by that pending delete, as by any
// other: mkdir of the same name right after rm -r waits for it and works,
// and a listing made meanwhile does not show the old folder again.
func TestARemovedFolderStaysGoneWhileItsDeleteWaits(t *testing.T) {
	e := newMemEnv(t, Options{DeleteWindow: 400 * time.Millisecond})
	require.NoError(t, os.MkdirAll(e.path("x"), 0o755))
	require.NoError(t, os.WriteFile(e.path("x/f.txt"), []byte("f"), 0o644))
	require.NoError(t, os.RemoveAll(e.path("x")))
	_, err := e.fsys.Refresh(t.Context(), "", false)
	require.NoError(t, err)
	ents, err := os.ReadDir(e.mnt)
	require.NoError(t, err)
	assert.Empty(t, ents, "a listing while the delete waits does not show x again")

	require.NoError(t, os.Mkdir(e.path("x"), 0o755), "rm -rf x && mkdir x")
	ents, err = os.ReadDir(e.path("x"))
	require.NoError(t, err)
	assert.Empty(t, ents, "the new x is empty")
	require.NoError(t, e.fsys.Sync(t.Context()))
	names := 0
	for ent, err := range e.store.List(t.Context(), "") {
		require.NoError(t, err)
		assert.Equal(t, "x", ent.Name)
		names++
	}
	assert.Equal(t, 1, names, "the store holds the new x only")
}
