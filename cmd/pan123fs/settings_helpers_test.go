package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote"
)

// cleanEnv is the test's environment without any variable that gives
// pan123fs a setting, with a config home of its own (so that the user's
// config file stays out), plus env.
func cleanEnv(t *testing.T, env ...string) []string {
	t.Helper()
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PAN123") || k == "XDG_CONFIG_HOME" || k == "CREDENTIALS_DIRECTORY" || k == "JOURNAL_STREAM" {
			continue
		}
		out = append(out, kv)
	}
	return append(append(out, "XDG_CONFIG_HOME="+t.TempDir()), env...)
}

// runWith runs pan123fs with env (see cleanEnv) to its end and returns its
// combined output.
func runWith(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// writeFile writes a file of the test with mode perm (chmod, so that the
// umask does not change it).
func writeFile(t *testing.T, dir, name, text string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(text), perm))
	require.NoError(t, os.Chmod(p, perm))
	return p
}

// startMountEnv runs `pan123fs mount MNT args...` with exactly env and
// waits until it is mounted; it is unmounted at the end of the test.
func startMountEnv(t *testing.T, mnt string, env []string, stderr io.Writer, args ...string) *mountProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"mount", mnt}, args...)...)
	cmd.Env = env
	cmd.Stderr = stderr
	return waitForMount(t, cmd, mnt)
}

// checkerAs is checker for an emulator that gives tokens to one client
// only.
func checkerAs(t *testing.T, url, id, secret string) *remote.Client {
	rc, err := remote.New(remote.Config{BaseURL: url, ClientID: id, ClientSecret: secret,
		StateDir: t.TempDir(), Logger: quietLogger(t)})
	require.NoError(t, err)
	return rc
}
