package backoff

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const maxDuration = time.Duration(math.MaxInt64)

func TestDelayWithoutJitterIsTheCeiling(t *testing.T) {
	for _, tc := range []struct {
		name  string
		p     Policy
		retry int
		want  time.Duration
	}{
		{"first retry", Policy{Initial: time.Second, Max: time.Minute}, 0, time.Second},
		{"doubles", Policy{Initial: time.Second, Max: time.Minute}, 1, 2 * time.Second},
		{"doubles again", Policy{Initial: time.Second, Max: time.Minute}, 5, 32 * time.Second},
		{"capped at Max", Policy{Initial: time.Second, Max: time.Minute}, 6, time.Minute},
		{"stays at Max", Policy{Initial: time.Second, Max: time.Minute}, 1000, time.Minute},
		{"Initial above Max", Policy{Initial: time.Hour, Max: time.Minute}, 0, time.Minute},
		{"negative retry counts as 0", Policy{Initial: time.Second, Max: time.Minute}, -3, time.Second},
		{"no Initial: at once", Policy{Max: time.Minute}, 4, 0},
		{"negative Initial: at once", Policy{Initial: -time.Second, Max: time.Minute}, 4, 0},
		{"no Max: uncapped", Policy{Initial: time.Second}, 10, 1024 * time.Second},
		{"no Max: saturates at 62", Policy{Initial: 3}, 62, maxDuration},
		{"no Max: saturates at 63", Policy{Initial: 1}, 63, maxDuration},
		{"no Max: saturates far out", Policy{Initial: time.Hour}, 1 << 30, maxDuration},
		{"just below the limit", Policy{Initial: 1}, 62, 1 << 62},
		{"Max near the top", Policy{Initial: time.Millisecond, Max: maxDuration - 1}, 40, time.Millisecond << 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.p.Delay(tc.retry))
		})
	}
}

func TestDelayWithJitterStaysWithinTheCeiling(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       Policy
		retry   int
		ceiling time.Duration
	}{
		{"first retry", Policy{Initial: 100 * time.Millisecond, Max: time.Second, Jitter: true}, 0, 100 * time.Millisecond},
		{"capped", Policy{Initial: 100 * time.Millisecond, Max: time.Second, Jitter: true}, 8, time.Second},
		{"uncapped at the top", Policy{Initial: time.Hour, Jitter: true}, 100, maxDuration},
		{"no Initial", Policy{Max: time.Second, Jitter: true}, 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lowHalf, highHalf bool
			for range 1000 {
				d := tc.p.Delay(tc.retry)
				require.GreaterOrEqual(t, d, time.Duration(0))
				require.LessOrEqual(t, d, tc.ceiling)
				lowHalf = lowHalf || d <= tc.ceiling/2
				highHalf = highHalf || d >= tc.ceiling/2
			}
			assert.True(t, lowHalf && highHalf, "pauses spread over [0, ceiling]")
		})
	}
}

func TestExhausted(t *testing.T) {
	for _, tc := range []struct {
		name     string
		attempts int // Policy.Attempts
		made     int
		want     bool
	}{
		{"unbounded, none made", 0, 0, false},
		{"unbounded, many made", 0, 1 << 40, false},
		{"one in all: none made", 1, 0, false},
		{"one in all: done after the first", 1, 1, true},
		{"three: after the first", 3, 1, false},
		{"three: after the second", 3, 2, false},
		{"three: after the third", 3, 3, true},
		{"three: past them", 3, 4, true},
		{"negative counts as unbounded", -1, 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Policy{Attempts: tc.attempts}.Exhausted(tc.made))
		})
	}
}

func TestSleepWaitsOnTheClock(t *testing.T) {
	clock := clockwork.NewFakeClock()
	done := make(chan error, 1)
	go func() { done <- Sleep(t.Context(), clock, time.Minute) }()
	require.NoError(t, clock.BlockUntilContext(t.Context(), 1))
	clock.Advance(time.Minute - 1)
	select {
	case err := <-done:
		t.Fatalf("woke before its time: %v", err)
	default:
	}
	clock.Advance(1)
	assert.NoError(t, <-done)
}

func TestSleepEndsWithTheContext(t *testing.T) {
	clock := clockwork.NewFakeClock()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, clock, time.Hour) }()
	require.NoError(t, clock.BlockUntilContext(t.Context(), 1))
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

func TestSleepWithoutWaiting(t *testing.T) {
	clock := clockwork.NewFakeClock()
	assert.NoError(t, Sleep(t.Context(), clock, 0))
	assert.NoError(t, Sleep(t.Context(), clock, -time.Second))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, Sleep(ctx, clock, time.Hour), context.Canceled)
	assert.ErrorIs(t, Sleep(ctx, clock, 0), context.Canceled)
	assert.NoError(t, Sleep(t.Context(), nil, time.Millisecond), "nil: the real clock")
}
