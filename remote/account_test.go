package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// officialUserInfo is the data of the public docs' example (2025-07-11),
// with spaceTempExpr and vipInfo left for each case to fill in.
const officialUserInfo = `{
  "uid": 1814435971, "nickname": "测试用户", "headImage": "https://example.com/head.png",
  "passport": "1771xxxx463", "mail": "", "spaceUsed": 21474836480,
  "spacePermanent": 2199023255552, "spaceTemp": 1099511627776, "spaceTempExpr": %s,
  "vip": %s, "directTraffic": 107374182400, "isHideUID": false, "httpsCount": 0,
  "vipInfo": %s,
  "developerInfo": {"startTime": "2025-07-06 11:12:53", "endTime": "2026-07-06 11:12:53"}
}`

// userInfoServer answers the token call and user/info with data.
func userInfoServer(t *testing.T, data string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case wire.PathAccessToken:
			writeEnv(w, 0, "ok", map[string]string{"accessToken": "tok", "expiredAt": time.Now().Add(time.Hour).Format(time.RFC3339)})
		case wire.PathUserInfo:
			if r.Method != http.MethodGet || r.Header.Get(wire.HeaderAuth) != "Bearer tok" {
				writeEnv(w, 1, "wrong method or token", nil)
				return
			}
			writeEnv(w, 0, "ok", json.RawMessage(data))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestUserInfoDecodesOfficialShapes(t *testing.T) {
	svip := `[{"vipLevel": 2, "vipLabel": "SVIP", "startTime": "2025-07-06 11:12:53", "endTime": "2026-07-06 11:12:53"}]`
	expr := time.Date(2026, 1, 2, 3, 4, 5, 0, wire.ChinaTime)
	cases := []struct {
		name, expr, vip, vipInfo string
		wantExpr                 time.Time
		wantVip                  []wire.VipInfo
	}{
		{"expr number 0, vipInfo null", `0`, `false`, `null`, time.Time{}, nil},
		{"expr string 0", `"0"`, `false`, `null`, time.Time{}, nil},
		{"expr time string, vipInfo array", `"2026-01-02 03:04:05"`, `true`, svip, expr,
			[]wire.VipInfo{{VipLevel: 2, VipLabel: "SVIP",
				StartTime: wire.Moment{Time: time.Date(2025, 7, 6, 11, 12, 53, 0, wire.ChinaTime)},
				EndTime:   wire.Moment{Time: time.Date(2026, 7, 6, 11, 12, 53, 0, wire.ChinaTime)}}}},
		{"expr unix seconds", `1767294245`, `true`, `[]`, expr, []wire.VipInfo{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := userInfoServer(t, fmt.Sprintf(officialUserInfo, tc.expr, tc.vip, tc.vipInfo))
			u, err := testClient(t, url).UserInfo(context.Background())
			require.NoError(t, err)
			assert.Equal(t, wire.ID("1814435971"), u.UID)
			assert.Equal(t, "测试用户", u.Nickname)
			assert.Equal(t, wire.ID("1771xxxx463"), u.Passport)
			assert.EqualValues(t, 21474836480, u.SpaceUsed)
			assert.EqualValues(t, 2199023255552, u.SpacePermanent)
			assert.EqualValues(t, 1099511627776, u.SpaceTemp)
			assert.EqualValues(t, 107374182400, u.DirectTraffic)
			assert.True(t, u.SpaceTempExpr.Equal(tc.wantExpr), "spaceTempExpr %v, want %v", u.SpaceTempExpr, tc.wantExpr)
			assert.Equal(t, tc.vip == "true", bool(u.Vip))
			assert.Equal(t, tc.wantVip, u.VipInfo)
			assert.Equal(t, "2026-07-06 11:12:53", wire.FormatTime(u.DeveloperInfo.EndTime.Time))
		})
	}
}

func TestAccountOfCountsTempSpaceUntilItExpires(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, wire.ChinaTime)
	u := &wire.UserInfo{SpaceUsed: 300, SpacePermanent: 1000, SpaceTemp: 500, DirectTraffic: 77}
	for _, tc := range []struct {
		name      string
		expr      time.Time
		wantTotal int64
	}{
		{"no expiry date", time.Time{}, 1500},
		{"expires later", now.Add(time.Hour), 1500},
		{"expired", now.Add(-time.Hour), 1000},
	} {
		u.SpaceTempExpr = wire.Moment{Time: tc.expr}
		a := AccountOf(u, now)
		assert.Equal(t, tc.wantTotal, a.Total, tc.name)
		assert.Equal(t, tc.wantTotal-300, a.Free(), tc.name)
		assert.EqualValues(t, 77, a.DirectTraffic, tc.name)
	}
	full := AccountOf(&wire.UserInfo{SpaceUsed: 2000, SpacePermanent: 1000}, now)
	assert.Zero(t, full.Free(), "over quota")
}

func TestDeveloperWarning(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, wire.ChinaTime)
	for _, tc := range []struct {
		name string
		end  time.Time
		want string // substring; "" = no warning
	}{
		{"none given", time.Time{}, ""},
		{"a year ahead", now.AddDate(1, 0, 0), ""},
		{"in 3 days", now.Add(3*24*time.Hour + time.Minute), "ends 2026-03-04 12:01:00 China time (in 3 days)"},
		{"in 13 days", now.Add(13 * 24 * time.Hour), "(in 13 days)"},
		{"in 3 days less a second", now.Add(3*24*time.Hour - time.Second), "(in 3 days)"},
		{"in 2 hours", now.Add(2 * time.Hour), "(in less than a day)"},
		{"past", now.Add(-time.Hour), "ended 2026-03-01 11:00:00 China time"},
	} {
		got := Account{DeveloperEnd: tc.end}.DeveloperWarning(now)
		if tc.want == "" {
			assert.Empty(t, got, tc.name)
		} else {
			assert.Contains(t, got, tc.want, tc.name)
		}
	}
}
