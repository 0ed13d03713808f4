package emulator

import (
	"encoding/json"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// The emulator's account figures where nothing is documented: a free
// account has 2 TiB of permanent space (123pan's free allowance) and
// 10 GiB of direct-link traffic; a member (vip) 20 TiB and 1 TiB.
const (
	DefaultFreeSpace     int64 = 2 << 40
	DefaultMemberSpace   int64 = 20 << 40
	DefaultFreeTraffic   int64 = 10 << 30
	DefaultMemberTraffic int64 = 1 << 40
	// DefaultDeveloperTerm is how far after the emulator starts the
	// developer entitlement ends, unless AccountConfig.DeveloperEnd says.
	DefaultDeveloperTerm = 365 * 24 * time.Hour
)

// AccountConfig is the account user/info describes. Zero fields take the
// defaults above (member or free).
type AccountConfig struct {
	Member bool // vip: true, with an SVIP entry in vipInfo
	// SpacePermanent is the account's permanent space in bytes.
	SpacePermanent int64
	// SpaceTemp is temporary space in bytes (default none), valid until
	// SpaceTempExpiry (zero: shown as spaceTempExpr 0).
	SpaceTemp       int64
	SpaceTempExpiry time.Time
	// DirectTraffic is the direct-link traffic allowance in bytes:
	// directTraffic is this minus every byte the download links served.
	DirectTraffic int64
	// DeveloperEnd is developerInfo.endTime (default DefaultDeveloperTerm
	// after New).
	DeveloperEnd time.Time
}

// withDefaults fills the zero fields as of now.
func (a AccountConfig) withDefaults(now time.Time) AccountConfig {
	if a.SpacePermanent <= 0 {
		a.SpacePermanent = DefaultFreeSpace
		if a.Member {
			a.SpacePermanent = DefaultMemberSpace
		}
	}
	if a.DirectTraffic <= 0 {
		a.DirectTraffic = DefaultFreeTraffic
		if a.Member {
			a.DirectTraffic = DefaultMemberTraffic
		}
	}
	if a.DeveloperEnd.IsZero() {
		a.DeveloperEnd = now.Add(DefaultDeveloperTerm)
	}
	return a
}

// userInfoAnswer is user/info's data as the official example writes it:
// uid is a number there.
type userInfoAnswer struct {
	wire.UserInfo
	UID json.Number `json:"uid"`
}

// handleUserInfo answers GET user/info: spaceUsed is the bytes of the
// account's files; directTraffic is the allowance minus the bytes the
// download links served (deleted files' included), never below 0.
func (s *Server) handleUserInfo(c *call) (any, *apiError) {
	a := s.cfg.Account
	s.mu.RLock()
	var used int64
	for _, e := range s.st.entries {
		if !e.Dir {
			used += e.Size
		}
	}
	traffic := s.st.traffic
	m := s.st.meta
	s.mu.RUnlock()

	u := wire.UserInfo{
		Nickname: "emulator", Passport: wire.ID("1" + m.UID),
		SpaceUsed: used, SpacePermanent: a.SpacePermanent,
		SpaceTemp: a.SpaceTemp, SpaceTempExpr: wire.Moment{Time: a.SpaceTempExpiry},
		Vip: wire.Flag(a.Member), DirectTraffic: max(a.DirectTraffic-traffic, 0),
		DeveloperInfo: wire.DeveloperInfo{StartTime: wire.Moment{Time: m.RootCreated}, EndTime: wire.Moment{Time: a.DeveloperEnd}},
	}
	if a.Member {
		u.VipInfo = []wire.VipInfo{{VipLevel: wire.VipLevelSVIP, VipLabel: "SVIP",
			StartTime: wire.Moment{Time: m.RootCreated}, EndTime: wire.Moment{Time: m.RootCreated.AddDate(1, 0, 0)}}}
	}
	return userInfoAnswer{UserInfo: u, UID: json.Number(m.UID)}, nil
}
