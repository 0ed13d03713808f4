package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// RateProfile picks the documented table of rates: 123pan allows a member
// (vip) account more requests per second than a free one.
type RateProfile string

// Rate profiles. The zero value means ProfileFree.
const (
	ProfileFree   RateProfile = "free"
	ProfileMember RateProfile = "member"
)

// ParseRateProfile reads "free" or "member".
func ParseRateProfile(s string) (RateProfile, error) {
	switch p := RateProfile(s); p {
	case ProfileFree, ProfileMember:
		return p, nil
	}
	return "", fmt.Errorf("rate profile %q: free or member", s)
}

// DefaultLimits are the requests per second a free account starts with,
// per endpoint name (the last element of the path); MemberLimits are a
// member's. The documented table (2025-10-28, per client ID) names
// user/info, the cloud drive's move, delete, v2 list and mkdir, and
// access_token; the image-host calls take the analogous row. The
// endpoints in adaptiveStarts have no documented row: their figure is where the
// client starts looking for the real limit (see adaptive.go). Config.Limits
// overrides any of these, and a value <= 0 there means unlimited.
//
// Note "process" is both copy/process and offline/download/process, and
// "download" is the offline-download call (not fetching a download link,
// which is not limited).
var DefaultLimits = withAdaptiveStarts(map[string]float64{
	"info":         10,
	"move":         3,
	"delete":       1,
	"list":         5,
	"mkdir":        5,
	"access_token": 8,
})

// MemberLimits are DefaultLimits for a member account.
var MemberLimits = withAdaptiveStarts(map[string]float64{
	"info":         10,
	"move":         10,
	"delete":       10,
	"list":         10,
	"mkdir":        20,
	"access_token": 10,
})

// adaptiveStarts are the endpoints no table names, with the rate the
// client starts from for both profiles: unless Config.Limits sets them,
// the client raises their rate while the service accepts it and cuts it on
// a refusal (code 429), and remembers what it learnt in StateDir. create
// starts at the free mkdir figure: a start too high costs refusals, one too
// low only time.
var adaptiveStarts = map[string]float64{
	"create":              5,
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

// withAdaptiveStarts is a documented table completed by adaptiveStarts.
func withAdaptiveStarts(table map[string]float64) map[string]float64 {
	maps.Copy(table, adaptiveStarts)
	return table
}

// profileLimits is the table of p.
func profileLimits(p RateProfile) map[string]float64 {
	if p == ProfileMember {
		return MemberLimits
	}
	return DefaultLimits
}

// limitMargin scales every configured rate down a little (see newLimiters).
const limitMargin = 0.95

// DefaultOtherLimit is where the undocumented endpoints other than create
// start.
const DefaultOtherLimit = 10

// limiters holds one token bucket per endpoint. The buckets are per Client
// (so per process): two processes sharing one client ID each keep to the
// limits on their own, and the 429 backoff covers the rest. The maps are
// read-only after construction; rate.Limiter and adaptive are safe for
// concurrent use, and their rates change through SetLimit.
type limiters struct {
	m     map[string]*rate.Limiter // nil value: unlimited
	adapt map[string]*adaptive     // the endpoints whose rate is learnt
	fixed map[string]bool          // set by Config.Limits: never changed
	store *rateStore               // nil: nothing saved
	log   *slog.Logger
	now   func() time.Time
}

func newLimiters(profile RateProfile, overrides map[string]float64, store *rateStore, log *slog.Logger, now func() time.Time) *limiters {
	all := maps.Clone(profileLimits(profile))
	maps.Copy(all, overrides)
	l := &limiters{m: make(map[string]*rate.Limiter, len(all)), adapt: map[string]*adaptive{},
		fixed: map[string]bool{}, store: store, log: log, now: now}
	for name := range overrides {
		l.fixed[name] = true
	}
	saved := store.load()
	for name, qps := range all {
		if qps <= 0 {
			l.m[name] = nil
			continue
		}
		// Burst 1: requests are spaced 1/qps apart, so no fixed one-second
		// window ever sees more than qps of them. The spacing is 5% wider
		// than 1/qps: requests that leave exactly 1/qps apart can arrive
		// closer than that, and the service's own bucket would refuse the
		// second.
		lim := rate.NewLimiter(rate.Limit(qps*limitMargin), 1)
		l.m[name] = lim
		if _, learnt := adaptiveStarts[name]; learnt && !l.fixed[name] {
			a := newAdaptive(qps, now)
			if s, ok := saved[name]; ok {
				a.restore(s)
				lim.SetLimit(rate.Limit(a.current() * limitMargin))
			}
			l.adapt[name] = a
		}
	}
	return l
}

// setProfile moves every endpoint that Config.Limits did not set to the
// rates of p. A learnt rate stays; one not learnt yet starts again from
// p's figure.
func (l *limiters) setProfile(p RateProfile) {
	for name, qps := range profileLimits(p) {
		lim := l.m[name]
		if l.fixed[name] || lim == nil || qps <= 0 {
			continue
		}
		if a := l.adapt[name]; a != nil {
			qps = a.reset(qps)
		}
		lim.SetLimit(rate.Limit(qps * limitMargin))
	}
}

// pass is what wait tells done about a request it let through.
type pass struct {
	at     time.Time // when it asked the bucket for a slot
	waited bool      // whether the bucket held it back: only then does a success tell that the rate could be higher
}

// wait blocks until endpoint may send a request, or ctx ends.
func (l *limiters) wait(ctx context.Context, endpoint string) (pass, error) {
	lim, ok := l.m[endpoint]
	if !ok {
		return pass{}, nil // not an API endpoint we know: not limited
	}
	if lim == nil {
		return pass{}, ctx.Err()
	}
	// The time is taken before Wait: Wait books the request's slot at the
	// rate of that moment. A request that was waiting when the rate was cut
	// would leave at the old spacing, into a service that has just refused
	// it: it books a slot again, at the new rate.
	a := l.adapt[endpoint]
	for {
		p := pass{at: l.now(), waited: lim.Tokens() < 1}
		if err := lim.Wait(ctx); err != nil {
			return pass{}, err
		}
		if a == nil || !a.cutSince(p.at) {
			return p, nil
		}
	}
}

// done tells the endpoint's controller how a request that wait let through
// ended: accepted (err == nil) or refused for the rate (ErrRateLimited).
// Other failures say nothing about the rate.
func (l *limiters) done(endpoint string, p pass, err error) {
	a := l.adapt[endpoint]
	if a == nil {
		return
	}
	var changed, cut bool
	var qps float64
	switch {
	case err == nil:
		qps, changed = a.success(p.at, p.waited)
	case errors.Is(err, ErrRateLimited):
		qps, changed = a.refused(p.at)
		cut = changed
		if changed {
			l.log.Info("123pan: rate refused, slowing down", "endpoint", endpoint, "qps", qps)
		}
	}
	if !changed {
		return
	}
	l.m[endpoint].SetLimit(rate.Limit(qps * limitMargin))
	if l.store != nil {
		if err := l.store.save(l.learnt, cut); err != nil {
			l.log.Warn("123pan: learnt rates not saved", "err", err)
		}
	}
}

// learnt is the state of every adaptive endpoint, for saving.
func (l *limiters) learnt() map[string]learntRate {
	out := make(map[string]learntRate, len(l.adapt))
	for name, a := range l.adapt {
		out[name] = a.snapshot()
	}
	return out
}

// ParseLimits reads "create=2,list=4,delete=0.5" into Config.Limits: names
// are the endpoint names of DefaultLimits, values requests per second (0 =
// unlimited).
func ParseLimits(list string) (map[string]float64, error) {
	return wire.ParseRates(list, slices.Sorted(maps.Keys(DefaultLimits)), true)
}
