package emulator

import (
	"net/http"
	"sync"
	"time"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// qcloudCalls remembers when getqcloudtoken answered, for its hourly limit.
type qcloudCalls struct {
	mu    sync.Mutex
	times []time.Time // GUARDED_BY(mu); within the last hour, oldest first
}

// allow records a call at now unless QcloudTokenPerHour were made in the
// hour before.
func (q *qcloudCalls) allow(now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.times) > 0 && !now.Before(q.times[0].Add(time.Hour)) {
		q.times = q.times[1:]
	}
	if len(q.times) >= wire.QcloudTokenPerHour {
		return false
	}
	q.times = append(q.times, now)
	return true
}

// qcloudToken is POST /tcb/getqcloudtoken: dummy credentials, which nothing
// in the emulator accepts (so a client's probe of COS listing with them
// finds it unsupported). It takes no env.
func (s *Server) qcloudToken(r *http.Request) any {
	var req wire.QcloudTokenRequest
	env := s.opt.Env // the call carries no env
	if e, ok := s.decode(r, &req, &env); !ok {
		return e
	}
	if req.Lifespan <= 0 || req.Lifespan > wire.MaxQcloudTokenLifespan {
		return errorf(wire.CodeInvalidArg, "lifespan %d out of range 1..%d", req.Lifespan, wire.MaxQcloudTokenLifespan)
	}
	now := s.clock.Now()
	if !s.qcloud.allow(now) {
		return errorf(wire.CodeQuota, "reach max api minute quota limit: %d calls an hour", wire.QcloudTokenPerHour)
	}
	return wire.QcloudTokenResponse{
		Envelope:    success,
		SecretID:    "AKIDemulator" + randomHex(8),
		SecretKey:   randomHex(16),
		Token:       randomHex(64),
		ExpiredTime: now.Unix() + int64(req.Lifespan),
	}
}
