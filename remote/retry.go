package remote

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pan123fs/pan123fs/config"
	"github.com/pan123fs/pan123fs/internal/backoff"
)

// DefaultRetry is the retry policy of a Config whose Retry is the zero
// Policy (config.Default's Requests: 8 attempts in all, pauses with full
// jitter under a ceiling from 200 ms doubling up to 10 s).
var DefaultRetry = config.Default().Requests

// retryDelay is the pause before retry number retry (0 = first retry) after
// err: the policy's delay, with two 123pan rules on top. A 20103 ("retry
// in 1 s") waits at least 5·Initial, which is the asked-for second with the
// default policy; a Retry-After header is honoured. Neither waits beyond
// Max (when set).
func retryDelay(p backoff.Policy, retry int, err error) time.Duration {
	d := p.Delay(retry)
	limit := func(d time.Duration) time.Duration {
		if p.Max > 0 {
			return min(d, p.Max)
		}
		return d
	}
	var e *APIError
	if errors.As(err, &e) {
		if errors.Is(e, ErrVerifying) {
			d = max(d, limit(5*p.Initial))
		}
		if e.retryAfter > 0 {
			d = max(d, limit(e.retryAfter))
		}
	}
	return d
}

// pause is the step between two attempts of a loop that keeps its own
// attempt count (0 before the first retry): after a failure worth another
// attempt it waits the policy's delay and returns nil; otherwise, or when
// the attempts are used up or ctx ends, it returns the error to give up
// with. what and attrs name the loop in the log.
func (c *Client) pause(ctx context.Context, attempt int, err error, what string, attrs ...any) error {
	if !IsTemporary(err) || c.policy.Exhausted(attempt+1) || ctx.Err() != nil {
		return gaveUp(ctx, err)
	}
	d := retryDelay(c.policy, attempt, err)
	c.log.Warn(what, append(attrs, "attempt", attempt+1, "delay", d, "err", err)...)
	c.obs.Retry(endpointOf(err))
	if serr := backoff.Sleep(ctx, c.clock, d); serr != nil {
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
