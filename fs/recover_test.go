package fs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Records of files being written are written without waiting for the
// disk, so a power loss can leave a spool file with a damaged record or
// with none. Neither is uploaded: both are kept in the recovery folder and
// reported, with their bytes. An empty spool file with no record is
// simply deleted.
func TestDamagedAndMissingRecordsKeepTheData(t *testing.T) {
	state := t.TempDir()
	spoolDir, recDir := filepath.Join(state, "spool"), filepath.Join(state, "journal", "records")
	require.NoError(t, os.MkdirAll(spoolDir, 0o700))
	require.NoError(t, os.MkdirAll(recDir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(spoolDir, "spool-torn"), []byte("half a photo"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(recDir, "spool-torn.json"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(spoolDir, "spool-orphan"), []byte("another half"), 0o600))
	// made just before its record when pan123fs was killed: nothing to keep
	require.NoError(t, os.WriteFile(filepath.Join(spoolDir, "spool-empty"), nil, 0o600))

	env := newTestEnvWith(t, envConfig{state: state})
	rec := env.fsys.Status().Recovered
	require.Len(t, rec, 2)
	saved := map[string]string{}
	for _, r := range rec {
		b, err := os.ReadFile(r.Saved)
		require.NoError(t, err)
		saved[string(b)] = r.Why
		assert.Equal(t, filepath.Join(state, "recovery"), filepath.Dir(r.Saved))
	}
	assert.Contains(t, saved["half a photo"], "damaged")
	assert.Contains(t, saved["another half"], "no journal record")
	assert.Empty(t, env.remoteEntries(t), "nothing was uploaded")
	ents, err := os.ReadDir(spoolDir)
	require.NoError(t, err)
	assert.Empty(t, ents, "the spool is clear")
}
