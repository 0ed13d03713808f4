package emulator

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOwnDomain: without a custom domain userSelfURL repeats downloadURL
// (as documented); with one it names that domain, serves the same bytes
// there, and what it serves adds to totalTraffic.
func TestOwnDomain(t *testing.T) {
	e := newEnv(t, Config{})
	data := []byte("the image's bytes")
	id := e.upload("", "own.png", data)
	d := e.detail(id)
	assert.Equal(t, d.DownloadURL, d.UserSelfURL, "userSelfURL without a custom domain")
	assert.Zero(t, d.TotalTraffic, "totalTraffic of a new file")

	own := strings.Replace(e.url, "127.0.0.1", "localhost", 1)
	e.admin("domain", own)
	d = e.detail(id)
	require.True(t, strings.HasPrefix(d.UserSelfURL, own+"/"), "userSelfURL %q: want it on %s", d.UserSelfURL, own)
	assert.False(t, strings.HasPrefix(d.DownloadURL, own), "downloadURL %q stays on the emulator's address", d.DownloadURL)
	resp, body := e.get(http.MethodGet, d.UserSelfURL, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, data, body, "bytes behind userSelfURL")
	assert.EqualValues(t, len(data), e.detail(id).TotalTraffic, "totalTraffic after one download")
	listed := e.listAll("")
	require.Len(t, listed, 1)
	assert.Equal(t, d.UserSelfURL, listed[0].UserSelfURL, "list's userSelfURL")

	e.admin("domain", "")
	d = e.detail(id)
	assert.Equal(t, d.DownloadURL, d.UserSelfURL, "userSelfURL once the custom domain is gone")

	resp, err := e.hc.Post(e.url+"/__emulator/domain", "text/plain", strings.NewReader("localhost:1/x"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a domain that is no base URL")
}
