package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	wxemulator "github.com/pan123fs/pan123fs/remote/wechat/emulator"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// TestWechatTokenSources: a WeChat CloudBase mount gets its token from
// stable_token with the appid and secret; from a file (Cloud Run's 微信令牌,
// sent as cloudbase_access_token) without asking for one; or goes without
// (Cloud Run's open API). Without credentials, the mount refuses to start
// and says what to set.
func TestWechatTokenSources(t *testing.T) {
	emu := wxemulator.New(wxemulator.Options{AppID: "wx-app", Secret: "wx-secret"})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	stable := "POST " + wire.PathStableToken
	base := []string{"--backend", "wechat-cloudbase", "--api-base", srv.URL, "--wechat-env", emu.Env()}
	mountAndWrite := func(env []string, name string, args ...string) {
		t.Helper()
		m := startMountEnv(t, t.TempDir(), env, testWriter(t, "mount"), append(append(append([]string{}, base...), "--state-dir", t.TempDir()), args...)...)
		require.NoError(t, os.WriteFile(m.path(name), []byte(name), 0o644))
		got, err := os.ReadFile(m.path(name))
		require.NoError(t, err)
		require.Equal(t, name, string(got))
	}

	mountAndWrite(append(os.Environ(), "WECHAT_APPID=wx-app", "WECHAT_SECRET=wx-secret"), "stable.png")
	require.EqualValues(t, 1, emu.Stats().Calls[stable], "one stable_token call")

	body, _ := json.Marshal(map[string]any{"grant_type": "client_credential", "appid": "wx-app", "secret": "wx-secret"})
	resp, err := http.Post(srv.URL+wire.PathStableToken, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	require.NotEmpty(t, tok.AccessToken)
	file := filepath.Join(t.TempDir(), "cloudbase_access_token")
	require.NoError(t, os.WriteFile(file, []byte(tok.AccessToken+"\n"), 0o600))
	mountAndWrite(os.Environ(), "file.png", "--wechat-token", "file", "--wechat-token-file", file)
	assert.EqualValues(t, 2, emu.Stats().Calls[stable], "the file's token is used as it is: no call of the mount's own")

	open := wxemulator.New(wxemulator.Options{AppID: "wx-app", Secret: "wx-secret", OpenAPI: true})
	osrv := httptest.NewServer(open)
	t.Cleanup(osrv.Close)
	base[3] = osrv.URL
	mountAndWrite(os.Environ(), "open.png", "--wechat-token", "none")
	assert.Zero(t, open.Stats().Calls[stable], "open API: no token at all")

	out, err := exec.Command(binary, append(append([]string{"mount", t.TempDir(), "--state-dir", t.TempDir()}, base...), "--daemon")...).CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "no credentials: set WECHAT_APPID and WECHAT_SECRET")
}
