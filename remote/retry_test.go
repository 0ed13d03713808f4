package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// failFirst makes the first n calls of endpoint fail with fail.
func failFirst(f *fakePan, endpoint string, n int, fail func(w http.ResponseWriter)) {
	var seen atomic.Int32
	f.before = func(name string, w http.ResponseWriter, r *http.Request) bool {
		if name != endpoint || int(seen.Add(1)) > n {
			return false
		}
		fail(w)
		return true
	}
}

func TestRetryTemporaryFailures(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter){
		"429 body": func(w http.ResponseWriter) { writeEnv(w, 429, "请求太频繁", nil) },
		"429 http": func(w http.ResponseWriter) { w.WriteHeader(429) },
		"502":      func(w http.ResponseWriter) { http.Error(w, "<html>bad gateway</html>", 502) },
		"reset":    resetConn,
		"20103":    func(w http.ResponseWriter) { writeEnv(w, 20103, "文件正在校验中", nil) },
		"200 junk": func(w http.ResponseWriter) { _, _ = w.Write([]byte("<html>proxy</html>")) },
		"code 5xx": func(w http.ResponseWriter) { writeEnv(w, 503, "busy", nil) },
		"truncated": func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "100")
			_, _ = w.Write([]byte(`{"code":0`))
		},
	}
	for name, fail := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFakePan(t)
			c := testClient(t, f.srv.URL)
			failFirst(f, "list", 3, fail)
			page, err := c.ListPage(t.Context(), wire.ListRequest{})
			require.NoError(t, err)
			assert.Equal(t, wire.ID(wire.ListEnd), page.LastFileID)
			assert.Equal(t, 4, f.count("list"))
		})
	}
}

func TestRetryBounded(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	failFirst(f, "list", 1000, func(w http.ResponseWriter) { http.Error(w, "down", 503) })
	_, err := c.ListPage(t.Context(), wire.ListRequest{})
	require.Error(t, err)
	assert.Equal(t, fastRetry.Attempts, f.count("list"))
	var e *APIError
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 503, e.HTTPStatus)
}

// A zero Config.Retry is DefaultRetry; any other policy is used as it is.
func TestRetryPolicyFromConfig(t *testing.T) {
	c := testClient(t, "http://127.0.0.1:1", func(cfg *Config) { cfg.Retry = backoff.Policy{} })
	assert.Equal(t, DefaultRetry, c.policy)

	f := newFakePan(t)
	c = testClient(t, f.srv.URL, func(cfg *Config) { cfg.Retry = backoff.Policy{Attempts: 2} })
	assert.Equal(t, backoff.Policy{Attempts: 2}, c.policy, "no defaults mixed in")
	failFirst(f, "list", 1000, func(w http.ResponseWriter) { http.Error(w, "down", 503) })
	_, err := c.ListPage(t.Context(), wire.ListRequest{})
	require.Error(t, err)
	assert.Equal(t, 2, f.count("list"), "two attempts, no pause between them")
}

// The 123pan rules on top of the policy's delay: a 20103 waits at least
// 5·Initial and a Retry-After is honoured, neither beyond Max.
func TestRetryDelay(t *testing.T) {
	verifying := &APIError{Endpoint: "upload_complete", Code: wire.CodeVerifying, Message: "文件正在校验中"}
	unavailable := &APIError{Endpoint: "list", HTTPStatus: 503}
	after := func(d time.Duration) error { return &APIError{Endpoint: "list", HTTPStatus: 429, retryAfter: d} }
	for _, tc := range []struct {
		name  string
		p     backoff.Policy
		retry int
		err   error
		want  time.Duration
	}{
		{"the policy's delay", backoff.Policy{Initial: time.Second, Max: 10 * time.Second}, 2, unavailable, 4 * time.Second},
		{"20103: 5·Initial", backoff.Policy{Initial: 200 * time.Millisecond, Max: 10 * time.Second}, 0, verifying, time.Second},
		{"20103 wrapped", backoff.Policy{Initial: 200 * time.Millisecond, Max: 10 * time.Second}, 0, fmt.Errorf("completing: %w", verifying), time.Second},
		{"20103: the policy's delay when longer", backoff.Policy{Initial: 200 * time.Millisecond, Max: 10 * time.Second}, 4, verifying, 3200 * time.Millisecond},
		{"20103: not beyond Max", backoff.Policy{Initial: 200 * time.Millisecond, Max: 500 * time.Millisecond}, 0, verifying, 500 * time.Millisecond},
		{"Retry-After", backoff.Policy{Initial: time.Millisecond, Max: 10 * time.Second}, 0, after(3 * time.Second), 3 * time.Second},
		{"Retry-After: not beyond Max", backoff.Policy{Initial: time.Millisecond, Max: 10 * time.Second}, 0, after(30 * time.Second), 10 * time.Second},
		{"Retry-After: no Max", backoff.Policy{Initial: time.Millisecond}, 0, after(30 * time.Second), 30 * time.Second},
		{"not an API error", backoff.Policy{Initial: time.Second, Max: 10 * time.Second}, 0, io.ErrUnexpectedEOF, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, retryDelay(tc.p, tc.retry, tc.err))
		})
	}
	jittered := backoff.Policy{Initial: 200 * time.Millisecond, Max: 10 * time.Second, Jitter: true}
	for range 100 {
		require.GreaterOrEqual(t, retryDelay(jittered, 0, verifying), time.Second, "with jitter too")
	}
}

// Retry pauses wait on Config.Clock.
func TestRetryPausesOnTheConfiguredClock(t *testing.T) {
	f := newFakePan(t)
	clock := clockwork.NewFakeClock()
	c := testClient(t, f.srv.URL, func(cfg *Config) {
		cfg.Clock = clock
		cfg.Retry = backoff.Policy{Attempts: 3, Initial: time.Hour, Max: time.Hour}
	})
	failFirst(f, "list", 1, func(w http.ResponseWriter) { writeEnv(w, 429, "slow down", nil) })
	done := make(chan error, 1)
	go func() {
		_, err := c.ListPage(t.Context(), wire.ListRequest{})
		done <- err
	}()
	require.NoError(t, clock.BlockUntilContext(t.Context(), 1), "the pause after the 429")
	assert.Equal(t, 1, f.count("list"))
	clock.Advance(time.Hour)
	require.NoError(t, <-done)
	assert.Equal(t, 2, f.count("list"))
}

func TestDefiniteErrorsNotRetried(t *testing.T) {
	cases := map[string]struct {
		code int
		msg  string
		is   error
	}{
		"not found":  {5066, "文件不存在", ErrNotFound},
		"clash":      {1, "当前目录有重名文件", ErrNameClash},
		"validation": {1, "参数错误", nil},
		"quota":      {5113, "流量超限", ErrQuota},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFakePan(t)
			c := testClient(t, f.srv.URL)
			failFirst(f, "mkdir", 1000, func(w http.ResponseWriter) { writeEnv(w, tc.code, tc.msg, nil) })
			_, err := c.Mkdir(t.Context(), "", "dir")
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Equal(t, 1, f.count("mkdir"))
			assert.Equal(t, 0, f.count("list"), "a definite answer needs no check")
		})
	}
}

func TestRetryStopsOnContextCancel(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL, func(cfg *Config) {
		cfg.Retry = backoff.Policy{Attempts: 1 << 20, Initial: 5 * time.Millisecond, Max: 5 * time.Millisecond, Jitter: true}
	})
	failFirst(f, "list", 1<<30, func(w http.ResponseWriter) { writeEnv(w, 429, "slow down", nil) })
	ctx, cancel := context.WithTimeout(t.Context(), 80*time.Millisecond)
	defer cancel()
	_, err := c.ListPage(ctx, wire.ListRequest{})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, IsTemporary(err), "the caller gave up")
	// A request sent just before the cancellation may reach the server just
	// after ListPage returned; let it land, then watch for new ones (the
	// retry pause is 5 ms, so a loop that kept going would show).
	time.Sleep(30 * time.Millisecond)
	n := f.count("list")
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, n, f.count("list"), "no calls after cancellation")
}

// The context can end while a call is out and the call then fail with a
// 429: the caller must learn that it gave up, not that it may retry.
func TestRetryCanceledDuringCall(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err := c.retry(ctx, "list", true, func(context.Context) error {
		calls++
		cancel()
		return &APIError{Endpoint: "list", Code: 429, Message: "slow down"}
	})
	assert.Equal(t, 1, calls)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, IsTemporary(err))
	var e *APIError
	assert.ErrorAs(t, err, &e, "the last failure stays in the chain")
}

func TestConnectionRefusedIsNotAmbiguous(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := testClient(t, url)
	_, err := c.Detail(t.Context(), "x")
	require.Error(t, err)
	assert.True(t, IsTemporary(err))
	assert.False(t, IsAmbiguous(err))
}

// A mkdir that is applied but whose answer is lost must not make a second
// folder: the client finds the first.
func TestMkdirAppliedThenReset(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	var dropped atomic.Bool
	f.after = func(name string, r *http.Request) bool {
		return name == "mkdir" && !dropped.Swap(true)
	}
	id, err := c.Mkdir(t.Context(), "", "photos")
	require.NoError(t, err)
	assert.Equal(t, 1, f.count("mkdir"), "mkdir must not be repeated")
	assert.GreaterOrEqual(t, f.count("list"), 1)
	all, err := c.ListAll(t.Context(), "")
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, "photos", all[0].Filename)
	assert.Equal(t, string(all[0].FileID), id)
}

// A mkdir lost before it was applied is sent again once the check finds
// nothing.
func TestMkdirResetBeforeApplied(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	failFirst(f, "mkdir", 1, resetConn)
	id, err := c.Mkdir(t.Context(), "", "photos")
	require.NoError(t, err)
	assert.NotEmpty(t, id)
	assert.Equal(t, 2, f.count("mkdir"))
	all, err := c.ListAll(t.Context(), "")
	require.NoError(t, err)
	assert.Len(t, all, 1)
}

// A 5xx after mkdir was applied: the repeat would clash; the check finds it.
func TestMkdir5xxAfterApplied(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	var n atomic.Int32
	f.before = func(name string, w http.ResponseWriter, r *http.Request) bool {
		if name != "mkdir" || n.Add(1) > 1 {
			return false
		}
		f.mu.Lock()
		f.add("", "photos", wire.EntryFolder, "", 0)
		f.mu.Unlock()
		http.Error(w, "gateway timeout", 504)
		return true
	}
	id, err := c.Mkdir(t.Context(), "", "photos")
	require.NoError(t, err)
	assert.Equal(t, "id0001", id)
	assert.Equal(t, 1, f.count("mkdir"))
}

func TestMoveAppliedThenReset(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	dir, err := c.Mkdir(t.Context(), "", "d")
	require.NoError(t, err)
	f.mu.Lock()
	a := f.add("", "a.jpg", wire.EntryFile, md5hex([]byte("a")), 1)
	b := f.add("", "b.jpg", wire.EntryFile, md5hex([]byte("b")), 1)
	f.mu.Unlock()
	var dropped atomic.Bool
	f.after = func(name string, r *http.Request) bool { return name == "move" && !dropped.Swap(true) }
	require.NoError(t, c.Move(t.Context(), []string{string(a.FileID), string(b.FileID)}, dir))
	assert.Equal(t, 1, f.count("move"))
	assert.Equal(t, 2, f.count("detail"))
	kids, err := c.ListAll(t.Context(), dir)
	require.NoError(t, err)
	assert.Len(t, kids, 2)
}

func TestMovePartlyChecked(t *testing.T) {
	// The first move is lost before being applied; the check sees nothing
	// moved and sends it again.
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	f.mu.Lock()
	dir := f.add("", "d", wire.EntryFolder, "", 0)
	a := f.add("", "a.jpg", wire.EntryFile, md5hex([]byte("a")), 1)
	f.mu.Unlock()
	failFirst(f, "move", 1, resetConn)
	require.NoError(t, c.Move(t.Context(), []string{string(a.FileID)}, string(dir.FileID)))
	assert.Equal(t, 2, f.count("move"))
	e, err := c.Detail(t.Context(), string(a.FileID))
	require.NoError(t, err)
	assert.Equal(t, dir.FileID, e.ParentFileID)
}

func TestCreateReuseAppliedThenReset(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	data := []byte("hello")
	sum := md5hex(data)
	f.mu.Lock()
	f.blobs[sum] = data
	f.mu.Unlock()
	var dropped atomic.Bool
	f.after = func(name string, r *http.Request) bool { return name == "create" && !dropped.Swap(true) }
	res, err := c.Create(t.Context(), "", "h.txt", sum, int64(len(data)))
	require.NoError(t, err)
	assert.True(t, res.Reuse)
	assert.NotEmpty(t, res.FileID)
	assert.Equal(t, 1, f.count("create"))
}

func TestDeleteRetriedAfterReset(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	f.mu.Lock()
	a := f.add("", "a.jpg", wire.EntryFile, "", 0)
	f.mu.Unlock()
	var dropped atomic.Bool
	f.after = func(name string, r *http.Request) bool { return name == "delete" && !dropped.Swap(true) }
	require.NoError(t, c.Delete(t.Context(), []string{string(a.FileID)}))
	assert.Equal(t, 2, f.count("delete"))
	_, err := c.Detail(t.Context(), string(a.FileID))
	assert.ErrorIs(t, err, ErrNotFound)
}

// On a service that answers 5066 for missing IDs, a delete repeated after
// a lost answer is still a success.
func TestDeleteRetryAnsweredNotFound(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	var n atomic.Int32
	f.before = func(name string, w http.ResponseWriter, r *http.Request) bool {
		if name != "delete" {
			return false
		}
		if n.Add(1) == 1 {
			resetConn(w)
		} else {
			writeEnv(w, 5066, "文件不存在", nil)
		}
		return true
	}
	require.NoError(t, c.Delete(t.Context(), []string{"a"}))
	assert.Equal(t, 2, f.count("delete"))
	// Without an earlier ambiguous failure, 5066 is reported.
	assert.ErrorIs(t, c.Delete(t.Context(), []string{"a"}), ErrNotFound)
}

func TestNonIdempotentTaskNotRepeated(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	failFirst(f, "copy", 1000, func(w http.ResponseWriter) { http.Error(w, "oops", 500) })
	_, err := c.Copy(t.Context(), []string{"d1"}, "")
	require.Error(t, err)
	assert.True(t, IsAmbiguous(err))
	assert.Equal(t, 1, f.count("copy"))
}

// A token endpoint that keeps failing is retried by the token fetch only,
// not once more for every retry of the call that needed the token.
func TestTokenFailureNotMultiplied(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	failFirst(f, "access_token", 1000, func(w http.ResponseWriter) { http.Error(w, "down", 503) })
	_, err := c.ListPage(t.Context(), wire.ListRequest{})
	require.Error(t, err)
	assert.True(t, IsTemporary(err))
	assert.Equal(t, fastRetry.Attempts, f.count("access_token"))
	assert.Equal(t, 0, f.count("list"))
}

func TestBatches(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	ids := make([]string, 250)
	for i := range ids {
		ids[i] = "x"
	}
	require.NoError(t, c.Delete(t.Context(), ids))
	assert.Equal(t, 3, f.count("delete"))
	require.NoError(t, c.Move(t.Context(), ids[:201], "dir"))
	assert.Equal(t, 3, f.count("move"))
	require.NoError(t, c.Delete(t.Context(), nil))
	assert.Equal(t, 3, f.count("delete"))
}

func TestRateLimiterSpacesCalls(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL, func(cfg *Config) { cfg.Limits = map[string]float64{"detail": 20, "access_token": 0} })
	f.mu.Lock()
	a := f.add("", "a", wire.EntryFile, "", 0)
	f.mu.Unlock()
	t0 := time.Now()
	for range 5 {
		_, err := c.Detail(t.Context(), string(a.FileID))
		require.NoError(t, err, "calls at the configured rate all go through")
	}
	// A lower bound only: the limiter guarantees it, however slow the machine.
	assert.GreaterOrEqual(t, time.Since(t0), 4*time.Second/20, "five calls at 20/s are spaced 1/20 s apart")

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	c2 := testClient(t, f.srv.URL, func(cfg *Config) { cfg.Limits = map[string]float64{"detail": 0.01, "access_token": 0} })
	_, _ = c2.Detail(t.Context(), string(a.FileID))
	_, err := c2.Detail(ctx, string(a.FileID))
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

func TestNameValidatedBeforeSending(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	_, err := c.Mkdir(t.Context(), "", "a:b")
	assert.ErrorIs(t, err, ErrInvalidName)
	assert.ErrorIs(t, err, wire.ErrNameBadChar)
	_, err = c.Create(t.Context(), "", "   ", md5hex(nil), 0)
	assert.ErrorIs(t, err, ErrInvalidName)
	_, err = c.Create(t.Context(), "", "ok.txt", "nothex", 0)
	assert.Error(t, err)
	assert.Equal(t, 0, f.count("mkdir")+f.count("create")+f.count("access_token"))
}
