package remote

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryPolicy is exponential backoff with full jitter: before attempt n+1
// the client sleeps a random time in [0, min(MaxDelay, BaseDelay·2ⁿ)).
// Zero fields take defaults.
type RetryPolicy struct {
	MaxAttempts int           // attempts in all, including the first (default 8; 1 = never retry)
	BaseDelay   time.Duration // default 200 ms
	MaxDelay    time.Duration // default 10 s
}

// Retry defaults.
const (
	DefaultMaxAttempts = 8
	DefaultBaseDelay   = 200 * time.Millisecond
	DefaultMaxDelay    = 10 * time.Second
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	return p
}

// delay is the pause before retry number attempt (0 = first retry) after
// err. A 20103 ("retry in 1 s") waits at least 5·BaseDelay, which is the
// asked-for second with the default base; a Retry-After header is honoured
// up to MaxDelay.
func (p RetryPolicy) delay(attempt int, err error) time.Duration {
	ceil := p.BaseDelay << min(attempt, 30)
	if ceil <= 0 || ceil > p.MaxDelay {
		ceil = p.MaxDelay
	}
	d := time.Duration(rand.Int64N(int64(ceil) + 1))
	var e *APIError
	if errors.As(err, &e) {
		if errors.Is(e, ErrVerifying) {
			d = max(d, min(5*p.BaseDelay, p.MaxDelay))
		}
		if e.retryAfter > 0 {
			d = max(d, min(e.retryAfter, p.MaxDelay))
		}
	}
	return d
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pause is the step between two attempts of a loop that keeps its own
// attempt count (0 before the first retry): after a failure worth another
// attempt it waits the policy's delay and returns nil; otherwise, or when
// the attempts are used up or ctx ends, it returns the error to give up
// with. what and attrs name the loop in the log.
func (c *Client) pause(ctx context.Context, attempt int, err error, what string, attrs ...any) error {
	p := c.policy
	if !IsTemporary(err) || attempt+1 >= p.MaxAttempts || ctx.Err() != nil {
		return gaveUp(ctx, err)
	}
	d := p.delay(attempt, err)
	c.log.Warn(what, append(attrs, "attempt", attempt+1, "delay", d, "err", err)...)
	if serr := sleep(ctx, d); serr != nil {
		return &canceledError{ctxErr: serr, last: err}
	}
	return nil
}

// retry runs op until it succeeds, fails definitely, the attempts run out
// or ctx ends. Temporary errors are retried; ambiguous ones (the request
// may have been applied) only when idempotent is true. The last error is
// returned; if ctx ended during a pause, the context's error wraps it.
func (c *Client) retry(ctx context.Context, name string, idempotent bool, op func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		var fin *finalError
		if errors.As(err, &fin) {
			return fin.err
		}
		if !idempotent && IsAmbiguous(err) && ctx.Err() == nil {
			return err
		}
		if err := c.pause(ctx, attempt, err, "123pan retry", "endpoint", name); err != nil {
			return err
		}
	}
}

// finalError marks an error that has been through its own retries (a
// token fetch, a check's listing): the enclosing retry loop returns it as
// it is instead of multiplying the attempts.
type finalError struct{ err error }

func (f *finalError) Error() string { return f.err.Error() }
func (f *finalError) Unwrap() error { return f.err }

func final(err error) error {
	if err == nil {
		return nil
	}
	return &finalError{err}
}

// canceledError is what a retry loop returns when its context ends while it
// waits: the context's error, with the last failure for the record.
type canceledError struct{ ctxErr, last error }

func (c *canceledError) Error() string   { return fmt.Sprintf("%v; last error: %v", c.ctxErr, c.last) }
func (c *canceledError) Unwrap() []error { return []error{c.ctxErr, c.last} }

// gaveUp is the error of a call that failed after its context ended: a
// failure that is worth retrying becomes the context's error (with the
// failure for the record), so that callers see that the caller gave up, not
// that they may try again.
func gaveUp(ctx context.Context, err error) error {
	if ctx.Err() == nil || !IsTemporary(err) {
		return err
	}
	return &canceledError{ctxErr: ctx.Err(), last: err}
}

// retryChecked retries a non-idempotent call. After an ambiguous failure
// every further attempt first runs check, which looks at what the service
// holds and reports whether the earlier attempt took effect (then the call
// is done). A name clash after an ambiguous failure is checked once more,
// since it is likely our own earlier attempt.
func (c *Client) retryChecked(ctx context.Context, name string, op func(ctx context.Context) error, check func(ctx context.Context) (bool, error)) error {
	var ambiguous bool
	return c.retry(ctx, name, true, func(ctx context.Context) error {
		if ambiguous {
			done, err := check(ctx)
			if err != nil {
				return final(err)
			}
			if done {
				c.log.Info("123pan: earlier ambiguous attempt had taken effect", "endpoint", name)
				return nil
			}
		}
		err := op(ctx)
		if err == nil {
			return nil
		}
		if IsAmbiguous(err) {
			ambiguous = true
		} else if ambiguous && errors.Is(err, ErrNameClash) {
			if done, cerr := check(ctx); cerr == nil && done {
				c.log.Info("123pan: earlier ambiguous attempt had taken effect", "endpoint", name)
				return nil
			}
		}
		return err
	})
}
