package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// askToken asks the emulator at url for a token and returns the answer's
// code and token.
func askToken(t *testing.T, url, id, secret string) (int, string) {
	t.Helper()
	body, err := json.Marshal(wire.AccessTokenRequest{ClientID: id, ClientSecret: secret})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url+wire.PathAccessToken, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(wire.HeaderPlatform, wire.PlatformValue)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var env struct {
		Code int                  `json:"code"`
		Data wire.AccessTokenData `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
	return env.Code, env.Data.AccessToken
}

// The embedded emulator listens where every local user can connect; only
// the mount that started it gets a token.
func TestEmbeddedEmulatorGivesTokensToItsMountOnly(t *testing.T) {
	logs := &logTail{next: testWriter(t, "mount")}
	m := startMountLogging(t, t.TempDir(), logs, "--emulator", "--state-dir", t.TempDir())
	found := logs.find(regexp.MustCompile(`msg="embedded emulator serving" url=(\S+)`))
	require.NotNil(t, found, "the mount logs the emulator's URL")
	url := found[1]

	for _, cred := range [][2]string{{"pan123fs-emulator", "emulator"}, {"someone", "else"}, {"e2e", "e2e-secret"}} {
		code, token := askToken(t, url, cred[0], cred[1])
		assert.NotEqual(t, wire.CodeOK, code, "a token for %s/%s", cred[0], cred[1])
		assert.Empty(t, token, "a token for %s/%s", cred[0], cred[1])
	}
	sh(t, m.mnt, "echo mine > mine.txt && cat mine.txt")
}
