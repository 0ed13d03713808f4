package remote

import (
	"context"
	"maps"
	"slices"

	"golang.org/x/time/rate"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// DefaultLimits are the requests per second the client allows itself per
// endpoint name (the last element of the path). The developer guide's table
// gives delete 1, move 1, list 4, mkdir 2, create 2 and access_token 1 for
// the cloud-drive calls; the image-host calls are assumed to match. No table
// names the other image-host calls: they get DefaultOtherLimit. Config.Limits
// overrides any of these, and a value <= 0 there means unlimited.
//
// Note "process" is both copy/process and offline/download/process, and
// "download" is the offline-download call (not fetching a download link,
// which is not limited).
var DefaultLimits = map[string]float64{
	"delete":       1,
	"move":         1,
	"list":         4,
	"mkdir":        2,
	"create":       2,
	"access_token": 1,
	"info":         10, // user/info: 10 for free and member accounts (2025-10-28 table)

	"get_upload_url":      DefaultOtherLimit,
	"list_upload_parts":   DefaultOtherLimit,
	"upload_complete":     DefaultOtherLimit,
	"upload_async_result": DefaultOtherLimit,
	"detail":              DefaultOtherLimit,
	"copy":                DefaultOtherLimit,
	"process":             DefaultOtherLimit,
	"fail":                DefaultOtherLimit,
	"download":            DefaultOtherLimit,
}

// limitMargin scales every configured rate down a little (see newLimiters).
const limitMargin = 0.95

// DefaultOtherLimit is the rate for endpoints no table names.
const DefaultOtherLimit = 10

// limiters holds one token bucket per endpoint. The buckets are per Client
// (so per process): two processes sharing one client ID each keep to the
// limits on their own, and the 429 backoff covers the rest. Read-only after
// construction; rate.Limiter is safe for concurrent use.
type limiters struct {
	m map[string]*rate.Limiter // nil value: unlimited
}

func newLimiters(overrides map[string]float64) *limiters {
	all := maps.Clone(DefaultLimits)
	maps.Copy(all, overrides)
	l := &limiters{m: make(map[string]*rate.Limiter, len(all))}
	for name, qps := range all {
		if qps > 0 {
			// Burst 1: requests are spaced 1/qps apart, so no fixed
			// one-second window ever sees more than qps of them. The
			// spacing is 5% wider than 1/qps: requests that leave exactly
			// 1/qps apart can arrive closer than that, and the service's
			// own bucket would refuse the second.
			l.m[name] = rate.NewLimiter(rate.Limit(qps*limitMargin), 1)
		} else {
			l.m[name] = nil
		}
	}
	return l
}

// wait blocks until endpoint may send a request, or ctx ends.
func (l *limiters) wait(ctx context.Context, endpoint string) error {
	lim, ok := l.m[endpoint]
	if !ok {
		return nil // not an API endpoint we know: not limited
	}
	if lim == nil {
		return ctx.Err()
	}
	return lim.Wait(ctx)
}

// ParseLimits reads "create=2,list=4,delete=0.5" into Config.Limits: names
// are the endpoint names of DefaultLimits, values requests per second (0 =
// unlimited).
func ParseLimits(list string) (map[string]float64, error) {
	return wire.ParseRates(list, slices.Sorted(maps.Keys(DefaultLimits)), true)
}
