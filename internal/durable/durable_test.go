package durable

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteFileReplacesAndLeavesNoTemporary(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	require.NoError(t, WriteFile(p, []byte("one"), 0o600))
	require.NoError(t, WriteFile(p, []byte("two"), 0o640))
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "two", string(got))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, names, 1, "no temporary file left")
}

func TestWriteFileFailureKeepsTheOldContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	require.NoError(t, WriteFile(p, []byte("old"), 0o600))
	// A folder where the temporary file goes: the write of p fails.
	require.NoError(t, os.MkdirAll(filepath.Join(p+".tmp", "sub"), 0o755))
	require.Error(t, WriteFile(p, []byte("new"), 0o600))
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "old", string(got))

	// A folder in the way of the rename: it fails after the temporary file
	// was written, and that file is not left behind.
	require.NoError(t, os.RemoveAll(p+".tmp"))
	blocker := filepath.Join(dir, "blocker")
	require.NoError(t, os.MkdirAll(filepath.Join(blocker, "sub"), 0o755))
	require.Error(t, WriteFile(blocker, []byte("new"), 0o600))
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, names, 2, "state.json and blocker, no temporary file")
}
