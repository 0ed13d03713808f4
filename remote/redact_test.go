package remote_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/emulator"
)

// logBuffer collects every log line, from any goroutine.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// signatures records the query values of every slice PUT: the signatures
// of the presigned URLs the client was handed.
type signatures struct {
	rt   http.RoundTripper
	mu   sync.Mutex
	seen map[string]bool
}

func (s *signatures) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut {
		s.mu.Lock()
		for _, vs := range req.URL.Query() {
			for _, v := range vs {
				if len(v) >= 16 {
					s.seen[v] = true
				}
			}
		}
		s.mu.Unlock()
	}
	return s.rt.RoundTrip(req)
}

// A run through resets and 5xx answers, logged at debug level by client
// and emulator alike, never writes a slice signature, the token or the
// client secret.
func TestFaultyRunLogsNoSecrets(t *testing.T) {
	const id, secret = "log-id", "log-secret-never-written-5e2c"
	var logs logBuffer
	log := logs.logger()
	emu, err := emulator.New(emulator.Config{
		SliceSize: emuSlice, AsyncDelay: emulator.AsyncNow, ClientID: id, ClientSecret: secret, Seed: 5,
		Faults: emulator.Faults{P5xx: 0.15, Reset: 0.25}, Logger: log.With("component", "emulator"),
	})
	require.NoError(t, err)
	require.NoError(t, emu.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = emu.Close() })

	sigs := &signatures{rt: http.DefaultTransport, seen: map[string]bool{}}
	state := t.TempDir()
	limits := map[string]float64{}
	for k := range remote.DefaultLimits {
		limits[k] = 0
	}
	c, err := remote.New(remote.Config{
		BaseURL: emu.URL(), ClientID: id, ClientSecret: secret, StateDir: state, Limits: limits,
		HTTPClient: &http.Client{Transport: sigs}, AsyncPollInterval: 5 * time.Millisecond, Logger: log,
		Retry: backoff.Policy{Attempts: 30, Initial: time.Millisecond, Max: 5 * time.Millisecond, Jitter: true},
	})
	require.NoError(t, err)
	for i := range 4 {
		b := data(5*emuSlice+100, byte(i))
		res, err := c.Upload(t.Context(), remote.UploadInput{Name: fmt.Sprintf("f%d.bin", i), Src: bytes.NewReader(b), Size: int64(len(b)), MD5: sum(b)})
		require.NoError(t, err, "upload %d", i)
		e, err := c.Detail(t.Context(), res.FileID)
		require.NoError(t, err)
		got, err := io.ReadAll(io.NewSectionReader(c.NewReader(e.DownloadURL, e.Size), 0, e.Size))
		require.NoError(t, err)
		assert.Equal(t, sum(b), sum(got), "file %d read back", i)
	}

	text := logs.String()
	require.Contains(t, text, "123pan: slice retry", "the run had failed slice PUTs")
	require.Regexp(t, `call="PUT /__upload/[^"]*" kind=reset`, text, "the run had slice PUTs reset")
	saved, err := os.ReadFile(filepath.Join(state, remote.TokenFile))
	require.NoError(t, err)
	var tok struct{ AccessToken string }
	require.NoError(t, json.Unmarshal(saved, &tok))
	require.NotEmpty(t, tok.AccessToken, "the saved token")
	notLogged(t, text, tok.AccessToken, "the access token")
	notLogged(t, text, secret, "the client secret")
	sigs.mu.Lock()
	defer sigs.mu.Unlock()
	require.NotEmpty(t, sigs.seen)
	for s := range sigs.seen {
		notLogged(t, text, s, "a slice signature")
	}
}

// notLogged fails the test with the first log line that shows secret.
func notLogged(t *testing.T, logs, secret, what string) {
	t.Helper()
	for line := range strings.Lines(logs) {
		if strings.Contains(line, secret) {
			t.Errorf("%s is in the log: %s", what, line)
			return
		}
	}
}

// A download link's query (an auth key) shows neither in the retry log
// lines nor in the error a failed download returns.
func TestDownloadErrorsHideTheLinkQuery(t *testing.T) {
	const key = "1700000000-0-0-8c2b6a1f0e9d4c3b"
	var resets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if resets.Add(1) <= 2 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		http.Error(w, "auth_key "+r.URL.Query().Get("auth_key")+" refused", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	var logs logBuffer
	c, err := remote.New(remote.Config{BaseURL: "http://127.0.0.1:1", Logger: logs.logger(),
		Retry: backoff.Policy{Attempts: 5, Initial: time.Millisecond, Max: time.Millisecond, Jitter: true}})
	require.NoError(t, err)

	_, err = c.NewReader(srv.URL+"/a.png?auth_key="+key, 10).ReadAt(make([]byte, 10), 0)
	require.Error(t, err, "download of a link that is reset, then refused")
	assert.Contains(t, err.Error(), "HTTP 403")
	assert.NotContains(t, err.Error(), key, "the error shows the auth key")
	text := logs.String()
	require.Contains(t, text, "123pan: download retry", "the resets were retried")
	assert.Contains(t, text, "/a.png?[REDACTED]", "the log names the link without its query")
	notLogged(t, text, key, "the auth key")
}
