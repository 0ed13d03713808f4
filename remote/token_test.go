package remote

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

func (f *fakePan) tokenCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokens)
}

func TestTokenSavedWithModes(t *testing.T) {
	f := newFakePan(t)
	dir := filepath.Join(t.TempDir(), "state", "nested")
	c := testClient(t, f.srv.URL, func(cfg *Config) { cfg.StateDir = dir })
	_, err := c.ListPage(t.Context(), wire.ListRequest{})
	require.NoError(t, err)

	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	fi, err = os.Stat(filepath.Join(dir, TokenFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b, err := os.ReadFile(filepath.Join(dir, TokenFile))
	require.NoError(t, err)
	var saved savedToken
	require.NoError(t, json.Unmarshal(b, &saved))
	assert.Equal(t, "tok-1", saved.AccessToken)
	assert.Equal(t, testClientID, saved.ClientID)
	assert.NotContains(t, string(b), testSecret)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		assert.NotContains(t, e.Name(), ".tmp", "no temp file left behind")
	}

	// A new client (a new process) reuses the saved token.
	c2 := testClient(t, f.srv.URL, func(cfg *Config) { cfg.StateDir = dir })
	_, err = c2.ListPage(t.Context(), wire.ListRequest{})
	require.NoError(t, err)
	assert.Equal(t, 1, f.tokenCount())

	// Other credentials or another service do not use it.
	c3 := testClient(t, f.srv.URL, func(cfg *Config) { cfg.StateDir = dir; cfg.BaseURL = f.srv.URL + "/" })
	_, err = c3.ListPage(t.Context(), wire.ListRequest{})
	require.NoError(t, err)
	assert.Equal(t, 1, f.tokenCount(), "trailing slash is the same service")
}

func TestTwoClientsOneStateDirFetchOneToken(t *testing.T) {
	f := newFakePan(t)
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 8 {
		c := testClient(t, f.srv.URL, func(cfg *Config) { cfg.StateDir = dir })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				_, err := c.ListPage(t.Context(), wire.ListRequest{})
				assert.NoError(t, err, "client %d", i)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, f.tokenCount())
}

func TestOneClientConcurrentCallsOneToken(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL) // in memory only
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.ListPage(t.Context(), wire.ListRequest{})
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, f.tokenCount())
}

func TestTokenRenewedAheadOfExpiry(t *testing.T) {
	f := newFakePan(t)
	f.tokenTTL = time.Second // renew when < 100 ms remain
	dir := t.TempDir()
	c := testClient(t, f.srv.URL, func(cfg *Config) { cfg.StateDir = dir })
	_, err := c.ListPage(t.Context(), wire.ListRequest{})
	require.NoError(t, err)
	_, err = c.ListPage(t.Context(), wire.ListRequest{})
	require.NoError(t, err)
	assert.Equal(t, 1, f.tokenCount())
	time.Sleep(920 * time.Millisecond)
	_, err = c.ListPage(t.Context(), wire.ListRequest{})
	require.NoError(t, err)
	assert.Equal(t, 2, f.tokenCount(), "renewed before expiry")
	assert.Equal(t, 3, f.count("list"), "no call was refused")
	b, _ := os.ReadFile(filepath.Join(dir, TokenFile))
	assert.Contains(t, string(b), "tok-2")
}

func TestUnauthorizedRenewsOnceAndRetriesOnce(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	// Every list says 401: one renewal, one retry, then the error.
	f.before = func(name string, w http.ResponseWriter, r *http.Request) bool {
		if name == "list" {
			writeEnv(w, 401, "access_token无效", nil)
			return true
		}
		return false
	}
	_, err := c.ListPage(t.Context(), wire.ListRequest{})
	require.ErrorIs(t, err, ErrAuth)
	assert.Equal(t, 2, f.count("list"))
	assert.Equal(t, 2, f.tokenCount())
}

func TestUnauthorizedTokenRevokedThenWorks(t *testing.T) {
	f := newFakePan(t)
	dir := t.TempDir()
	c := testClient(t, f.srv.URL, func(cfg *Config) { cfg.StateDir = dir })
	_, err := c.ListPage(t.Context(), wire.ListRequest{})
	require.NoError(t, err)
	// The service forgets the token (e.g. a 4th token knocked it out).
	f.mu.Lock()
	delete(f.tokenExp, "tok-1")
	f.mu.Unlock()
	_, err = c.ListPage(t.Context(), wire.ListRequest{})
	require.NoError(t, err)
	assert.Equal(t, 2, f.tokenCount())
	assert.Equal(t, 3, f.count("list"))

	// A second process holding the old token in memory adopts the renewed
	// one from the file instead of fetching a third.
	c2 := testClient(t, f.srv.URL, func(cfg *Config) { cfg.StateDir = dir })
	c2.tokens.set(&savedToken{AccessToken: "tok-1", ObtainedAt: time.Now(), ExpiredAt: time.Now().Add(time.Hour)})
	_, err = c2.ListPage(t.Context(), wire.ListRequest{})
	require.NoError(t, err)
	assert.Equal(t, 2, f.tokenCount())
}

func TestSecretNeverLeaks(t *testing.T) {
	logs := &syncBuf{}
	f := newFakePan(t)
	// The token endpoint misbehaves in every way, echoing the secret.
	var n int
	var mu sync.Mutex
	f.before = func(name string, w http.ResponseWriter, r *http.Request) bool {
		if name != "access_token" {
			return false
		}
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		switch k % 4 {
		case 0:
			writeEnv(w, 1, "bad secret "+testSecret, nil)
		case 1:
			http.Error(w, "upstream says "+testSecret, 502)
		case 2:
			writeEnv(w, 401, fmt.Sprintf("clientSecret=%s refused", testSecret), nil)
		case 3:
			_, _ = w.Write([]byte(`{"code":0,"data":{"accessToken":"","x":"` + testSecret + `"}}`))
		}
		return true
	}
	for range 4 {
		c := testClient(t, f.srv.URL, func(cfg *Config) { cfg.Logger = slogTo(logs); cfg.StateDir = t.TempDir() })
		_, err := c.ListPage(t.Context(), wire.ListRequest{})
		require.Error(t, err)
		assert.NotContains(t, err.Error(), testSecret)
		assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), testSecret)
		_, err = c.Mkdir(t.Context(), "", "x")
		require.Error(t, err)
		assert.NotContains(t, err.Error(), testSecret)
	}
	assert.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), testSecret)
	assert.Contains(t, logs.String(), "access_token")
}

func TestNoCredentials(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL, func(cfg *Config) { cfg.ClientID = "" })
	_, err := c.ListPage(t.Context(), wire.ListRequest{})
	assert.ErrorIs(t, err, ErrAuth)
	assert.Equal(t, 0, f.count("access_token"))
}

func TestTokenDue(t *testing.T) {
	now := time.Now()
	long := savedToken{ObtainedAt: now.Add(-29 * 24 * time.Hour), ExpiredAt: now.Add(2 * time.Hour)}
	assert.False(t, long.due(now), "30-day token with 2 h left")
	long.ExpiredAt = now.Add(59 * time.Minute)
	assert.True(t, long.due(now), "less than an hour left")
	short := savedToken{ObtainedAt: now, ExpiredAt: now.Add(10 * time.Second)}
	assert.False(t, short.due(now.Add(8*time.Second)))
	assert.True(t, short.due(now.Add(9100*time.Millisecond)))
	skewed := savedToken{ObtainedAt: now, ExpiredAt: now.Add(-time.Minute)}
	assert.False(t, skewed.due(now), "a token expired at birth is used until refused")
}
