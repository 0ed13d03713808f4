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
	}, 30*time.Millisecond, slog.New(slog.DiscardHandler))
	defer v.close()

	start := time.Now()
	_, ok := v.get(50 * time.Millisecond)
	assert.False(t, ok, "no answer yet")
	assert.Less(t, time.Since(start), time.Second, "the first get waits a bounded time")
	time.Sleep(50 * time.Millisecond)
	_, ok = v.get(0)
	assert.False(t, ok)
	assert.EqualValues(t, 1, fetches.Load(), "a fetch in flight is not doubled")

	close(release)
	require.Eventually(t, func() bool { a, ok := v.get(0); return ok && a == want }, 5*time.Second, 5*time.Millisecond)
	n := fetches.Load()
	time.Sleep(60 * time.Millisecond)
	v.get(0)
	require.Eventually(t, func() bool { return fetches.Load() > n }, 5*time.Second, 5*time.Millisecond, "refetched once the answer is old")
}

func TestAccountViewWarnsOnceAboutTheAccessEnd(t *testing.T) {
	end := time.Now().Add(3 * 24 * time.Hour)
	var logs lockedBuf
	var fetches atomic.Int32
	const warning = "API access ends in 3 days"
	v := newAccountView(func(context.Context) (store.Usage, error) {
		fetches.Add(1)
		return store.Usage{Total: 1, AccessEnds: end, Warning: warning}, nil
	}, time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	defer v.close()
	for fetches.Load() < 3 {
		v.get(time.Second)
		time.Sleep(2 * time.Millisecond)
	}
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "level=WARN") }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, 1, strings.Count(logs.String(), warning), "one warning for one end date: %s", logs.String())
	st := v.status()
	require.NotNil(t, st)
	assert.Equal(t, warning, st.Warning)
}
