package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A secret given with --client-secret is in ps for everyone: the mount
// says so, and names the environment variable to use instead.
func TestClientSecretFlagWarns(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	out, err := run(binary, "mount", missing, "--client-id", "a", "--client-secret", "b", "--state-dir", t.TempDir())
	require.Error(t, err, "mount on a missing mount point")
	assert.Regexp(t, `level=WARN msg="--client-secret is visible to every user.*PAN123_CLIENT_SECRET`, out)

	out, err = run("env", "PAN123_CLIENT_SECRET=b", binary, "mount", missing, "--client-id", "a", "--state-dir", t.TempDir())
	require.Error(t, err, "mount on a missing mount point")
	assert.NotContains(t, out, "--client-secret is visible", "the secret came from the environment")
}
