package emulator_test

import (
	"testing"
	"time"

	"github.com/pan123fs/pan123fs/remote/wechat/emulator"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// errcodeOf calls a cheap tcb endpoint with query and returns the errcode.
func (r *rig) errcodeOf(query string) int {
	r.t.Helper()
	var resp wire.DeleteFileResponse
	r.post(wire.PathBatchDeleteFile+query, wire.DeleteFileRequest{Env: testEnv, FileIDList: []string{"cloud://x.y/z"}}, &resp)
	return resp.ErrCode
}

func TestTokenIsNewEachCallAndThePreviousLivesFiveMinutes(t *testing.T) {
	r := newRig(t, emulator.Options{})
	first := r.token
	second := r.getToken()
	if second.AccessToken == first || second.ExpiresIn != 7200 {
		t.Fatalf("second token %+v, first %q: want a new one for 7200 s", second, first)
	}
	if got := r.errcodeOf("?access_token=" + first); got != 0 {
		t.Fatalf("previous token right after a new one: errcode %d, want 0", got)
	}
	r.clock.Advance(5*time.Minute + time.Second)
	if got := r.errcodeOf("?access_token=" + first); got != wire.CodeTokenExpired {
		t.Fatalf("previous token after 5 minutes: errcode %d, want %d", got, wire.CodeTokenExpired)
	}
	if got := r.errcodeOf("?access_token=" + second.AccessToken); got != 0 {
		t.Fatalf("newest token: errcode %d, want 0", got)
	}
	r.clock.Advance(2 * time.Hour)
	if got := r.errcodeOf("?access_token=" + second.AccessToken); got != wire.CodeTokenExpired {
		t.Fatalf("token after its 7200 s: errcode %d, want %d", got, wire.CodeTokenExpired)
	}
}

func (r *rig) stableToken(force bool) wire.TokenResponse {
	r.t.Helper()
	var resp wire.TokenResponse
	r.post(wire.PathStableToken, wire.StableTokenRequest{GrantType: "client_credential", AppID: testAppID, Secret: testSecret, ForceRefresh: force}, &resp)
	if resp.ErrCode != 0 || resp.AccessToken == "" {
		r.t.Fatalf("stable_token: %+v", resp)
	}
	return resp
}

func TestStableTokenIsTheSameUntilFiveMinutesBeforeExpiry(t *testing.T) {
	r := newRig(t, emulator.Options{})
	a := r.stableToken(false)
	if a.AccessToken == r.token {
		t.Fatal("stable_token handed out the cgi-bin/token token")
	}
	r.clock.Advance(time.Hour)
	b := r.stableToken(false)
	if b.AccessToken != a.AccessToken || b.ExpiresIn != 3600 {
		t.Fatalf("after 1 h: %+v, want %q with 3600 s left", b, a.AccessToken)
	}
	r.clock.Advance(56 * time.Minute)
	c := r.stableToken(false)
	if c.AccessToken == a.AccessToken || c.ExpiresIn != 7200 {
		t.Fatalf("4 minutes before expiry: %+v, want a new token for 7200 s", c)
	}
	if got := r.errcodeOf("?access_token=" + a.AccessToken); got != 0 {
		t.Fatalf("old stable token in its last minutes: errcode %d, want 0", got)
	}
	if got := r.errcodeOf("?access_token=" + r.token); got != 0 {
		t.Fatalf("cgi-bin/token token after stable_token calls: errcode %d, want 0 (the two are isolated)", got)
	}
}

func TestStableTokenForceRefreshKillsTheCurrentOne(t *testing.T) {
	r := newRig(t, emulator.Options{})
	a := r.stableToken(false)
	b := r.stableToken(true)
	if b.AccessToken == a.AccessToken {
		t.Fatal("force_refresh returned the same token")
	}
	if got := r.errcodeOf("?access_token=" + a.AccessToken); got != wire.CodeInvalidToken {
		t.Fatalf("token replaced by force_refresh: errcode %d, want %d", got, wire.CodeInvalidToken)
	}
	if got := r.errcodeOf("?access_token=" + b.AccessToken); got != 0 {
		t.Fatalf("forced token: errcode %d", got)
	}
	var resp wire.TokenResponse
	r.post(wire.PathStableToken, wire.StableTokenRequest{GrantType: "client_credential", AppID: testAppID, Secret: testSecret, ForceRefresh: true}, &resp)
	if resp.ErrCode != wire.CodeQuota || resp.AccessToken != "" {
		t.Fatalf("second force_refresh within 30 s: %+v, want errcode %d", resp, wire.CodeQuota)
	}
	r.clock.Advance(30 * time.Second)
	if c := r.stableToken(true); c.AccessToken == b.AccessToken {
		t.Fatal("force_refresh 30 s later returned the same token")
	}
}

func TestTokenRequestsWithBadCredentials(t *testing.T) {
	r := newRig(t, emulator.Options{})
	cases := []struct {
		query string
		want  int
	}{
		{"grant_type=client_credential&appid=other&secret=" + testSecret, wire.CodeInvalidAppID},
		{"grant_type=client_credential&appid=" + testAppID + "&secret=wrong", wire.CodeInvalidToken},
		{"grant_type=password&appid=" + testAppID + "&secret=" + testSecret, wire.CodeInvalidGrantType},
		{"grant_type=client_credential&appid=" + testAppID, wire.CodeMissingParam},
	}
	for _, c := range cases {
		var resp wire.TokenResponse
		r.get(wire.PathToken+"?"+c.query, &resp)
		if resp.ErrCode != c.want || resp.AccessToken != "" {
			t.Errorf("token?%s: %+v, want errcode %d", c.query, resp, c.want)
		}
	}
	var resp wire.TokenResponse
	r.post(wire.PathStableToken, wire.StableTokenRequest{GrantType: "client_credential", AppID: testAppID, Secret: "wrong"}, &resp)
	if resp.ErrCode != wire.CodeInvalidToken {
		t.Errorf("stable_token with a wrong secret: %+v", resp)
	}
}

func TestTcbCallCredentials(t *testing.T) {
	r := newRig(t, emulator.Options{})
	cases := []struct {
		name, query string
		want        int
	}{
		{"no token", "", wire.CodeTokenMissing},
		{"unknown token", "?access_token=forged", wire.CodeInvalidToken},
		{"access_token", "?access_token=" + r.token, 0},
		{"cloudbase_access_token alias", "?cloudbase_access_token=" + r.token, 0},
		{"unknown alias", "?cloudbase_access_token=forged", wire.CodeInvalidToken},
	}
	for _, c := range cases {
		if got := r.errcodeOf(c.query); got != c.want {
			t.Errorf("%s: errcode %d, want %d", c.name, got, c.want)
		}
	}
	open := newRig(t, emulator.Options{OpenAPI: true})
	if got := open.errcodeOf(""); got != 0 {
		t.Errorf("open API mode without a token: errcode %d, want 0", got)
	}
	if got := open.errcodeOf("?access_token=forged"); got != wire.CodeInvalidToken {
		t.Errorf("open API mode with a forged token: errcode %d, want %d", got, wire.CodeInvalidToken)
	}
}

func TestTcbCallBodyChecks(t *testing.T) {
	r := newRig(t, emulator.Options{})
	q := wire.PathUploadFile + "?access_token=" + r.token
	cases := []struct {
		name string
		body string
		want int
	}{
		{"empty body", "", wire.CodeEmptyBody},
		{"not JSON", "{env:", wire.CodeBadJSON},
		{"no env", `{"path":"a"}`, wire.CodeMissingParam},
		{"another env", `{"env":"other-env","path":"a"}`, wire.CodeResourceMissing},
		{"ok", `{"env":"` + testEnv + `","path":"a"}`, 0},
	}
	for _, c := range cases {
		var resp wire.Envelope
		r.post(q, c.body, &resp)
		if resp.ErrCode != c.want {
			t.Errorf("%s: %+v, want errcode %d", c.name, resp, c.want)
		}
	}
	var resp wire.Envelope
	r.get(q, &resp)
	if resp.ErrCode != wire.CodeRequirePost {
		t.Errorf("GET of a tcb call: %+v, want errcode %d", resp, wire.CodeRequirePost)
	}
}

func TestQcloudTokenGivesDummyCredentialsTenAnHour(t *testing.T) {
	r := newRig(t, emulator.Options{})
	call := func(lifespan int) wire.QcloudTokenResponse {
		var resp wire.QcloudTokenResponse
		r.call(wire.PathGetQcloudToken, wire.QcloudTokenRequest{Lifespan: lifespan}, &resp)
		return resp
	}
	for _, bad := range []int{0, 7201} {
		if resp := call(bad); resp.ErrCode != wire.CodeInvalidArg {
			t.Errorf("lifespan %d: %+v", bad, resp.Envelope)
		}
	}
	for i := 0; i < 10; i++ {
		resp := call(600)
		if resp.ErrCode != 0 || resp.SecretID == "" || resp.SecretKey == "" || resp.Token == "" ||
			resp.ExpiredTime != r.clock.Now().Unix()+600 {
			t.Fatalf("call %d: %+v", i+1, resp)
		}
	}
	if resp := call(600); resp.ErrCode != wire.CodeQuota {
		t.Fatalf("11th call within the hour: %+v", resp.Envelope)
	}
	r.clock.Advance(time.Hour)
	if resp := call(600); resp.ErrCode != 0 {
		t.Fatalf("an hour later: %+v", resp.Envelope)
	}
}
