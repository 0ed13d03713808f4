package remote

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu         sync.Mutex
	requests   []string // "endpoint result"
	retries    []string
	renewals   int
	downloaded int64
}

func (r *recorder) Request(endpoint, result string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, endpoint+" "+result)
}

func (r *recorder) Retry(endpoint string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = append(r.retries, endpoint)
}

func (r *recorder) TokenRenewed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.renewals++
}

func (r *recorder) Downloaded(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.downloaded += n
}

// TestObserverSeesRequestsRetriesTokensAndDownloads: a 429 then a success
// of user/info, and one download, are reported as they happened.
func TestObserverSeesRequestsRetriesTokensAndDownloads(t *testing.T) {
	var infoCalls atomic.Int32
	content := []byte("0123456789abcdef")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case wire.PathAccessToken:
			writeEnv(w, 0, "ok", map[string]string{"accessToken": "tok", "expiredAt": time.Now().Add(time.Hour).Format(time.RFC3339)})
		case wire.PathUserInfo:
			if infoCalls.Add(1) == 1 {
				writeEnv(w, 429, "too many requests", nil)
				return
			}
			writeEnv(w, 0, "ok", json.RawMessage(fmt.Sprintf(officialUserInfo, "0", "false", "null")))
		case "/file.jpg":
			http.ServeContent(w, r, "file.jpg", time.Time{}, bytes.NewReader(content))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	rec := &recorder{}
	c := testClient(t, srv.URL, func(cfg *Config) { cfg.Observer = rec })

	_, err := c.UserInfo(t.Context())
	require.NoError(t, err)
	buf := make([]byte, 6)
	n, err := c.NewReader(srv.URL+"/file.jpg", int64(len(content))).ReadAtContext(t.Context(), buf, 4)
	require.NoError(t, err)
	require.Equal(t, "456789", string(buf[:n]))

	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, []string{"access_token ok", "info rate_limited", "info ok", "fetch ok"}, rec.requests)
	assert.Equal(t, []string{"info"}, rec.retries)
	assert.Equal(t, 1, rec.renewals)
	assert.Equal(t, int64(6), rec.downloaded, "the bytes of the range asked for")
}

func TestResultClasses(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ResultOK},
		{&APIError{Endpoint: "list", Code: 429}, ResultRateLimited},
		{&APIError{Endpoint: "list", HTTPStatus: 401}, ResultAuth},
		{&APIError{Endpoint: "detail", Code: wire.CodeNotFound}, ResultNotFound},
		{&APIError{Endpoint: "list", HTTPStatus: 502}, ResultServer},
		{&APIError{Endpoint: "create", Code: 20103}, ResultServer},
		{&APIError{Endpoint: "create", Code: 1, Message: "bad parent"}, ResultRefused},
		{&APIError{Endpoint: "list", Message: "request failed", Err: errors.New("connection reset")}, ResultTransport},
		{&APIError{Endpoint: "list", Message: "request failed", Err: errors.New("x"), canceled: true}, ResultCanceled},
	} {
		assert.Equal(t, tc.want, Result(tc.err), "Result(%v)", tc.err)
	}
}
