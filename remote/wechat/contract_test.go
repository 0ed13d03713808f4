package wechat_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote/wechat"
	"github.com/pan123fs/pan123fs/remote/wechat/emulator"
	"github.com/pan123fs/pan123fs/store"
	"github.com/pan123fs/pan123fs/store/storetest"
)

const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "s3cr3t"
)

// fastRetry keeps tests that meet faults quick.
var fastRetry = backoff.Policy{Attempts: 6, Initial: 2 * time.Millisecond, Max: 20 * time.Millisecond, Jitter: true}

// newEmulator serves a fresh emulator for t.
func newEmulator(t *testing.T, opt emulator.Options) (*emulator.Server, *httptest.Server) {
	t.Helper()
	if opt.AppID == "" {
		opt.AppID, opt.Secret = testAppID, testSecret
	}
	emu := emulator.New(opt)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv
}

// config is a backend's Config for the emulator at srv.
func config(t *testing.T, emu *emulator.Server, srv *httptest.Server) wechat.Config {
	return wechat.Config{APIBase: srv.URL, Env: emu.Env(), AppID: testAppID, Secret: testSecret,
		StateDir: t.TempDir(), Retry: fastRetry}
}

func newBackend(t *testing.T, cfg wechat.Config) *wechat.Backend {
	t.Helper()
	b, err := wechat.New(cfg)
	require.NoError(t, err)
	return b
}

// TestContract runs the store contract suite against the backend over an
// in-process emulator, a fresh one per case.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		emu, srv := newEmulator(t, emulator.Options{})
		return newBackend(t, config(t, emu, srv))
	})
}
