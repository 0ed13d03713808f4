package contract

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// user/info: a GET with no query; the account has space and a developer
// entitlement; uid is a number, vipInfo an array or null, and every field
// the client reads decodes.
func TestUserInfo(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		u, err := tg.c.UserInfo(t.Context())
		require.NoError(t, err)
		assert.NotEmpty(t, u.UID)
		assert.Positive(t, u.SpacePermanent, "spacePermanent")
		assert.GreaterOrEqual(t, u.SpaceUsed, int64(0), "spaceUsed")
		assert.GreaterOrEqual(t, u.DirectTraffic, int64(0), "directTraffic")
		assert.False(t, u.DeveloperInfo.EndTime.IsZero(), "developerInfo.endTime of an account that can call the open API")

		a := tg.raw(t, tg.token(t), http.MethodGet, wire.PathUserInfo, nil, nil)
		require.Equal(t, wire.CodeOK, a.Code, "%v", a)
		var shape map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(a.Data, &shape))
		assert.Regexp(t, `^[0-9]+$`, string(shape["uid"]), "uid is a number")
		assert.Regexp(t, `(?s)^(null|\[.*\])$`, string(shape["vipInfo"]), "vipInfo is an array or null")
		if bool(u.Vip) {
			assert.NotEmpty(t, u.VipInfo, "a member has vipInfo")
		}
	})
}
