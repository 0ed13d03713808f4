package fs

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
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
	assert.ElementsMatch(t, []string{"user.pan123.id", "user.pan123.url", "user.pan123.etag", "user.pan123.state",
		"user.pan123.moderation", "user.pan123.rejected", "user.pan123.traffic"},
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

// TestXattrsHostFacts: the custom-domain link, the moderation verdict,
// whether it rejected the image, and the traffic are what the emulator
// holds, read afresh.
func TestXattrsHostFacts(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("plain.png"), []byte("no domain yet"), 0o644))
	_, err := getxattr(t, env.path("plain.png"), "user.pan123.customurl")
	assert.True(t, errors.Is(err, syscall.ENODATA), "customurl without a custom domain: %v", err)

	own := strings.Replace(env.emu.URL(), "127.0.0.1", "localhost", 1)
	resp, err := http.Post(env.emu.URL()+"/__emulator/domain", "text/plain", strings.NewReader(own))
	require.NoError(t, err)
	resp.Body.Close()
	data := []byte("a picture with a custom domain")
	require.NoError(t, os.WriteFile(env.path("p.png"), data, 0o644))
	e := env.remoteEntries(t)["p.png"]
	got, err := getxattr(t, env.path("p.png"), "user.pan123.customurl")
	require.NoError(t, err)
	assert.Equal(t, e.UserSelfURL, got, "customurl")
	assert.True(t, strings.HasPrefix(got, own+"/"), "customurl %q on %s", got, own)

	resp, err = http.Get(got)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, data, body, "bytes behind customurl")
	e = env.remoteEntries(t)["p.png"]
	require.EqualValues(t, len(data), e.TotalTraffic, "the emulator's totalTraffic")
	for name, want := range map[string]string{
		"user.pan123.traffic": strconv.FormatInt(e.TotalTraffic, 10), "user.pan123.moderation": strconv.Itoa(e.Status),
		"user.pan123.rejected": "no",
	} {
		got, err := getxattr(t, env.path("p.png"), name)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}

	env.setStatus(t, string(e.FileID), 150)
	time.Sleep(freshFor) // the last answer serves reads within freshFor
	for name, want := range map[string]string{"user.pan123.moderation": "150", "user.pan123.rejected": "yes"} {
		got, err := getxattr(t, env.path("p.png"), name)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name+" once moderation rejected the image")
	}
}

// getfattr -d asks each attribute's size, then its value: the moderation
// attributes of one file cost one detail call between them, not six.
func TestXattrsHostFactsAskOnceForAGetfattr(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("p.png"), []byte("p"), 0o644))
	detail := "GET " + wire.PathDetail
	before := env.calls(detail)
	for _, name := range []string{"user.pan123.moderation", "user.pan123.rejected", "user.pan123.traffic"} {
		n, err := syscall.Getxattr(env.path("p.png"), name, nil) // the size
		require.NoError(t, err, name)
		buf := make([]byte, n)
		_, err = syscall.Getxattr(env.path("p.png"), name, buf)
		require.NoError(t, err, name)
	}
	assert.Equal(t, int64(1), env.calls(detail)-before, "detail calls")
}
