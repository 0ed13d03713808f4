package fs

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func getxattr(t *testing.T, path, name string) (string, error) {
	buf := make([]byte, 1024)
	n, err := syscall.Getxattr(path, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func TestXattrsDescribeTheRemoteFile(t *testing.T) {
	env := newTestEnv(t, Options{})
	data := []byte("a picture")
	require.NoError(t, os.WriteFile(env.path("p.png"), data, 0o644))
	e := env.remoteEntries(t)["p.png"]

	for name, want := range map[string]string{
		"user.pan123.id": string(e.FileID), "user.pan123.url": e.DownloadURL,
		"user.pan123.etag": md5hex(data), "user.pan123.state": "synced",
	} {
		got, err := getxattr(t, env.path("p.png"), name)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
	buf := make([]byte, 1024)
	n, err := syscall.Listxattr(env.path("p.png"), buf)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"user.pan123.id", "user.pan123.url", "user.pan123.etag", "user.pan123.state"},
		strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00"))

	_, err = getxattr(t, env.path("p.png"), "user.other")
	assert.True(t, errors.Is(err, syscall.ENODATA), "unknown attribute: %v", err)
	err = syscall.Setxattr(env.path("p.png"), "user.pan123.id", []byte("x"), 0)
	assert.True(t, errors.Is(err, syscall.ENOTSUP), "setxattr: %v", err)

	f, err := os.Create(env.path("new.png"))
	require.NoError(t, err)
	defer f.Close()
	state, err := getxattr(t, env.path("new.png"), "user.pan123.state")
	require.NoError(t, err)
	assert.Equal(t, "pending", state, "a file being written")
	_, err = getxattr(t, env.path("new.png"), "user.pan123.id")
	assert.True(t, errors.Is(err, syscall.ENODATA), "no ID before the upload: %v", err)
}
