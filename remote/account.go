package remote

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// DeveloperWarnBefore is how long before the developer entitlement ends
// (DeveloperInfo.EndTime) the account is said to be ending soon.
const DeveloperWarnBefore = 14 * 24 * time.Hour

// UserInfo asks user/info for the account: space, traffic, membership and
// the developer entitlement.
func (c *Client) UserInfo(ctx context.Context) (*wire.UserInfo, error) {
	var d wire.UserInfo
	if err := c.call(ctx, get(wire.PathUserInfo, nil), &d, true); err != nil {
		return nil, err
	}
	return &d, nil
}

// Account is what the account answer means for a filesystem: bytes used
// and available, the direct-link traffic left, and when the open API stops
// working.
type Account struct {
	Used  int64 // spaceUsed
	Total int64 // spacePermanent, plus spaceTemp while it has not expired
	// TempSpace is the part of Total that is temporary space (0 when there
	// is none or it expired), TempUntil when it expires (zero: no date).
	TempSpace     int64
	TempUntil     time.Time
	DirectTraffic int64 // remaining direct-link (download) traffic, bytes
	Member        bool
	DeveloperEnd  time.Time // zero when the answer has none
}

// Free is Total - Used, never below 0.
func (a Account) Free() int64 { return max(a.Total-a.Used, 0) }

// AccountOf reads an account answer as of now. Temporary space counts
// while its expiry is unset or after now.
func AccountOf(u *wire.UserInfo, now time.Time) Account {
	a := Account{
		Used: max(u.SpaceUsed, 0), Total: max(u.SpacePermanent, 0),
		DirectTraffic: u.DirectTraffic, Member: bool(u.Vip),
		DeveloperEnd: u.DeveloperInfo.EndTime.Time,
	}
	if u.SpaceTemp > 0 && (u.SpaceTempExpr.IsZero() || u.SpaceTempExpr.After(now)) {
		a.Total += u.SpaceTemp
		a.TempSpace, a.TempUntil = u.SpaceTemp, u.SpaceTempExpr.Time
	}
	return a
}

// Account asks user/info and reads the answer as of now.
func (c *Client) Account(ctx context.Context) (Account, error) {
	u, err := c.UserInfo(ctx)
	if err != nil {
		return Account{}, err
	}
	return AccountOf(u, time.Now()), nil
}

// DeveloperWarning says, when the developer entitlement ends within
// DeveloperWarnBefore of now or has ended, when it ends and what that
// means; "" otherwise (and when the answer gave no end).
func (a Account) DeveloperWarning(now time.Time) string {
	end := a.DeveloperEnd
	if end.IsZero() || end.Sub(now) > DeveloperWarnBefore {
		return ""
	}
	when := wire.FormatTime(end) + " China time"
	if !end.After(now) {
		return fmt.Sprintf("the 123pan developer entitlement ended %s: the open API stops working; renew it on 123pan", when)
	}
	in := "less than a day"
	if days := math.Round(end.Sub(now).Hours() / 24); days >= 1 {
		in = fmt.Sprintf("%d days", int(days))
	}
	return fmt.Sprintf("the 123pan developer entitlement ends %s (in %s): the open API stops working then; renew it on 123pan", when, in)
}
