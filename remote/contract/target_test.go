package contract

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/emulator"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// Environment of a real-service run (see doc.go).
const (
	envClientID = "PAN123_CLIENT_ID"
	envSecret   = "PAN123_CLIENT_SECRET"
	envBase     = "PAN123_API_BASE"
	envStateDir = "PAN123_STATE_DIR"
	envBig      = "PAN123_CONTRACT_BIG"
)

// The emulator targets' defaults.
const (
	emuID        = "contract-id"
	emuSecret    = "contract-secret"
	emuSlice     = 64 << 10
	emuAsync     = 300 * time.Millisecond
	emuPoll      = 100 * time.Millisecond
	realPoll     = time.Second // the documented minimum between upload_async_result polls
	bigSliceSize = 8 << 20     // above this a multi-slice upload needs PAN123_CONTRACT_BIG
)

// target is one service the suite runs against, with what it can do.
type target struct {
	name string
	c    *remote.Client
	cfg  remote.Config    // c's configuration, to build more clients
	emu  *emulator.Server // nil for the real service
	// canConfigure: the service can be started with a short token TTL, a
	// tiny slice size, QPS limits, a short presign TTL (the emulator only).
	canConfigure bool
	// poll is the pause between upload_async_result polls.
	poll time.Duration
	// pace is slept before and after each raw request, to keep raw calls
	// (which no client limiter sees) within the real service's rate limits.
	pace time.Duration
}

// realEnabled tells whether the real-service subtests run.
func realEnabled() bool { return os.Getenv(envClientID) != "" && os.Getenv(envSecret) != "" }

// parallel runs the calling top-level test in parallel with the others,
// unless the real service is a target: then tests run one at a time so that
// together they keep to its rate limits.
func parallel(t *testing.T) {
	if !realEnabled() {
		t.Parallel()
	}
}

// run runs f as subtest "emulator", against a fresh default emulator, and
// as subtest "real", against the real service (skipped without
// credentials).
func run(t *testing.T, f func(t *testing.T, tg *target)) {
	t.Helper()
	t.Run("emulator", func(t *testing.T) { f(t, newTarget(t, "emulator")) })
	t.Run("real", func(t *testing.T) { f(t, newTarget(t, "real")) })
}

// newTarget returns the named target ("emulator" or "real"), skipping t
// when the real service has no credentials in the environment.
func newTarget(t *testing.T, kind string) *target {
	t.Helper()
	if kind == "emulator" {
		return newEmulatorTarget(t, emulator.Config{}, nil)
	}
	if !realEnabled() {
		t.Skipf("real service: set %s and %s to run against it (%s optional)", envClientID, envSecret, envBase)
	}
	return realTarget(t)
}

// The real service is reached through one shared client, so that the whole
// run fetches a single token and shares one set of rate limiters.
var (
	realOnce   sync.Once
	realShared *target
	realErr    error
	realTemp   string
)

func realTarget(t *testing.T) *target {
	t.Helper()
	realOnce.Do(func() {
		dir := os.Getenv(envStateDir)
		if dir == "" {
			if dir, realErr = os.MkdirTemp("", "pan123-contract-state-*"); realErr != nil {
				return
			}
			realTemp = dir
		}
		cfg := remote.Config{BaseURL: os.Getenv(envBase), ClientID: os.Getenv(envClientID),
			ClientSecret: os.Getenv(envSecret), StateDir: dir, AsyncTimeout: 10 * time.Minute}
		c, err := remote.New(cfg)
		realErr = err
		realShared = &target{name: "real", c: c, cfg: cfg, poll: realPoll, pace: time.Second}
	})
	require.NoError(t, realErr)
	return realShared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if realTemp != "" {
		os.RemoveAll(realTemp)
	}
	os.Exit(code)
}

// unlimited are client limits that switch every client-side limiter off:
// the default emulator enforces none, and the suite should be quick.
func unlimited() map[string]float64 {
	m := map[string]float64{}
	for k := range remote.DefaultLimits {
		m[k] = 0
	}
	return m
}

// newEmulatorTarget starts an emulator with ecfg over the suite's defaults
// (64 KiB slices, 300 ms async delay, fixed credentials) and a client for
// it (no client-side limits, quick retries, 100 ms async polls); mod, if
// set, adjusts the client's configuration.
func newEmulatorTarget(t *testing.T, ecfg emulator.Config, mod func(*remote.Config)) *target {
	t.Helper()
	if ecfg.SliceSize == 0 {
		ecfg.SliceSize = emuSlice
	}
	if ecfg.AsyncDelay == 0 {
		ecfg.AsyncDelay = emuAsync
	}
	ecfg.ClientID, ecfg.ClientSecret = emuID, emuSecret
	s, err := emulator.New(ecfg)
	require.NoError(t, err)
	require.NoError(t, s.Start("127.0.0.1:0"))
	t.Cleanup(func() { s.Close() })
	cfg := remote.Config{
		BaseURL: s.URL(), ClientID: emuID, ClientSecret: emuSecret, StateDir: t.TempDir(),
		Limits: unlimited(), AsyncPollInterval: emuPoll, AsyncTimeout: 30 * time.Second,
		Retry: backoff.Policy{Attempts: 8, Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond, Jitter: true},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := remote.New(cfg)
	require.NoError(t, err)
	// Runs after the test's folder cleanups: the suite must leave nothing
	// behind, since on a real account it must not either.
	t.Cleanup(func() {
		ctx, cancel := bgContext()
		defer cancel()
		left, err := c.ListAll(ctx, "")
		if err != nil {
			t.Errorf("listing the root after the test: %v", err)
		}
		for _, e := range left {
			t.Errorf("left behind in the root: %q (%s)", e.Filename, e.FileID)
		}
	})
	return &target{name: "emulator", c: c, cfg: cfg, emu: s, canConfigure: true, poll: emuPoll}
}

// configured is a target started with ecfg (see newEmulatorTarget); it
// skips t when tg cannot be configured.
func (tg *target) configured(t *testing.T, ecfg emulator.Config, mod func(*remote.Config)) *target {
	t.Helper()
	if !tg.canConfigure {
		t.Skipf("%s: the service cannot be started with a chosen configuration", tg.name)
	}
	return newEmulatorTarget(t, ecfg, mod)
}

// needEmulator skips t unless tg is the emulator; why says what the test
// needs of it.
func (tg *target) needEmulator(t *testing.T, why string) {
	t.Helper()
	if tg.emu == nil {
		t.Skipf("%s: needs the emulator (%s)", tg.name, why)
	}
}

// newClient builds another client for the target from its configuration,
// adjusted by mod.
func (tg *target) newClient(t *testing.T, mod func(*remote.Config)) *remote.Client {
	t.Helper()
	cfg := tg.cfg
	if mod != nil {
		mod(&cfg)
	}
	c, err := remote.New(cfg)
	require.NoError(t, err)
	return c
}

// calls is the emulator's count of calls to an API path (POST unless the
// path is one of the GET calls).
func (tg *target) calls(path string) int64 {
	method := http.MethodPost
	switch path {
	case wire.PathDetail, wire.PathCopyProcess, wire.PathCopyFail, wire.PathOfflineProcess:
		method = http.MethodGet
	}
	return tg.emu.Stats().Calls[method+" "+path]
}

// puts is the emulator's count of slice PUTs.
func (tg *target) puts() int64 { return tg.emu.Stats().Calls["PUT /__upload"] }

// bgContext is for cleanups, which run after t.Context() has ended.
func bgContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Minute)
}

// folder makes a folder of a unique name under the root for t and deletes
// it, with everything in it, when t ends.
// sendSlices sends the slices numbered nos (from 1) of b, cut at slice
// bytes, each to a presigned URL fetched just before its PUT.
func (tg *target) sendSlices(t *testing.T, preuploadID string, b []byte, slice int64, nos ...int) {
	t.Helper()
	for _, no := range nos {
		u, err := tg.c.GetUploadURL(t.Context(), preuploadID, no)
		require.NoError(t, err, "get_upload_url %d", no)
		off := int64(no-1) * slice
		n := min(slice, int64(len(b))-off)
		require.NoError(t, tg.c.PutSlice(t.Context(), u, bytes.NewReader(b[off:off+n]), n), "PUT slice %d", no)
	}
}

func (tg *target) folder(t *testing.T) string {
	t.Helper()
	name := "pan123fs-contract-" + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + "-" + randHex(4)
	id, err := tg.c.Mkdir(t.Context(), "", name)
	require.NoError(t, err, "mkdir %s", name)
	require.NotEmpty(t, id)
	t.Cleanup(func() {
		ctx, cancel := bgContext()
		defer cancel()
		if err := tg.removeTree(ctx, id); err != nil {
			t.Errorf("cleanup: deleting test folder %s (%s): %v", name, id, err)
		}
	})
	return id
}

// removeTree deletes a folder with everything below it in as few calls as
// it can: whether the real service deletes a folder's contents with it is
// unknown, so every entry is named, children before their folders.
func (tg *target) removeTree(ctx context.Context, id string) error {
	ids, err := tg.below(ctx, id)
	if errors.Is(err, remote.ErrNotFound) {
		return nil // the test deleted it
	}
	if err != nil {
		return err
	}
	return tg.c.Delete(ctx, append(ids, id))
}

// below lists every entry under folder, depth first, children before their
// folders.
func (tg *target) below(ctx context.Context, folder string) ([]string, error) {
	kids, err := tg.c.ListAll(ctx, folder)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range kids {
		if e.IsDir() {
			sub, err := tg.below(ctx, string(e.FileID))
			if err != nil {
				return nil, err
			}
			ids = append(ids, sub...)
		}
		ids = append(ids, string(e.FileID))
	}
	return ids, nil
}

// upload uploads b as name into parent with the high-level call.
func (tg *target) upload(t *testing.T, parent, name string, b []byte) string {
	t.Helper()
	res, err := tg.c.Upload(t.Context(), remote.UploadInput{ParentID: parent, Name: name,
		Src: bytes.NewReader(b), Size: int64(len(b)), MD5: md5hex(b)})
	require.NoError(t, err, "upload %s", name)
	require.NotEmpty(t, res.FileID, "upload %s", name)
	return res.FileID
}

// fetch reads a file back: its detail, and its bytes through its download
// link.
func (tg *target) fetch(t *testing.T, id string) (*wire.Entry, []byte) {
	t.Helper()
	ctx := t.Context()
	e, err := tg.c.Detail(ctx, id)
	require.NoError(t, err, "detail %s", id)
	require.NotEmpty(t, e.DownloadURL, "detail %s: no downloadURL", id)
	rc, err := tg.c.NewReader(e.DownloadURL, e.Size).Open(ctx, 0)
	require.NoError(t, err, "download %s", id)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err, "download %s", id)
	return e, b
}

// requireFile checks that file id is called name, lies in parent and holds
// want, by detail and by download.
func (tg *target) requireFile(t *testing.T, id, parent, name string, want []byte) {
	t.Helper()
	e, got := tg.fetch(t, id)
	require.Equal(t, name, e.Filename, "detail %s: filename", id)
	require.Equal(t, wire.EntryFile, e.Type, "detail %s: type", id)
	require.Equal(t, int64(len(want)), e.Size, "detail %s: size", id)
	require.Equal(t, md5hex(want), strings.ToLower(e.Etag), "detail %s: etag", id)
	require.Equal(t, parent, string(e.ParentFileID), "detail %s: parentFileId", id)
	require.Equal(t, md5hex(want), md5hex(got), "download of %s: md5 of %d bytes read back", id, len(got))
}

// names lists a folder and returns its entries' names in listing order.
func (tg *target) names(t *testing.T, folder string) []string {
	t.Helper()
	all, err := tg.c.ListAll(t.Context(), folder)
	require.NoError(t, err, "list %s", folder)
	out := []string{}
	for _, e := range all {
		out = append(out, e.Filename)
	}
	return out
}

// sliceSize asks the service which slice size it hands out, by opening an
// upload of a small random file in folder (and never finishing it).
func (tg *target) sliceSize(t *testing.T, folder string) int64 {
	t.Helper()
	b := randBytes(16)
	cr, err := tg.c.Create(t.Context(), folder, "probe-"+randHex(4)+".bin", md5hex(b), int64(len(b)))
	require.NoError(t, err, "create (probe)")
	require.False(t, cr.Reuse, "create of random bytes answered reuse")
	require.Positive(t, cr.SliceSize, "create answered no sliceSize")
	return cr.SliceSize
}

// needSmallSlices skips t when multi-slice uploads would be too heavy.
func needSmallSlices(t *testing.T, tg *target, slice int64) {
	t.Helper()
	if slice > bigSliceSize && os.Getenv(envBig) == "" {
		t.Skipf("%s: the slice size is %d bytes, so a multi-slice upload weighs over %d MiB; set %s=1 to allow it",
			tg.name, slice, 2*slice>>20, envBig)
	}
}

// token is the access token the target's client saved in its StateDir,
// after making sure it has one.
func (tg *target) token(t *testing.T) string {
	t.Helper()
	_, err := tg.c.ListPage(t.Context(), wire.ListRequest{Limit: 1})
	require.NoError(t, err)
	return savedToken(t, tg.cfg.StateDir)
}

// savedToken reads the token a client saved in dir.
func savedToken(t *testing.T, dir string) string {
	t.Helper()
	tok, _ := readSaved(t, dir)
	return tok
}

// savedExpiry reads the expiry of the token a client saved in dir.
func savedExpiry(t *testing.T, dir string) time.Time {
	t.Helper()
	_, exp := readSaved(t, dir)
	return exp
}

func readSaved(t *testing.T, dir string) (string, time.Time) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, remote.TokenFile))
	require.NoError(t, err)
	var saved struct {
		AccessToken string    `json:"accessToken"`
		ExpiredAt   time.Time `json:"expiredAt"`
	}
	require.NoError(t, json.Unmarshal(b, &saved))
	require.NotEmpty(t, saved.AccessToken, "%s holds no token", remote.TokenFile)
	return saved.AccessToken, saved.ExpiredAt
}

// answer is what a raw request got.
type answer struct {
	HTTPStatus int
	Code       int
	Message    string
	Data       json.RawMessage
}

func (a answer) String() string {
	return fmt.Sprintf("HTTP %d, code %d, message %q, data %s", a.HTTPStatus, a.Code, a.Message, a.Data)
}

// raw sends one API request with a plain http.Client, bypassing every
// check of package remote: body is JSON-encoded for POST, query is used for
// GET. token "" sends no Authorization. It waits tg.pace before and after.
func (tg *target) raw(t *testing.T, token, method, path string, query url.Values, body any) answer {
	t.Helper()
	time.Sleep(tg.pace)
	defer time.Sleep(tg.pace)
	u := strings.TrimRight(tg.cfg.BaseURL, "/")
	if u == "" {
		u = remote.DefaultBaseURL
	}
	u += path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	require.NoError(t, err)
	req.Header.Set(wire.HeaderPlatform, wire.PlatformValue)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set(wire.HeaderAuth, "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	require.NoError(t, err, "%s %s", method, path)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var env wire.Envelope
	require.NoError(t, json.Unmarshal(b, &env), "%s %s: HTTP %d, body %q", method, path, resp.StatusCode, b)
	return answer{HTTPStatus: resp.StatusCode, Code: env.Code, Message: env.Message, Data: env.Data}
}

// apiCode is the body code of a failed call, or 0.
func apiCode(err error) int {
	var e *remote.APIError
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// randBytes are n random bytes: content no account has seen, so that
// create never answers reuse for it.
func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func randHex(n int) string { return hex.EncodeToString(randBytes(n)) }

// waitFor polls f every interval until it returns true or d has passed.
func waitFor(t *testing.T, d, interval time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not done after %v", what, d)
		}
		time.Sleep(interval)
	}
}
