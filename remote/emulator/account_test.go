package emulator

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

func (e *env) userInfo() wire.UserInfo {
	e.t.Helper()
	var u wire.UserInfo
	e.ok(http.MethodGet, wire.PathUserInfo, nil, &u)
	return u
}

func TestUserInfoFiguresFollowUploadsDeletesAndDownloads(t *testing.T) {
	const allowance = 1 << 20
	e := newEnv(t, Config{SliceSize: 1000, Account: AccountConfig{DirectTraffic: allowance}})
	u := e.userInfo()
	assert.Zero(t, u.SpaceUsed, "empty account")
	assert.EqualValues(t, DefaultFreeSpace, u.SpacePermanent)
	assert.EqualValues(t, allowance, u.DirectTraffic)

	a := randBytes(2500, 1) // multi-slice
	b := randBytes(700, 2)
	folder := e.mkdir("", "album")
	idA := e.upload(folder, "a.jpg", a)
	idB := e.upload("", "b.png", b)
	assert.EqualValues(t, len(a)+len(b), e.userInfo().SpaceUsed, "after two uploads")

	resp, body := e.get(http.MethodGet, e.detail(idA).DownloadURL, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, a, body)
	resp, _ = e.get(http.MethodGet, e.detail(idB).DownloadURL, map[string]string{"Range": "bytes=0-99"})
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.EqualValues(t, allowance-len(a)-100, e.userInfo().DirectTraffic, "after a whole and a ranged download")

	e.ok(http.MethodPost, wire.PathDelete, wire.DeleteRequest{FileIDs: []string{folder}}, nil)
	u = e.userInfo()
	assert.EqualValues(t, len(b), u.SpaceUsed, "after deleting the folder holding a.jpg")
	assert.EqualValues(t, allowance-len(a)-100, u.DirectTraffic, "traffic spent stays spent after a delete")
}

func TestUserInfoTrafficSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e1 := restart(t, dir, Config{Account: AccountConfig{DirectTraffic: 5000}})
	id := e1.upload("", "x.jpg", randBytes(300, 3))
	e1.get(http.MethodGet, e1.detail(id).DownloadURL, nil)
	e1.ok(http.MethodPost, wire.PathDelete, wire.DeleteRequest{FileIDs: []string{id}}, nil)
	require.NoError(t, e1.s.Close())

	e2 := restart(t, dir, Config{Account: AccountConfig{DirectTraffic: 5000}})
	e2.token = e2.newToken("id", "secret")
	assert.EqualValues(t, 4700, e2.userInfo().DirectTraffic)
}

func TestUserInfoIsRateLimitedByItsName(t *testing.T) {
	qps, err := ParseQPS("info=1")
	require.NoError(t, err)
	e := newEnv(t, Config{QPS: qps})
	e.userInfo()
	assert.Equal(t, wire.CodeTooMany, e.call(http.MethodGet, wire.PathUserInfo, nil, nil).Code, "a second call within the second")
}

func TestUserInfoMemberAndFreeShapes(t *testing.T) {
	end := time.Date(2027, 5, 6, 7, 8, 9, 0, wire.ChinaTime)
	temp := time.Date(2027, 1, 1, 0, 0, 0, 0, wire.ChinaTime)
	member := newEnv(t, Config{Account: AccountConfig{Member: true, DeveloperEnd: end, SpaceTemp: 1 << 30, SpaceTempExpiry: temp}})
	raw := member.call(http.MethodGet, wire.PathUserInfo, nil, nil).Data
	var shape map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &shape))
	assert.Regexp(t, `^[0-9]+$`, string(shape["uid"]), "uid is a number")
	var dev map[string]string
	require.NoError(t, json.Unmarshal(shape["developerInfo"], &dev))
	assert.Equal(t, "2027-05-06 07:08:09", dev["endTime"], "developerInfo.endTime in China time")
	assert.Equal(t, `"2027-01-01 00:00:00"`, string(shape["spaceTempExpr"]))
	u := member.userInfo()
	assert.True(t, bool(u.Vip))
	assert.EqualValues(t, DefaultMemberSpace, u.SpacePermanent)
	assert.EqualValues(t, DefaultMemberTraffic, u.DirectTraffic)
	assert.EqualValues(t, 1<<30, u.SpaceTemp)
	require.Len(t, u.VipInfo, 1)
	assert.Equal(t, wire.VipLevelSVIP, u.VipInfo[0].VipLevel)
	assert.True(t, u.DeveloperInfo.EndTime.Equal(end))

	free := newEnv(t, Config{})
	raw = free.call(http.MethodGet, wire.PathUserInfo, nil, nil).Data
	require.NoError(t, json.Unmarshal(raw, &shape))
	assert.Equal(t, "null", string(shape["vipInfo"]), "a free account has no vipInfo")
	assert.Equal(t, "0", string(shape["spaceTempExpr"]), "no temporary space: the official example's 0")
	u = free.userInfo()
	assert.False(t, bool(u.Vip))
	ahead := time.Until(u.DeveloperInfo.EndTime.Time)
	assert.InDelta(t, DefaultDeveloperTerm.Hours(), ahead.Hours(), 1, "developer entitlement ends a year ahead by default")
}
