package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/emulator"
)

func TestRateProfileFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want remote.RateProfile
		auto bool
		bad  bool
	}{
		{in: "auto", want: remote.ProfileFree, auto: true},
		{in: "free", want: remote.ProfileFree},
		{in: "member", want: remote.ProfileMember},
		{in: "vip", bad: true},
		{in: "", bad: true},
	} {
		p, auto, err := rateProfileFlag(tc.in)
		if tc.bad {
			assert.Error(t, err, "--rate-profile %q", tc.in)
			continue
		}
		require.NoError(t, err, "--rate-profile %q", tc.in)
		assert.Equal(t, tc.want, p, "--rate-profile %q", tc.in)
		assert.Equal(t, tc.auto, auto, "--rate-profile %q: auto", tc.in)
	}
}

// recordingClient is a real client that records the profile it is moved to.
type recordingClient struct {
	*remote.Client
	set []remote.RateProfile
}

func (r *recordingClient) SetRateProfile(p remote.RateProfile) {
	r.set = append(r.set, p)
	r.Client.SetRateProfile(p)
}

// TestRateProfileAutoReadsTheAccount: --rate-profile auto moves the client
// to the member rates for a member account (vip: true, asked through the
// client), keeps the free ones for a free account, and keeps them with a
// warning when the account cannot be asked.
func TestRateProfileAutoReadsTheAccount(t *testing.T) {
	for _, tc := range []struct {
		name   string
		member bool
		down   bool
		want   remote.RateProfile
		set    []remote.RateProfile
		logged string
	}{
		{name: "member", member: true, want: remote.ProfileMember, set: []remote.RateProfile{remote.ProfileMember}, logged: "member account"},
		{name: "free", want: remote.ProfileFree, logged: "free account"},
		{name: "unreachable", down: true, want: remote.ProfileFree, logged: "level=WARN msg=\"account type unknown: keeping to the free account's rates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := emulator.New(emulator.Config{ClientID: "id", ClientSecret: "secret", Account: emulator.AccountConfig{Member: tc.member}})
			require.NoError(t, err)
			require.NoError(t, s.Start("127.0.0.1:0"))
			url := s.URL()
			if tc.down {
				require.NoError(t, s.Close())
			} else {
				t.Cleanup(func() { _ = s.Close() })
			}
			rc, err := remote.New(remote.Config{BaseURL: url, ClientID: "id", ClientSecret: "secret",
				Retry: backoff.Policy{Attempts: 2, Initial: time.Millisecond, Max: 10 * time.Second, Jitter: true}})
			require.NoError(t, err)
			rec := &recordingClient{Client: rc}
			var logs bytes.Buffer
			got := detectRateProfile(context.Background(), rec, 5*time.Second, slog.New(slog.NewTextHandler(&logs, nil)))
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.set, rec.set, "profiles set on the client")
			assert.Contains(t, logs.String(), tc.logged)
		})
	}
}

// failingAccount never answers within the timeout.
type failingAccount struct{ set int }

func (f *failingAccount) Account(ctx context.Context) (remote.Account, error) {
	<-ctx.Done()
	return remote.Account{}, errors.Join(errors.New("no answer"), ctx.Err())
}
func (f *failingAccount) SetRateProfile(remote.RateProfile) { f.set++ }

func TestRateProfileAutoGivesUpAfterTheTimeout(t *testing.T) {
	f := &failingAccount{}
	got := detectRateProfile(context.Background(), f, 10*time.Millisecond, slog.New(slog.DiscardHandler))
	assert.Equal(t, remote.ProfileFree, got)
	assert.Zero(t, f.set, "SetRateProfile calls")
}
