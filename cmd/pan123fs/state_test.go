package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	require.NoError(t, err)
	return fi.Mode() & (os.ModePerm | os.ModeSticky)
}

func TestStateDirIsMadePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "state")
	got, err := stateDir(dir)
	require.NoError(t, err, "new state dir")
	assert.Equal(t, dir, got)
	assert.Equal(t, os.FileMode(0o700), mode(t, dir), "a new state dir")
}

// An existing folder keeps its mode: accepted when only we can write it.
func TestStateDirKeepsTheModeOfAnExistingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	_, err := stateDir(dir)
	require.NoError(t, err, "an existing 0755 state dir")
	assert.Equal(t, os.FileMode(0o755), mode(t, dir))
}

// A shared folder such as /tmp is refused, and keeps its sticky bit.
func TestStateDirRefusesAFolderOthersCanWrite(t *testing.T) {
	for _, m := range []os.FileMode{0o777 | os.ModeSticky, 0o775, 0o757} {
		dir := filepath.Join(t.TempDir(), "shared")
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Chmod(dir, m))
		_, err := stateDir(dir)
		require.Error(t, err, "state dir of mode %v", m)
		assert.Contains(t, err.Error(), "writable by other users")
		assert.Contains(t, err.Error(), "chmod go-w "+dir)
		assert.Equal(t, m, mode(t, dir), "the mode of a folder pan123fs did not make")
	}
}

func TestStateDirRefusesAnotherUsersFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a folder away")
	}
	dir := filepath.Join(t.TempDir(), "theirs")
	require.NoError(t, os.Mkdir(dir, 0o700))
	require.NoError(t, os.Chown(dir, 4321, 4321))
	_, err := stateDir(dir)
	require.Error(t, err, "a state dir owned by uid 4321")
	assert.Contains(t, err.Error(), "belongs to uid 4321")
}
