package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeDeletes records the batches a Deleter sends.
type fakeDeletes struct {
	mu      sync.Mutex
	batches [][]string
	fail    error
	delay   time.Duration
}

func (f *fakeDeletes) del(ctx context.Context, ids []string) error {
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, append([]string(nil), ids...))
	return f.fail
}

func (f *fakeDeletes) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.batches)
}

func quietDeleter(del func(context.Context, []string) error, o DeleterOptions) *Deleter {
	o.Logger = slog.New(slog.DiscardHandler)
	return newDeleter(del, o)
}

func TestDeleterCoalescesIntoBatchesOf100(t *testing.T) {
	f := &fakeDeletes{delay: 100 * time.Millisecond} // a slow call: IDs gather behind it
	d := quietDeleter(f.del, DeleterOptions{Window: 50 * time.Millisecond})
	for i := 0; i < 250; i++ {
		d.Enqueue(fmt.Sprint(i), nil)
	}
	assert.True(t, d.Pending("7"))
	require.NoError(t, d.Flush(t.Context()))
	assert.Equal(t, 3, f.calls(), "250 IDs in 3 calls")
	seen := map[string]bool{}
	for _, b := range f.batches {
		assert.LessOrEqual(t, len(b), 100)
		for _, id := range b {
			assert.False(t, seen[id], "%s sent twice", id)
			seen[id] = true
		}
	}
	assert.Len(t, seen, 250)
	assert.False(t, d.Pending("7"))
	require.NoError(t, d.Close(t.Context()))
}

func TestDeleterWaitSendsAtOnce(t *testing.T) {
	f := &fakeDeletes{}
	d := quietDeleter(f.del, DeleterOptions{Window: time.Hour})
	d.Enqueue("a", nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, d.Wait(ctx, "a"), "Wait does not sit out the hour-long window")
	assert.Equal(t, 1, f.calls())
	assert.NoError(t, d.Wait(t.Context(), "never queued"))
	require.NoError(t, d.Close(t.Context()))
}

func TestDeleterRetriesPassingFailuresThenGivesUp(t *testing.T) {
	f := &fakeDeletes{fail: fmt.Errorf("wrapped: %w", &APIError{Endpoint: "delete", Code: 429, Err: ErrRateLimited})}
	d := quietDeleter(f.del, DeleterOptions{Window: time.Millisecond, Rounds: 2, RoundBackoff: time.Millisecond})
	var got error
	done := make(chan struct{})
	d.Enqueue("x", func(err error) { got = err; close(done) })
	<-done
	assert.True(t, errors.Is(got, ErrRateLimited))
	assert.Equal(t, 3, f.calls(), "the first call and two more rounds")

	f2 := &fakeDeletes{fail: &APIError{Endpoint: "delete", Code: 1, Message: "bad request"}}
	d2 := quietDeleter(f2.del, DeleterOptions{Window: time.Millisecond, Rounds: 2, RoundBackoff: time.Millisecond})
	assert.Error(t, func() error { d2.Enqueue("y", nil); return d2.Flush(t.Context()) }())
	assert.Equal(t, 1, f2.calls(), "a definite refusal is not tried again")
}

// Rounds are counted per ID: an ID retried together with a fresh one is
// given up after its own rounds, and the fresh one gets all of its own.
func TestDeleterCountsRoundsPerID(t *testing.T) {
	var mu sync.Mutex
	var calls [][]string
	gate := make(chan struct{})
	del := func(ctx context.Context, ids []string) error {
		mu.Lock()
		calls = append(calls, append([]string(nil), ids...))
		first := len(calls) == 1
		mu.Unlock()
		if first {
			<-gate // "b" is queued while the first call is out
		}
		return &APIError{Endpoint: "delete", HTTPStatus: 503}
	}
	d := quietDeleter(del, DeleterOptions{Window: time.Millisecond, Rounds: 1, RoundBackoff: time.Millisecond})
	var wg sync.WaitGroup
	wg.Add(2)
	d.Enqueue("a", func(error) { wg.Done() })
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == 1 }, 10*time.Second, time.Millisecond)
	d.Enqueue("b", func(error) { wg.Done() })
	close(gate)
	wg.Wait()
	count := map[string]int{}
	for _, c := range calls {
		for _, id := range c {
			count[id]++
		}
	}
	assert.Equal(t, map[string]int{"a": 2, "b": 2}, count, "each ID: its first call and one round (calls %v)", calls)
	require.NoError(t, d.Close(t.Context()))
}

type memDeleteJournal struct {
	mu          sync.Mutex
	added, done []string
	syncs       int
}

func (j *memDeleteJournal) AddDeletes(ids []string, sync bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.added = append(j.added, ids...)
	return nil
}
func (j *memDeleteJournal) DoneDeletes(ids []string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.done = append(j.done, ids...)
	return nil
}
func (j *memDeleteJournal) SyncDeletes() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.syncs++
	return nil
}

func TestDeleterJournals(t *testing.T) {
	f := &fakeDeletes{}
	j := &memDeleteJournal{}
	d := quietDeleter(f.del, DeleterOptions{Window: time.Millisecond, Journal: j})
	d.Enqueue("a", nil)
	d.Enqueue("b", nil)
	require.NoError(t, d.Flush(t.Context()))
	assert.ElementsMatch(t, []string{"a", "b"}, j.added)
	assert.ElementsMatch(t, []string{"a", "b"}, j.done)
	assert.GreaterOrEqual(t, j.syncs, 1, "made durable before the call")
}

// IDs that keep coming, each within a window of the last, go out together
// even when they take several windows to come (rm -r on a busy machine).
func TestDeleterWaitsForABurstToEnd(t *testing.T) {
	f := &fakeDeletes{}
	window := 40 * time.Millisecond
	d := quietDeleter(f.del, DeleterOptions{Window: window})
	for i := range 8 { // 8 IDs, window/2 apart: 4 windows in all
		d.Enqueue(fmt.Sprint(i), nil)
		time.Sleep(window / 2)
	}
	require.Eventually(t, func() bool { return !d.Pending("7") }, 5*time.Second, time.Millisecond)
	assert.Equal(t, 1, f.calls(), "one call for the burst")
	require.NoError(t, d.Close(t.Context()))
}
