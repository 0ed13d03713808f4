package emulator

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// The data directory holds live tokens and the key that signs upload URLs:
// every folder the emulator makes is 0700 and every file 0600, a journal
// left 0644 by an older version included.
func TestDataDirIsPrivate(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "data")
		if legacy {
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(dir, journalFile), nil, 0o644))
			require.NoError(t, os.Chmod(filepath.Join(dir, journalFile), 0o644))
		}
		e := newEnv(t, Config{DataDir: dir, SliceSize: 100, ClientID: "id", ClientSecret: "secret"})
		e.upload("", "a.png", randBytes(250, 1))
		pending := randBytes(300, 2)
		c := e.create("", "pending.png", pending)
		require.Equal(t, http.StatusOK, e.put(e.uploadURL(c.PreuploadID, 1), pending[:100], nil))
		require.NoError(t, e.s.Close())

		state, err := os.ReadFile(filepath.Join(dir, snapshotFile))
		require.NoError(t, err)
		require.Contains(t, string(state), e.token, "the saved state holds the live token")
		seen := map[string]bool{}
		require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			require.NoError(t, err)
			fi, err := d.Info()
			require.NoError(t, err)
			want := os.FileMode(0o600)
			if d.IsDir() {
				want = 0o700
			}
			rel, _ := filepath.Rel(dir, p)
			seen[strings.SplitN(rel, string(filepath.Separator), 2)[0]] = true
			assert.Equal(t, want, fi.Mode().Perm(), "mode of %s (legacy journal %v)", rel, legacy)
			return nil
		}))
		for _, name := range []string{snapshotFile, journalFile, "lock", blobsDir, uploadsDir} {
			assert.True(t, seen[name], "%s was checked", name)
		}
	}
}

// An emulator started with RevokeTokens refuses the tokens it issued in
// earlier runs.
func TestRevokeTokensOnRestart(t *testing.T) {
	dir := t.TempDir()
	e1 := newEnv(t, Config{DataDir: dir})
	old := e1.token
	require.NoError(t, e1.s.Close())

	e2 := restart(t, dir, Config{RevokeTokens: true})
	e2.token = old
	e2.fail(wire.CodeUnauthorized, http.MethodGet, wire.PathDetail+"?fileID=1", nil)
}
