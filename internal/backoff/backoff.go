// Package backoff is the one retry and backoff policy type of the project:
// the 123pan client, the delete queue, the upload queue and recovery each
// hold a Policy, so that every loop that tries again counts its attempts
// and grows its pauses the same way, and waits on a clockwork.Clock that
// tests move instead of sleeping.
package backoff

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/jonboulle/clockwork"
)

// Policy is exponential backoff, bounded in attempts. The ceiling of the
// pause before retry n (0 = the first retry) is Initial·2ⁿ, capped at Max;
// the pause is that ceiling, or with Jitter a random part of it. A Policy
// is used as it is: a caller that gives a zero Policy its defaults does so
// itself, in one place.
type Policy struct {
	// Initial is the ceiling of the first pause; ≤ 0 retries at once.
	Initial time.Duration
	// Max caps the ceiling; ≤ 0 leaves it uncapped (it saturates instead
	// of overflowing).
	Max time.Duration
	// Attempts is how many attempts are made in all, the first included
	// (1 = never retry); 0 = unbounded.
	Attempts int
	// Jitter is full jitter: each pause is uniformly random in
	// [0, ceiling], so that callers that failed together do not all come
	// back together. Without it the pause is the ceiling.
	Jitter bool
}

// Delay is the pause before retry number retry: 0 is the pause after the
// first attempt failed, before the second. A negative retry counts as 0.
func (p Policy) Delay(retry int) time.Duration {
	c := p.ceiling(retry)
	switch {
	case !p.Jitter || c <= 0:
		return c
	case c == math.MaxInt64:
		return time.Duration(rand.Int64()) // [0, MaxInt64]; c+1 would overflow
	}
	return time.Duration(rand.Int64N(int64(c) + 1))
}

// ceiling is min(Initial·2^retry, Max) without overflow.
func (p Policy) ceiling(retry int) time.Duration {
	if p.Initial <= 0 {
		return 0
	}
	limit := time.Duration(math.MaxInt64)
	if p.Max > 0 {
		limit = p.Max
	}
	retry = max(retry, 0)
	// Initial·2^retry > limit exactly when Initial > ⌊limit / 2^retry⌋.
	if retry >= 63 || p.Initial > limit>>retry {
		return limit
	}
	return p.Initial << retry
}

// Exhausted tells whether attempts, the number of attempts made so far
// (the first included), is all the Policy allows, so that no retry
// follows. A loop whose attempt n (counting from 1) just failed asks
// Exhausted(n); with Attempts 0 it never is.
func (p Policy) Exhausted(attempts int) bool {
	return p.Attempts > 0 && attempts >= p.Attempts
}

// Sleep waits d on clock, or until ctx ends, and returns ctx.Err(): nil
// when it waited d in full. It does not wait when ctx has already ended or
// d ≤ 0. clock nil is the real clock.
func Sleep(ctx context.Context, clock clockwork.Clock, d time.Duration) error {
	if d <= 0 || ctx.Err() != nil {
		return ctx.Err()
	}
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	t := clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.Chan():
	}
	return ctx.Err()
}
