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

// A folder the mount has listed as empty, into which another client then
// put a file, is not deleted by rmdir or by a rename over it, however
// young the listing: ENOTEMPTY, the file stays, and the folder's next
// listing shows it.
func TestRmdirAsksTheServiceFirst(t *testing.T) {
	e := newMemEnv(t, Options{DirTTL: time.Hour})
	require.NoError(t, os.Mkdir(e.path("shared"), 0o755))
	require.NoError(t, os.Mkdir(e.path("other"), 0o755))
	ents, err := os.ReadDir(e.path("shared"))
	require.NoError(t, err)
	require.Empty(t, ents)

	var folder string
	for ent, err := range e.store.List(t.Context(), "") {
		require.NoError(t, err)
		if ent.Name == "shared" {
			folder = ent.ID
		}
	}
	data := []byte("put by another machine")
	sum := md5.Sum(data)
	_, err = e.store.Put(t.Context(), store.PutRequest{Parent: folder, Name: "f.txt", Content: bytes.NewReader(data),
		Size: int64(len(data)), MD5: hex.EncodeToString(sum[:])})
	require.NoError(t, err)

	assert.Equal(t, syscall.ENOTEMPTY, syscall.Rename(e.path("other"), e.path("shared")), "(os.Rename refuses a folder target itself)")
	assert.ErrorIs(t, os.Remove(e.path("shared")), syscall.ENOTEMPTY)
	assert.Equal(t, map[string]string{"f.txt": string(data)}, e.held(t, folder), "the file stays")
	ents, err = os.ReadDir(e.path("shared"))
	require.NoError(t, err)
	require.Len(t, ents, 1, "the next listing shows it")

	require.NoError(t, os.Remove(e.path("shared/f.txt")))
	require.NoError(t, os.Remove(e.path("shared")), "rm -r: the file's queued delete does not count")
}
