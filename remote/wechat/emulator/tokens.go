package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// tokenOverlap: a cgi-bin/token token lives this long after a newer one is
// issued, and stable_token hands out a new one this long before expiry.
const tokenOverlap = wire.TokenOverlap * time.Second

// tokenStore holds every access token issued, with its expiry, so that an
// expired token answers 42001 and an unknown one 40001.
type tokenStore struct {
	mu     sync.Mutex
	expiry map[string]time.Time // GUARDED_BY(mu)
	latest string               // GUARDED_BY(mu); newest cgi-bin/token token
	stable string               // GUARDED_BY(mu); current stable_token token
	forced time.Time            // GUARDED_BY(mu); last force_refresh
}

func (t *tokenStore) init() { t.expiry = map[string]time.Time{} }

// issue makes a new token valid for ttl from now. Call with mu held.
func (t *tokenStore) issue(now time.Time, ttl time.Duration) string {
	tok := "emu_" + randomHex(60)
	t.expiry[tok] = now.Add(ttl)
	return tok
}

// plain is cgi-bin/token: a new token each call; the previous one stays
// valid for tokenOverlap more, never longer than it would have.
func (t *tokenStore) plain(now time.Time, ttl time.Duration) (string, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if exp, ok := t.expiry[t.latest]; ok && exp.After(now.Add(tokenOverlap)) {
		t.expiry[t.latest] = now.Add(tokenOverlap)
	}
	t.latest = t.issue(now, ttl)
	return t.latest, ttl
}

// stableToken is cgi-bin/stable_token: the same token until tokenOverlap
// before its expiry, then a new one (the old one lives out its time).
// force kills the current token at once and issues a new one, unless the
// previous force was less than wire.ForceRefreshSpacing ago (then ok is
// false).
func (t *tokenStore) stableToken(now time.Time, ttl time.Duration, force bool) (tok string, left time.Duration, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if force {
		if !t.forced.IsZero() && now.Before(t.forced.Add(wire.ForceRefreshSpacing*time.Second)) {
			return "", 0, false
		}
		t.forced = now
		delete(t.expiry, t.stable)
	} else if exp, ok := t.expiry[t.stable]; ok && now.Before(exp.Add(-tokenOverlap)) {
		return t.stable, exp.Sub(now), true
	}
	t.stable = t.issue(now, ttl)
	return t.stable, ttl, true
}

// check says whether tok may call: 0, or the errcode that refuses it.
func (t *tokenStore) check(tok string, now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	exp, ok := t.expiry[tok]
	switch {
	case !ok:
		return wire.CodeInvalidToken
	case !now.Before(exp):
		return wire.CodeTokenExpired
	}
	return wire.CodeOK
}

// credentials checks a token request's grant_type, appid and secret.
func (s *Server) credentials(grant, appid, secret string) (wire.Envelope, bool) {
	switch {
	case grant != wire.GrantClientCredential:
		return errorf(wire.CodeInvalidGrantType, "invalid grant_type"), false
	case appid == "" || secret == "":
		return errorf(wire.CodeMissingParam, "missing appid or secret"), false
	case s.opt.AppID != "" && appid != s.opt.AppID:
		return errorf(wire.CodeInvalidAppID, "invalid appid"), false
	case s.opt.Secret != "" && secret != s.opt.Secret:
		return errorf(wire.CodeInvalidToken, "invalid credential, access_token is invalid or not latest"), false
	}
	return wire.Envelope{}, true
}

// token is GET /cgi-bin/token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeJSON(w, errorf(wire.CodeRequireGet, "require GET method"))
		return
	}
	q := r.URL.Query()
	if e, ok := s.credentials(q.Get("grant_type"), q.Get("appid"), q.Get("secret")); !ok {
		writeJSON(w, e)
		return
	}
	tok, ttl := s.tokens.plain(s.clock.Now(), s.opt.TokenTTL)
	writeJSON(w, wire.TokenResponse{AccessToken: tok, ExpiresIn: int(ttl / time.Second)})
}

// stableToken is POST /cgi-bin/stable_token.
func (s *Server) stableToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, errorf(wire.CodeRequirePost, "require POST method"))
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxJSONBody))
	if err != nil || len(b) == 0 {
		writeJSON(w, errorf(wire.CodeEmptyBody, "empty post data"))
		return
	}
	var req wire.StableTokenRequest
	if err := json.Unmarshal(b, &req); err != nil {
		writeJSON(w, errorf(wire.CodeBadJSON, "data format error: %v", err))
		return
	}
	if e, ok := s.credentials(req.GrantType, req.AppID, req.Secret); !ok {
		writeJSON(w, e)
		return
	}
	tok, ttl, allowed := s.tokens.stableToken(s.clock.Now(), s.opt.TokenTTL, req.ForceRefresh)
	if !allowed {
		writeJSON(w, errorf(wire.CodeQuota, "force_refresh at most once every %d s", wire.ForceRefreshSpacing))
		return
	}
	writeJSON(w, wire.TokenResponse{AccessToken: tok, ExpiresIn: int(ttl / time.Second)})
}

// authorize checks a tcb call's credential: access_token, or its alias
// cloudbase_access_token, or none at all in OpenAPI mode.
func (s *Server) authorize(r *http.Request) (wire.Envelope, bool) {
	q := r.URL.Query()
	tok := q.Get(wire.QueryAccessToken)
	if tok == "" {
		tok = q.Get(wire.QueryCloudBaseAccessToken)
	}
	if tok == "" {
		if s.opt.OpenAPI {
			return wire.Envelope{}, true
		}
		return errorf(wire.CodeTokenMissing, "access_token missing"), false
	}
	switch s.tokens.check(tok, s.clock.Now()) {
	case wire.CodeInvalidToken:
		return errorf(wire.CodeInvalidToken, "invalid credential, access_token is invalid or not latest"), false
	case wire.CodeTokenExpired:
		return errorf(wire.CodeTokenExpired, "access_token expired"), false
	}
	return wire.Envelope{}, true
}

// tcb runs a tcb call: POST only, a valid credential, the rate limit, then
// the handler, whose result is the JSON answer.
func (s *Server) tcb(w http.ResponseWriter, r *http.Request, path string, h func(*http.Request) any) {
	if r.Method != http.MethodPost {
		writeJSON(w, errorf(wire.CodeRequirePost, "require POST method"))
		return
	}
	if e, ok := s.authorize(r); !ok {
		writeJSON(w, e)
		return
	}
	if !s.quota.allowCall(path, s.clock.Now()) {
		s.stats.quotaRefused.Add(1)
		writeJSON(w, errorf(wire.CodeRequestQuota, "EXCEED_REQUEST_LIMIT: request count over the environment's quota"))
		return
	}
	writeJSON(w, h(r))
}
