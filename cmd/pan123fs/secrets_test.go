package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A secret file that the group or others may read is refused as ssh
// refuses such a key, saying its mode and the chmod that fixes it; a
// private one (0600, 0400) is taken.
func TestClientSecretFileModes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		mode os.FileMode
		want string // "" when the file is taken
	}{
		{0o600, ""},
		{0o400, ""},
		{0o640, "mode 0640"},
		{0o644, "mode 0644"},
		{0o604, "mode 0604"},
		{0o660, "mode 0660"},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "secret", "s3cret\n", tc.mode)
			out, err := runWith(t, cleanEnv(t, "PAN123_CLIENT_ID=id"), "mount", missing, "--client-secret-file", p, "--state-dir", t.TempDir())
			require.Error(t, err, "mount on a missing mount point")
			assert.NotContains(t, out, "s3cret", "the secret is never shown")
			if tc.want == "" {
				assert.NotContains(t, out, "client-secret-file")
				assert.Contains(t, out, missing, "fails at the mount point, past the secret")
				return
			}
			assert.Contains(t, out, "--client-secret-file: "+p+" is accessible by group or others ("+tc.want+"): run chmod 600 "+p)
		})
	}
}

// A secret file of another user is refused even with mode 0600.
func TestClientSecretFileOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	p := writeFile(t, t.TempDir(), "secret", "s3cret\n", 0o600)
	require.NoError(t, os.Chown(p, 65534, 65534))
	out, err := runWith(t, cleanEnv(t, "PAN123_CLIENT_ID=id"), "mount", filepath.Join(t.TempDir(), "missing"), "--client-secret-file", p)
	require.Error(t, err)
	assert.Contains(t, out, p+" belongs to uid 65534, not to you (uid 0)")
}

// A config file that holds client-secret must be private too; one without
// it may be readable by all.
func TestConfigFileWithSecretMode(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	open := writeFile(t, t.TempDir(), "config.toml", "client-id = \"id\"\nclient-secret = \"s3cret\"\n", 0o644)
	out, err := runWith(t, cleanEnv(t), "mount", missing, "--config", open, "--state-dir", t.TempDir())
	require.Error(t, err)
	assert.Contains(t, out, "config file holds client-secret: "+open+" is accessible by group or others (mode 0644): run chmod 600 "+open)
	assert.NotContains(t, out, "s3cret")

	require.NoError(t, os.Chmod(open, 0o600))
	out, err = runWith(t, cleanEnv(t), "mount", missing, "--config", open, "--state-dir", t.TempDir())
	require.Error(t, err)
	assert.Contains(t, out, missing, "fails at the mount point, past the config file")
	assert.NotContains(t, out, "--client-secret is visible", "a secret from the file is not on the command line")
}

// The secret from a private file gets a token from an emulator that
// knows only that secret, and the mount works; the file beats
// PAN123_CLIENT_SECRET, which is wrong here.
func TestClientSecretFileMounts(t *testing.T) {
	url := startEmulator(t, "--client-id", "file-id", "--client-secret", "from-the-file")
	p := writeFile(t, t.TempDir(), "secret", "from-the-file\n", 0o600)
	env := cleanEnv(t, "PAN123_CLIENT_ID=file-id", "PAN123_CLIENT_SECRET=wrong")
	tail := &logTail{next: testWriter(t, "mount")}
	mnt := t.TempDir()
	startMountEnv(t, mnt, env, tail, "--api-base", url, "--state-dir", t.TempDir(), "--client-secret-file", p)
	require.NoError(t, os.WriteFile(filepath.Join(mnt, "a.txt"), []byte("hello"), 0o644))
	_, ok := remoteTree(t, checkerAs(t, url, "file-id", "from-the-file"))["a.txt"]
	assert.True(t, ok, "the file reached the emulator")
	assert.NotContains(t, tail.String(), "from-the-file")
}

// Under systemd with LoadCredential=client-secret (and client-id), the
// credentials in $CREDENTIALS_DIRECTORY are used when nothing else gives
// them.
func TestSystemdCredentials(t *testing.T) {
	url := startEmulator(t, "--client-id", "cred-id", "--client-secret", "cred-secret")
	creds := t.TempDir()
	writeFile(t, creds, "client-id", "cred-id", 0o400)
	writeFile(t, creds, "client-secret", "cred-secret\n", 0o400)
	mnt := t.TempDir()
	tail := &logTail{next: testWriter(t, "mount")}
	startMountEnv(t, mnt, cleanEnv(t, "CREDENTIALS_DIRECTORY="+creds), tail, "--api-base", url, "--state-dir", t.TempDir())
	require.NoError(t, os.WriteFile(filepath.Join(mnt, "b.txt"), []byte("hi"), 0o644))
	_, ok := remoteTree(t, checkerAs(t, url, "cred-id", "cred-secret"))["b.txt"]
	assert.True(t, ok, "the file reached the emulator")
	assert.False(t, strings.Contains(tail.String(), "cred-secret"), "the secret is never logged")

	// Without the credential files, there are no credentials at all.
	empty := t.TempDir()
	out, err := runWith(t, cleanEnv(t, "CREDENTIALS_DIRECTORY="+empty), "mount", t.TempDir(), "--api-base", url, "--state-dir", t.TempDir())
	require.Error(t, err)
	assert.Contains(t, out, "no credentials")
}

// A secret and a secret file from the same place are a mistake the mount
// refuses rather than guessing.
func TestSecretAndSecretFileBoth(t *testing.T) {
	p := writeFile(t, t.TempDir(), "secret", "x\n", 0o600)
	out, err := runWith(t, cleanEnv(t), "mount", t.TempDir(), "--client-secret", "y", "--client-secret-file", p)
	require.Error(t, err)
	assert.Contains(t, out, "both --client-secret and --client-secret-file are given")
}
