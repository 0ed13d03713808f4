package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// PathUserInfo is the account call: GET, no query.
const PathUserInfo = "/api/v1/user/info"

// Vip levels of VipInfo.
const (
	VipLevelVIP      = 1
	VipLevelSVIP     = 2
	VipLevelLongTerm = 3
)

// UserInfo is user/info's data (public docs, 2025-07-11). Sizes and
// traffic are bytes. VipInfo is null (nil) for a free account.
type UserInfo struct {
	UID            ID            `json:"uid"`
	Nickname       string        `json:"nickname"`
	HeadImage      string        `json:"headImage"`
	Passport       ID            `json:"passport"`
	Mail           string        `json:"mail"`
	SpaceUsed      int64         `json:"spaceUsed"`
	SpacePermanent int64         `json:"spacePermanent"`
	SpaceTemp      int64         `json:"spaceTemp"`
	SpaceTempExpr  Moment        `json:"spaceTempExpr"`
	Vip            Flag          `json:"vip"`
	DirectTraffic  int64         `json:"directTraffic"`
	IsHideUID      Flag          `json:"isHideUID"`
	HTTPSCount     int64         `json:"httpsCount"`
	VipInfo        []VipInfo     `json:"vipInfo"`
	DeveloperInfo  DeveloperInfo `json:"developerInfo"`
}

// VipInfo is one membership period.
type VipInfo struct {
	VipLevel  int    `json:"vipLevel"`
	VipLabel  string `json:"vipLabel"`
	StartTime Moment `json:"startTime"`
	EndTime   Moment `json:"endTime"`
}

// DeveloperInfo is the paid developer entitlement: the open API stops
// working after EndTime.
type DeveloperInfo struct {
	StartTime Moment `json:"startTime"`
	EndTime   Moment `json:"endTime"`
}

// Moment is a time of the account answer. It arrives as "2025-07-06
// 11:12:53" (China time), and spaceTempExpr is documented as a string with
// the example 0, so Moment accepts a time string, RFC 3339, Unix seconds
// (or milliseconds) as a number or numeric string, and 0, "0", "" or null
// for "none" (the zero time). It marshals the zero time as 0 and any other
// as the service writes times.
type Moment struct{ time.Time }

// UnmarshalJSON accepts the forms above.
func (m *Moment) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	if s == "" || s == "null" || s == "0" {
		m.Time = time.Time{}
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > 1e12 { // milliseconds
			m.Time = time.UnixMilli(n).In(ChinaTime)
		} else {
			m.Time = time.Unix(n, 0).In(ChinaTime)
		}
		return nil
	}
	t, err := ParseTime(s)
	if err != nil {
		return fmt.Errorf("wire: not a time: %s", b)
	}
	m.Time = t
	return nil
}

// MarshalJSON writes 0 for the zero time, else "2006-01-02 15:04:05".
func (m Moment) MarshalJSON() ([]byte, error) {
	if m.IsZero() {
		return []byte("0"), nil
	}
	return json.Marshal(FormatTime(m.Time))
}
