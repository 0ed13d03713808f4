package remote

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// elsewhere is a host that records everything sent to it.
type elsewhere struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string // method, path, Authorization header and body of every request
}

func newElsewhere(t *testing.T) *elsewhere {
	e := &elsewhere{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.seen = append(e.seen, strings.Join([]string{r.Method, r.URL.Path, r.Header.Get(wire.HeaderAuth), string(b)}, " "))
		e.mu.Unlock()
		writeEnv(w, 0, "ok", map[string]any{"accessToken": "tok-elsewhere", "expiredAt": "2099-01-01T00:00:00+08:00"})
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *elsewhere) requests() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.seen, "\n")
}

// A 307 on access_token would make net/http post the client ID and secret
// again, to wherever the redirect points.
func TestTokenRedirectToAnotherHostKeepsTheSecret(t *testing.T) {
	other := newElsewhere(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.srv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(api.Close)
	c := testClient(t, api.URL)

	_, err := c.ListPage(t.Context(), wire.ListRequest{})
	assert.NotContains(t, other.requests(), testSecret, "the secret reached another host")
	assert.Empty(t, other.requests(), "nothing is sent to the redirect's target")
	require.Error(t, err, "list through a redirected access_token")
	assert.ErrorIs(t, err, ErrRedirectRefused)
	assert.Contains(t, err.Error(), "credentials are sent to http://"+api.Listener.Addr().String()+" only")
}

// Authorization survives a redirect to another port or a subdomain in
// net/http; an API call must not be redirected there at all.
func TestAPIRedirectToAnotherHostKeepsTheToken(t *testing.T) {
	other := newElsewhere(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wire.PathAccessToken {
			writeEnv(w, 0, "ok", map[string]any{"accessToken": "tok-secret-bearer", "expiredAt": "2099-01-01T00:00:00+08:00"})
			return
		}
		http.Redirect(w, r, other.srv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(api.Close)
	c := testClient(t, api.URL)

	_, err := c.ListPage(t.Context(), wire.ListRequest{})
	assert.NotContains(t, other.requests(), "tok-secret-bearer", "the token reached another host")
	assert.Empty(t, other.requests())
	require.Error(t, err, "list redirected to another host")
	assert.ErrorIs(t, err, ErrRedirectRefused)
	assert.False(t, IsTemporary(err), "a refused redirect is not retried: %v", err)
}

// A redirect within the API base is followed.
func TestAPIRedirectWithinTheBaseIsFollowed(t *testing.T) {
	f := newFakePan(t)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/old") {
			http.Redirect(w, r, strings.TrimPrefix(r.URL.Path, "/old"), http.StatusTemporaryRedirect)
			return
		}
		f.srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	c := testClient(t, front.URL+"/old")
	_, err := c.ListPage(t.Context(), wire.ListRequest{})
	require.NoError(t, err, "list redirected within the API base")
}

// Public download links carry no credentials: their redirects to another
// host are followed as before.
func TestDownloadRedirectToAnotherHostIsFollowed(t *testing.T) {
	data := []byte("public content")
	d := newDLServer(t, data)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, d.srv.URL+"/f", http.StatusFound)
	}))
	t.Cleanup(front.Close)
	c := testClient(t, "http://127.0.0.1:1")
	got := make([]byte, len(data))
	n, err := c.NewReader(front.URL+"/link", int64(len(data))).ReadAt(got, 0)
	require.NoError(t, err, "download through a redirect")
	assert.Equal(t, string(data), string(got[:n]))
}
