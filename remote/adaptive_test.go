package remote

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/pan123fs/pan123fs/remote/emulator"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// fakeClock is a clock that tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time            { return c.t }
func (c *fakeClock) add(d time.Duration)       { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock                 { return &fakeClock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)} }
func refusal(endpoint string) error            { return &APIError{Endpoint: endpoint, Code: wire.CodeTooMany} }
func held(c *fakeClock) pass                   { return pass{at: c.now(), waited: true} }
func limitOf(l *limiters, name string) float64 { return float64(l.m[name].Limit()) }

func TestAdaptiveGrowsOnlyWhenHeldBack(t *testing.T) {
	clk := newFakeClock()
	a := newAdaptive(5, clk.now)
	for range 50 {
		_, changed := a.success(clk.now(), false)
		require.False(t, changed, "a request that did not wait changed the rate")
	}
	for i := range probeFast - 1 {
		_, changed := a.success(clk.now(), true)
		require.False(t, changed, "success %d changed the rate", i+1)
	}
	qps, changed := a.success(clk.now(), true)
	require.True(t, changed)
	assert.InDelta(t, 5*growFast, qps, 1e-9, "rate after %d held-back successes", probeFast)
	// Counts alone are not enough: fastEvery must pass too.
	for range 3 * probeFast {
		_, changed = a.success(clk.now(), true)
		require.False(t, changed, "the rate grew twice within %v", fastEvery)
	}
	clk.add(fastEvery)
	qps, changed = a.success(clk.now(), true)
	require.True(t, changed)
	assert.InDelta(t, 5*growFast*growFast, qps, 1e-9)
}

func TestAdaptiveCutsOnceThenProbesSlowlyNearTheRefusedRate(t *testing.T) {
	clk := newFakeClock()
	a := newAdaptive(10, clk.now)
	qps, changed := a.refused(clk.now())
	require.True(t, changed)
	assert.InDelta(t, 10*cutFactor, qps, 1e-9, "rate after the first refusal")

	// Answers to requests sent before the cut change nothing.
	before := clk.now().Add(-time.Millisecond)
	clk.add(time.Second)
	qps, changed = a.refused(before)
	assert.False(t, changed)
	assert.InDelta(t, 7.0, qps, 1e-9)
	for range 3 * probeFast {
		_, changed = a.success(before, true)
		require.False(t, changed, "a success sent before the cut changed the rate")
	}

	// Back up fast to 0.85 × the refused rate: 7 → 7.7 → 8.47 → 8.5.
	for range 3 {
		for range probeFast {
			qps, _ = a.success(clk.now(), true)
		}
		clk.add(fastEvery)
	}
	assert.InDelta(t, nearCeiling*10, qps, 1e-9)
	// From there on only growSlow every probeSlow and slowEvery.
	for i := range probeSlow - 1 {
		_, changed = a.success(clk.now(), true)
		require.False(t, changed, "near the refused rate, success %d changed the rate", i+1)
	}
	clk.add(slowEvery)
	qps, changed = a.success(clk.now(), true)
	require.True(t, changed)
	assert.InDelta(t, nearCeiling*10*growSlow, qps, 1e-9)

	// A refusal of a request sent after the cut cuts again, and sets a
	// lower ceiling.
	clk.add(time.Millisecond)
	prev := qps
	qps, changed = a.refused(clk.now())
	require.True(t, changed)
	assert.InDelta(t, prev*cutFactor, qps, 1e-9)
	assert.InDelta(t, prev, a.snapshot().Ceiling, 1e-9)
}

func TestAdaptiveNeverBelowTheFloor(t *testing.T) {
	clk := newFakeClock()
	a := newAdaptive(1, clk.now)
	for range 30 {
		a.refused(clk.now())
		clk.add(time.Millisecond)
	}
	assert.InDelta(t, minAdaptive, a.current(), 1e-9)
}

func TestLimitersFollowTheProfileAndKeepOverrides(t *testing.T) {
	clk := newFakeClock()
	l := newLimiters(ProfileFree, map[string]float64{"mkdir": 2, "create": 3}, nil, slog.New(slog.DiscardHandler), clk.now)
	for name, want := range map[string]float64{"move": 3, "delete": 1, "list": 5, "mkdir": 2, "create": 3, "access_token": 8, "info": 10} {
		assert.InDelta(t, want*limitMargin, limitOf(l, name), 1e-9, "free %s", name)
	}
	l.setProfile(ProfileMember)
	for name, want := range map[string]float64{"move": 10, "delete": 10, "list": 10, "mkdir": 2, "create": 3, "access_token": 10, "info": 10} {
		assert.InDelta(t, want*limitMargin, limitOf(l, name), 1e-9, "member %s", name)
	}
	// An endpoint set by hand is never adapted.
	l.done("create", held(clk), refusal("create"))
	assert.InDelta(t, 3*limitMargin, limitOf(l, "create"), 1e-9, "create after a refusal")
	l.done("detail", held(clk), refusal("detail"))
	assert.InDelta(t, DefaultOtherLimit*cutFactor*limitMargin, limitOf(l, "detail"), 1e-9, "detail after a refusal")
	// Documented endpoints are not adapted either.
	l.done("move", held(clk), refusal("move"))
	assert.InDelta(t, 10*limitMargin, limitOf(l, "move"), 1e-9, "move after a refusal")
}

func TestProfileChangeKeepsALearntRate(t *testing.T) {
	clk := newFakeClock()
	l := newLimiters(ProfileFree, nil, nil, slog.New(slog.DiscardHandler), clk.now)
	for range probeFast {
		l.done("create", held(clk), nil)
	}
	assert.InDelta(t, 5*growFast*limitMargin, limitOf(l, "create"), 1e-9)
	l.done("upload_complete", held(clk), refusal("upload_complete"))
	l.setProfile(ProfileMember)
	assert.InDelta(t, 10*limitMargin, limitOf(l, "move"), 1e-9, "move follows the profile")
	assert.InDelta(t, MemberLimits["create"]*limitMargin, limitOf(l, "create"), 1e-9, "create, not learnt yet, starts again from the profile's figure")
	assert.InDelta(t, DefaultOtherLimit*cutFactor*limitMargin, limitOf(l, "upload_complete"), 1e-9, "a learnt rate stays")
}

func TestLearntRatesSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock()
	log := slog.New(slog.DiscardHandler)
	store := newRateStore(dir, "id-1", "http://emu", clk.now, log)
	l := newLimiters(ProfileFree, nil, store, log, clk.now)
	l.done("create", held(clk), refusal("create"))
	clk.add(time.Second)
	for range probeFast {
		l.done("create", held(clk), nil)
	}
	want := 5 * cutFactor * growFast
	require.InDelta(t, want*limitMargin, limitOf(l, "create"), 1e-9)
	// That increase came within saveEvery of the cut's save: it is kept
	// in memory only, until the next one.
	l1 := newLimiters(ProfileFree, nil, newRateStore(dir, "id-1", "http://emu", clk.now, log), log, clk.now)
	assert.InDelta(t, 5*cutFactor*limitMargin, limitOf(l1, "create"), 1e-9, "create after a restart, before saveEvery")
	clk.add(saveEvery)
	for range probeFast {
		l.done("create", held(clk), nil)
	}
	want *= growFast

	l2 := newLimiters(ProfileFree, nil, newRateStore(dir, "id-1", "http://emu", clk.now, log), log, clk.now)
	assert.InDelta(t, want*limitMargin, limitOf(l2, "create"), 1e-9, "create after a restart")
	assert.InDelta(t, 5.0, l2.adapt["create"].snapshot().Ceiling, 1e-9, "the refused rate after a restart")
	// A learnt rate is not undone by the profile.
	l2.setProfile(ProfileMember)
	assert.InDelta(t, want*limitMargin, limitOf(l2, "create"), 1e-9, "create after a restart and a profile change")

	// Another client ID or service does not take it up.
	for _, s := range []*rateStore{newRateStore(dir, "id-2", "http://emu", clk.now, log), newRateStore(dir, "id-1", "http://other", clk.now, log)} {
		l3 := newLimiters(ProfileFree, nil, s, log, clk.now)
		assert.InDelta(t, 5*limitMargin, limitOf(l3, "create"), 1e-9, "create for %s", s.path)
	}
	files, err := filepath.Glob(filepath.Join(dir, "rates-*.json"))
	require.NoError(t, err)
	assert.Len(t, files, 1)
	require.NoError(t, os.WriteFile(files[0], []byte("{not json"), 0o600))
	l4 := newLimiters(ProfileFree, nil, newRateStore(dir, "id-1", "http://emu", clk.now, log), log, clk.now)
	assert.InDelta(t, 5*limitMargin, limitOf(l4, "create"), 1e-9, "create after a malformed file")
}

// TestAdaptiveCreateFindsTheEmulatorsLimitWithFewRefusals runs a few
// hundred creates from eight goroutines against an emulator that allows 20
// per second (burst 20) without telling the client, which starts from 5.
// The emulator's burst hides the limit until it is spent, so the first
// refusal comes above 20, and a refusal or two more while the client comes
// down to it: at most 4 in the 400 calls, 1 %, when a controller that keeps
// probing fast or cuts once per refusal provokes dozens.
func TestAdaptiveCreateFindsTheEmulatorsLimitWithFewRefusals(t *testing.T) {
	const limit, calls, workers = 20, 400, 8
	s, err := emulator.New(emulator.Config{ClientID: "emu-id", ClientSecret: "emu-secret", QPS: map[string]float64{"create": limit}})
	require.NoError(t, err)
	require.NoError(t, s.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = s.Close() })
	c, err := New(Config{BaseURL: s.URL(), ClientID: "emu-id", ClientSecret: "emu-secret", StateDir: t.TempDir(), RateProfile: ProfileMember})
	require.NoError(t, err)

	ctx := t.Context()
	b := []byte("the same bytes every time")
	m := md5.Sum(b)
	etag := hex.EncodeToString(m[:])
	_, err = c.Upload(ctx, UploadInput{Name: "seed", Src: bytes.NewReader(b), Size: int64(len(b)), MD5: etag})
	require.NoError(t, err)
	before := s.Stats()

	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, calls)
	for range workers {
		wg.Go(func() {
			for i := range next {
				res, err := c.Create(ctx, "", fmt.Sprintf("f%03d", i), etag, int64(len(b)))
				if err == nil && !res.Reuse {
					err = fmt.Errorf("create f%03d: not a reuse", i)
				}
				errs <- err
			}
		})
	}
	for i := range calls {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	after := s.Stats()
	refused := after.RateLimited - before.RateLimited
	made := after.Calls["POST "+wire.PathCreate] - before.Calls["POST "+wire.PathCreate]
	t.Logf("%d create calls, %d refused, rate now %.1f/s", made, refused, c.limits.adapt["create"].current())
	assert.LessOrEqual(t, refused, int64(4), "refusals in %d create calls", made)
	// It came up to the limit (the last refused rate, or the rate now if
	// nothing was refused), and did not collapse (the run may end just
	// after a cut, at 0.7 × its rate).
	learnt := c.limits.adapt["create"].snapshot()
	assert.Greater(t, max(learnt.QPS, learnt.Ceiling), 0.8*limit, "learnt create rate %+v", learnt)
	assert.Greater(t, learnt.QPS, 0.5*limit, "create rate now")
	assert.Equal(t, rate.Limit(c.limits.adapt["create"].current()*limitMargin), c.limits.m["create"].Limit())
}
