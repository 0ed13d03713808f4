package fs

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/store"
)

// lockedBuf is a log destination safe for the fetch goroutine.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestAccountViewWaitsBoundedAndFetchesOneAtATime(t *testing.T) {
	clock := clockwork.NewFakeClock()
	release := make(chan struct{})
	var fetches atomic.Int32
	want := store.Usage{Used: 10, Total: 100}
	v := newAccountView(func(ctx context.Context) (store.Usage, error) {
		fetches.Add(1)
		select {
		case <-release:
			return want, nil
		case <-ctx.Done():
			return store.Usage{}, ctx.Err()
		}
	}, 30*time.Second, clock, slog.New(slog.DiscardHandler))
	defer v.close()

	got := make(chan bool)
	go func() { _, ok := v.get(2 * time.Second); got <- ok }()
	require.NoError(t, clock.BlockUntilContext(t.Context(), 1), "the first get waits for the answer")
	clock.Advance(2 * time.Second)
	assert.False(t, <-got, "no answer within the wait: the first get gives up")
	_, ok := v.get(0)
	assert.False(t, ok)
	require.Eventually(t, func() bool { return fetches.Load() == 1 }, 5*time.Second, time.Millisecond)
	v.get(0)
	assert.Never(t, func() bool { return fetches.Load() > 1 }, 50*time.Millisecond, time.Millisecond,
		"a fetch in flight is not doubled")

	close(release)
	require.Eventually(t, func() bool { a, ok := v.get(0); return ok && a == want }, 5*time.Second, time.Millisecond)
	clock.Advance(29 * time.Second)
	v.get(0)
	assert.EqualValues(t, 1, fetches.Load(), "an answer younger than the refresh interval is kept")
	clock.Advance(2 * time.Second)
	v.get(0)
	require.Eventually(t, func() bool { return fetches.Load() == 2 }, 5*time.Second, time.Millisecond, "refetched once the answer is old")
}

func TestAccountViewWarnsOnceAboutTheAccessEnd(t *testing.T) {
	clock := clockwork.NewFakeClock()
	end := clock.Now().Add(3 * 24 * time.Hour)
	var logs lockedBuf
	var fetches atomic.Int32
	const warning = "API access ends in 3 days"
	v := newAccountView(func(context.Context) (store.Usage, error) {
		fetches.Add(1)
		return store.Usage{Total: 1, AccessEnds: end, Warning: warning}, nil
	}, time.Minute, clock, slog.New(slog.NewTextHandler(&logs, nil)))
	defer v.close()
	for i := int32(1); i <= 3; i++ {
		v.get(0)
		require.Eventually(t, func() bool { return fetches.Load() == i && v.idle() }, 5*time.Second, time.Millisecond)
		clock.Advance(2 * time.Minute)
	}
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), warning) }, 5*time.Second, time.Millisecond)
	assert.Equal(t, 1, strings.Count(logs.String(), warning), "one warning for one end date: %s", logs.String())
	st := v.status()
	require.NotNil(t, st)
	assert.Equal(t, warning, st.Warning)
}

// idle tells whether no fetch is in flight.
func (v *accountView) idle() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.inflight == nil
}
