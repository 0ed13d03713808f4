package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// longStateDir is a state dir whose control.sock would not fit in sun_path.
func longStateDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), strings.Repeat("s", 60), strings.Repeat("t", 60))
	require.NoError(t, os.MkdirAll(dir, 0o700))
	return dir
}

// requirePrivateSocketDir checks that only we may enter the socket's folder.
func requirePrivateSocketDir(t *testing.T, sock string) {
	t.Helper()
	fi, err := os.Stat(filepath.Dir(sock))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode()&(os.ModePerm|os.ModeSticky), "mode of %s", filepath.Dir(sock))
	assert.Equal(t, uint32(os.Geteuid()), fi.Sys().(*syscall.Stat_t).Uid, "owner of %s", filepath.Dir(sock))
}

func TestControlPathInTheStateDir(t *testing.T) {
	state := t.TempDir()
	p, cleanup, err := controlPath(state)
	require.NoError(t, err)
	defer cleanup()
	assert.Equal(t, filepath.Join(state, "control.sock"), p)
}

func TestControlPathOfALongStateDir(t *testing.T) {
	private := t.TempDir()
	require.NoError(t, os.Chmod(private, 0o700))
	shared := t.TempDir()
	require.NoError(t, os.Chmod(shared, 0o777|os.ModeSticky))
	for _, tc := range []struct{ runtime, wantDir string }{
		{"", ""}, {private, private}, {shared, ""}, {"relative/dir", ""},
	} {
		t.Setenv("XDG_RUNTIME_DIR", tc.runtime)
		p, cleanup, err := controlPath(longStateDir(t))
		require.NoError(t, err, "XDG_RUNTIME_DIR=%q", tc.runtime)
		assert.Less(t, len(p), maxSocketPath, p)
		requirePrivateSocketDir(t, p)
		if tc.wantDir != "" {
			assert.Equal(t, tc.wantDir, filepath.Dir(p), "XDG_RUNTIME_DIR=%q", tc.runtime)
		} else {
			assert.Equal(t, os.TempDir(), filepath.Dir(filepath.Dir(p)), "XDG_RUNTIME_DIR=%q: a new folder in the temporary directory", tc.runtime)
		}
		cleanup()
		if tc.wantDir == "" {
			_, err := os.Stat(filepath.Dir(p))
			assert.ErrorIs(t, err, os.ErrNotExist, "the socket's folder is removed")
		}
	}
}

// With a state dir too long for a socket path, the control socket goes in
// a folder only we may enter, is 0600, and a file another user left where
// older versions put the socket changes nothing.
func TestControlSocketOfALongStateDirIsPrivate(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "")
	state := longStateDir(t)
	sum := sha256.Sum256([]byte(state))
	squatted := filepath.Join(os.TempDir(), fmt.Sprintf("pan123fs-%x.sock", sum[:8]))
	require.NoError(t, os.MkdirAll(filepath.Join(squatted, "x"), 0o755))
	t.Cleanup(func() { os.RemoveAll(squatted) })

	url := startEmulator(t)
	m := startMountArgs(t, t.TempDir(), "--api-base", url, "--state-dir", state)
	buf := make([]byte, 4096)
	n, err := syscall.Getxattr(m.mnt, controlXattr, buf)
	require.NoError(t, err)
	sock := string(buf[:n])
	requirePrivateSocketDir(t, sock)
	fi, err := os.Stat(sock)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSocket|0o600, fi.Mode()&(os.ModeType|os.ModePerm), "the control socket")
	out, err := run(binary, "status", m.mnt)
	require.NoError(t, err, "pan123fs status: %s", out)

	require.NoError(t, m.stop(t))
	_, err = os.Stat(filepath.Dir(sock))
	assert.ErrorIs(t, err, os.ErrNotExist, "the socket's folder is gone after unmounting")
}
