package deleter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/store"
)

// testClock is a fake clock that also tells the test what the Deleter asks
// of it: each Reset of a timer (the gathering window starting again) and
// the pause of each AfterFunc (the backoff before a round).
type testClock struct {
	*clockwork.FakeClock
	resets chan time.Duration

	mu     sync.Mutex
	pauses []time.Duration // GUARDED_BY(mu)
}

func newTestClock() *testClock {
	return &testClock{FakeClock: clockwork.NewFakeClockAt(time.Unix(1_700_000_000, 0)),
		resets: make(chan time.Duration, 1000)}
}

func (c *testClock) NewTimer(d time.Duration) clockwork.Timer {
	return &testTimer{Timer: c.FakeClock.NewTimer(d), c: c}
}

func (c *testClock) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	c.mu.Lock()
	c.pauses = append(c.pauses, d)
	c.mu.Unlock()
	return c.FakeClock.AfterFunc(d, f)
}

func (c *testClock) backoffs() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.pauses...)
}

// waitTimers waits until n timers are set (gathering windows and pauses
// before rounds).
func (c *testClock) waitTimers(t *testing.T, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.BlockUntilContext(ctx, n), "waiting for %d timers", n)
}

// reset waits for the next Reset of a timer and returns its duration.
func (c *testClock) reset(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.resets:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no timer reset")
		return 0
	}
}

type testTimer struct {
	clockwork.Timer
	c *testClock
}

func (t *testTimer) Reset(d time.Duration) bool {
	stopped := t.Timer.Reset(d)
	t.c.resets <- d
	return stopped
}

// fakeDeletes records the calls a Deleter makes, and when (on its clock).
type fakeDeletes struct {
	clock clockwork.Clock
	made  chan []string // each call's IDs, if set
	fail  func(call int) error

	mu      sync.Mutex
	batches [][]string  // GUARDED_BY(mu)
	times   []time.Time // GUARDED_BY(mu)
}

func (f *fakeDeletes) del(ctx context.Context, ids []string) error {
	f.mu.Lock()
	f.batches = append(f.batches, append([]string(nil), ids...))
	f.times = append(f.times, f.clock.Now())
	n := len(f.batches)
	f.mu.Unlock()
	if f.made != nil {
		f.made <- ids
	}
	if f.fail != nil {
		return f.fail(n)
	}
	return nil
}

func (f *fakeDeletes) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.batches)
}

func (f *fakeDeletes) sent() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.batches...)
}

func failing(err error) func(int) error { return func(int) error { return err } }

// start makes a quiet Deleter on a test clock, closed at the end of the
// test.
func start(t *testing.T, f *fakeDeletes, o Options) (*Deleter, *testClock) {
	t.Helper()
	clock := newTestClock()
	f.clock = clock
	o.Clock = clock
	o.Logger = slog.New(slog.DiscardHandler)
	d := New(f.del, o)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, d.Close(ctx))
	})
	return d, clock
}

// outcome waits for an Enqueue callback's outcome.
func outcome(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no outcome")
		return nil
	}
}

func TestCoalescesIntoBatchesOf100(t *testing.T) {
	f := &fakeDeletes{}
	d, _ := start(t, f, Options{Window: time.Hour}) // the window never ends: full calls go out, then Flush sends the rest
	for i := range 250 {
		d.Enqueue(fmt.Sprint(i), nil)
	}
	assert.True(t, d.Pending("249"), "the last 50 wait for the window")
	require.NoError(t, d.Flush(t.Context()))
	assert.Equal(t, 3, f.calls(), "250 IDs in 3 calls")
	seen := map[string]bool{}
	for _, b := range f.sent() {
		assert.LessOrEqual(t, len(b), 100)
		for _, id := range b {
			assert.False(t, seen[id], "%s sent twice", id)
			seen[id] = true
		}
	}
	assert.Len(t, seen, 250)
	assert.False(t, d.Pending("7"))
	assert.False(t, d.Pending("249"))
}

func TestBatchBoundsACall(t *testing.T) {
	f := &fakeDeletes{}
	d, _ := start(t, f, Options{Window: time.Hour, Batch: 10})
	for i := range 25 {
		d.Enqueue(fmt.Sprint(i), nil)
	}
	require.NoError(t, d.Flush(t.Context()))
	var sizes []int
	for _, b := range f.sent() {
		sizes = append(sizes, len(b))
	}
	assert.Equal(t, []int{10, 10, 5}, sizes)
}

func TestWaitSendsAtOnce(t *testing.T) {
	f := &fakeDeletes{}
	d, _ := start(t, f, Options{Window: time.Hour}) // the clock never moves
	d.Enqueue("a", nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, d.Wait(ctx, "a"), "Wait does not sit out the window")
	assert.Equal(t, 1, f.calls())
	assert.NoError(t, d.Wait(t.Context(), "never queued"))
}

func TestTheWindowGathersIDs(t *testing.T) {
	f := &fakeDeletes{}
	d, clock := start(t, f, Options{Window: time.Second})
	done := make(chan error, 1)
	d.Enqueue("a", nil)
	d.Enqueue("b", func(err error) { done <- err })
	clock.waitTimers(t, 1)
	assert.Zero(t, f.calls(), "nothing goes out within the window")
	clock.Advance(time.Second)
	require.NoError(t, outcome(t, done))
	assert.Equal(t, [][]string{{"a", "b"}}, f.sent())
}

func TestRetriesPassingFailuresThenGivesUp(t *testing.T) {
	limited := store.Wrap(fmt.Errorf("wrapped: %w", errors.New("429")), store.ErrRateLimited, store.ErrTemporary)
	f := &fakeDeletes{fail: failing(limited)}
	d, clock := start(t, f, Options{Window: time.Millisecond,
		Backoff: backoff.Policy{Attempts: 3, Initial: time.Second, Max: time.Minute}})
	done := make(chan error, 1)
	d.Enqueue("x", func(err error) { done <- err })
	for range 3 { // the window, then the pause before each of two rounds
		clock.waitTimers(t, 1)
		clock.Advance(time.Minute)
	}
	got := outcome(t, done)
	assert.ErrorIs(t, got, store.ErrRateLimited)
	assert.Equal(t, 3, f.calls(), "the first call and two more rounds")
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, clock.backoffs())
	assert.False(t, d.Pending("x"))

	f2 := &fakeDeletes{fail: failing(store.Wrap(errors.New("bad request"), store.ErrPermanent))}
	d2, _ := start(t, f2, Options{Window: time.Millisecond,
		Backoff: backoff.Policy{Attempts: 3, Initial: time.Second}})
	d2.Enqueue("y", nil)
	assert.ErrorIs(t, d2.Flush(t.Context()), store.ErrPermanent)
	assert.Equal(t, 1, f2.calls(), "a definite refusal is not tried again")
}

// Which failures are worth another round. A not-found answer is not (as
// before the deleter left package remote): it reaches the callbacks as it
// is, and the IDs are done.
func TestWhichFailuresAreTriedAgain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		again bool
	}{
		{"temporary", store.Wrap(errors.New("503"), store.ErrTemporary), true},
		{"rate limited", store.Wrap(errors.New("429"), store.ErrRateLimited, store.ErrTemporary), true},
		{"call timed out", fmt.Errorf("deleting 1 entries: %w", context.DeadlineExceeded), true},
		{"permanent", store.Wrap(errors.New("code 1"), store.ErrPermanent), false},
		{"not found", store.Wrap(errors.New("5066"), store.ErrNotFound, store.ErrPermanent), false},
		{"auth", store.Wrap(errors.New("401"), store.ErrAuth), false},
		{"canceled", context.Canceled, false},
		{"unclassified", errors.New("local failure"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := &memJournal{}
			f := &fakeDeletes{fail: failing(tc.err)}
			d, clock := start(t, f, Options{Window: time.Millisecond, Journal: j,
				Backoff: backoff.Policy{Attempts: 2, Initial: time.Second}})
			done := make(chan error, 1)
			d.Enqueue("x", func(err error) { done <- err })
			clock.waitTimers(t, 1)
			clock.Advance(time.Millisecond)
			if tc.again {
				clock.waitTimers(t, 1)
				clock.Advance(time.Second)
			}
			assert.ErrorIs(t, outcome(t, done), tc.err)
			want := 1
			if tc.again {
				want = 2
			}
			assert.Equal(t, want, f.calls())
			assert.Equal(t, []string{"x"}, j.doneIDs(), "given up: done in the journal")
		})
	}
}

// With no Backoff set, a failing ID has 5 rounds after its first call,
// 2 s before the first, doubling up to a minute.
func TestDefaultBackoff(t *testing.T) {
	f := &fakeDeletes{fail: failing(store.Wrap(errors.New("503"), store.ErrTemporary))}
	d, clock := start(t, f, Options{Window: time.Millisecond})
	done := make(chan error, 1)
	d.Enqueue("x", func(err error) { done <- err })
	for range 6 { // the window, then the pause before each of five rounds
		clock.waitTimers(t, 1)
		clock.Advance(time.Hour)
	}
	assert.ErrorIs(t, outcome(t, done), store.ErrTemporary)
	assert.Equal(t, 6, f.calls())
	s := time.Second
	assert.Equal(t, []time.Duration{2 * s, 4 * s, 8 * s, 16 * s, 32 * s}, clock.backoffs())

	// Longer: the pause stops growing at a minute.
	f = &fakeDeletes{fail: failing(store.Wrap(errors.New("503"), store.ErrTemporary))}
	p := DefaultBackoff
	p.Attempts = 9
	d, clock = start(t, f, Options{Window: time.Millisecond, Backoff: p})
	done = make(chan error, 1)
	d.Enqueue("x", func(err error) { done <- err })
	for range 9 {
		clock.waitTimers(t, 1)
		clock.Advance(time.Hour)
	}
	require.Error(t, outcome(t, done))
	assert.Equal(t, []time.Duration{2 * s, 4 * s, 8 * s, 16 * s, 32 * s, time.Minute, time.Minute, time.Minute}, clock.backoffs())
}

// Rounds are counted per ID: an ID retried together with a fresh one is
// given up after its own rounds, and the fresh one gets all of its own.
func TestCountsRoundsPerID(t *testing.T) {
	gate := make(chan struct{})
	f := &fakeDeletes{made: make(chan []string, 10), fail: func(call int) error {
		if call == 1 {
			<-gate // "b" is queued while the first call is out
		}
		return store.Wrap(errors.New("503"), store.ErrTemporary)
	}}
	d, clock := start(t, f, Options{Window: 100 * time.Millisecond,
		Backoff: backoff.Policy{Attempts: 2, Initial: time.Second}})
	var wg sync.WaitGroup
	wg.Add(2)
	d.Enqueue("a", func(error) { wg.Done() })
	clock.waitTimers(t, 1)
	clock.Advance(100 * time.Millisecond)
	assert.Equal(t, []string{"a"}, <-f.made)
	d.Enqueue("b", func(error) { wg.Done() })
	close(gate)
	clock.waitTimers(t, 2) // a's pause (1 s) and b's window (100 ms)
	clock.Advance(100 * time.Millisecond)
	assert.Equal(t, []string{"b"}, <-f.made)
	clock.waitTimers(t, 2) // a's pause (900 ms left) and b's (1 s)
	clock.Advance(900 * time.Millisecond)
	assert.Equal(t, []string{"a"}, <-f.made, "a's round")
	clock.waitTimers(t, 1)
	clock.Advance(100 * time.Millisecond)
	assert.Equal(t, []string{"b"}, <-f.made, "b's round")
	wg.Wait()
	count := map[string]int{}
	for _, c := range f.sent() {
		for _, id := range c {
			count[id]++
		}
	}
	assert.Equal(t, map[string]int{"a": 2, "b": 2}, count, "each ID: its first call and one round (calls %v)", f.sent())
}

type memJournal struct {
	mu          sync.Mutex
	added, done []string // GUARDED_BY(mu)
	syncs       int      // GUARDED_BY(mu)
}

func (j *memJournal) AddDeletes(ids []string, sync bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.added = append(j.added, ids...)
	return nil
}

func (j *memJournal) DoneDeletes(ids []string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.done = append(j.done, ids...)
	return nil
}

func (j *memJournal) SyncDeletes() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.syncs++
	return nil
}

func (j *memJournal) doneIDs() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.done...)
}

func TestJournals(t *testing.T) {
	f := &fakeDeletes{}
	j := &memJournal{}
	d, _ := start(t, f, Options{Window: time.Hour, Journal: j})
	d.Enqueue("a", nil)
	d.Enqueue("b", nil)
	require.NoError(t, d.Flush(t.Context()))
	j.mu.Lock()
	defer j.mu.Unlock()
	assert.ElementsMatch(t, []string{"a", "b"}, j.added)
	assert.ElementsMatch(t, []string{"a", "b"}, j.done)
	assert.GreaterOrEqual(t, j.syncs, 1, "made durable before the call")
}

// IDs that keep coming, each within a window of the last, go out together
// even when they take several windows to come (rm -r on a busy machine).
func TestWaitsForABurstToEnd(t *testing.T) {
	f := &fakeDeletes{}
	window := 40 * time.Millisecond
	d, clock := start(t, f, Options{Window: window})
	done := make(chan error, 1)
	d.Enqueue("0", nil)
	clock.waitTimers(t, 1)
	for i := 1; i < 8; i++ { // 8 IDs, window/2 apart: 4 windows in all
		clock.Advance(window / 2)
		cb := func(error) {}
		if i == 7 {
			cb = func(err error) { done <- err }
		}
		d.Enqueue(fmt.Sprint(i), cb)
		assert.Equal(t, window, clock.reset(t), "the window starts again")
	}
	clock.Advance(window)
	require.NoError(t, outcome(t, done))
	assert.Equal(t, 1, f.calls(), "one call for the burst")
}

// A burst that does not end goes out after 10 windows.
func TestBurstWaitIsBounded(t *testing.T) {
	f := &fakeDeletes{}
	window := 40 * time.Millisecond
	d, clock := start(t, f, Options{Window: window})
	begin := clock.Now()
	done := make(chan error, 1)
	d.Enqueue("0", func(err error) { done <- err })
	clock.waitTimers(t, 1)
	for i := 1; i < 19; i++ { // up to 9 windows in: the window starts again
		clock.Advance(window / 2)
		d.Enqueue(fmt.Sprint(i), nil)
		require.Equal(t, window, clock.reset(t), "ID %d", i)
	}
	clock.Advance(window / 2)
	d.Enqueue("19", nil) // 9.5 windows in: not again
	clock.Advance(window / 2)
	require.NoError(t, outcome(t, done))
	require.Equal(t, 1, f.calls())
	assert.Len(t, f.sent()[0], 20)
	assert.Equal(t, 10*window, f.times[0].Sub(begin), "sent after 10 windows")
	assert.Empty(t, clock.resets)
}

func TestCloseSendsWhatIsQueued(t *testing.T) {
	f := &fakeDeletes{}
	d, _ := start(t, f, Options{Window: time.Hour})
	var got []error
	d.Enqueue("a", func(err error) { got = append(got, err) })
	d.Enqueue("b", func(err error) { got = append(got, err) })
	require.NoError(t, d.Close(t.Context()))
	assert.Equal(t, [][]string{{"a", "b"}}, f.sent())
	assert.Equal(t, []error{nil, nil}, got)
	assert.False(t, d.Pending("a"))
}

// An ID queued behind a gate is pending from the start (Pending, Wait),
// is sent only once its gate passes, and is not sent at all, with the
// gate's error as its outcome, when the gate fails. Close waits for gates.
func TestEnqueueAfterAGate(t *testing.T) {
	f := &fakeDeletes{}
	d, _ := start(t, f, Options{Window: time.Hour})
	open, refuse := make(chan struct{}), make(chan struct{})
	passed, failed := make(chan error, 1), make(chan error, 1)
	d.EnqueueAfter("folder", func(ctx context.Context) error { <-open; return nil }, func(err error) { passed <- err })
	d.EnqueueAfter("kept", func(ctx context.Context) error { <-refuse; return errors.New("not empty") }, func(err error) { failed <- err })
	assert.True(t, d.Pending("folder"))
	assert.True(t, d.Pending("kept"))
	waited := make(chan error, 1)
	go func() { waited <- d.Wait(t.Context(), "folder") }()
	assert.Never(t, func() bool { return f.calls() > 0 }, 100*time.Millisecond, 10*time.Millisecond, "nothing goes before its gate")

	close(open)
	require.NoError(t, outcome(t, waited), "Wait covers the gate and the call")
	require.NoError(t, outcome(t, passed))
	assert.Equal(t, [][]string{{"folder"}}, f.sent())

	closed := make(chan error, 1)
	go func() { closed <- d.Close(t.Context()) }()
	assert.Never(t, func() bool { return len(closed) > 0 }, 100*time.Millisecond, 10*time.Millisecond, "Close waits for the gate")
	close(refuse)
	assert.EqualError(t, outcome(t, failed), "not empty")
	require.NoError(t, outcome(t, closed))
	assert.False(t, d.Pending("kept"))
	assert.Equal(t, [][]string{{"folder"}}, f.sent(), "what failed its gate is not sent")
}
