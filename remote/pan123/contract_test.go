package pan123_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/emulator"
	"github.com/pan123fs/pan123fs/remote/pan123"
	"github.com/pan123fs/pan123fs/store"
	"github.com/pan123fs/pan123fs/store/storetest"
)

// emuSlice is the emulator's slice size: small, so that the resume cases
// upload several slices without weighing much.
const emuSlice = 64 << 10

// TestContract runs the store contract suite against the 123pan backend
// over an in-process emulator, a fresh one per case.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		s, err := emulator.New(emulator.Config{SliceSize: emuSlice, AsyncDelay: 20 * time.Millisecond, Seed: 1})
		require.NoError(t, err)
		require.NoError(t, s.Start("127.0.0.1:0"))
		t.Cleanup(func() { s.Close() })
		unlimited := map[string]float64{}
		for k := range remote.DefaultLimits {
			unlimited[k] = 0
		}
		c, err := remote.New(remote.Config{
			BaseURL: s.URL(), ClientID: "id", ClientSecret: "secret", StateDir: t.TempDir(),
			Limits: unlimited, AsyncPollInterval: 10 * time.Millisecond, AsyncTimeout: 30 * time.Second,
			Retry: backoff.Policy{Attempts: 8, Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond, Jitter: true},
		})
		require.NoError(t, err)
		return pan123.New(c, nil)
	}, storetest.Options{ResumeSize: 5*emuSlice + 1357})
}
