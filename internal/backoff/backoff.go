// Package backoff is a temporary placeholder, replaced by the clock branch.
package backoff

import "time"

type Policy struct {
	Initial, Max time.Duration
	Attempts     int
	Jitter       bool
}

func (p Policy) Delay(retry int) time.Duration {
	d := p.Initial << min(max(retry, 0), 30)
	if d <= 0 || d > p.Max {
		return p.Max
	}
	return d
}
