package emulator

import (
	"crypto/subtle"
	"sort"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// maxTokens is how many tokens one client ID may hold at once.
const maxTokens = 3

type token struct {
	Token   string    `json:"token"`
	Client  string    `json:"client"`
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires"`
}

// setTokens replaces the tokens of one client.
func (st *state) setTokens(client string, list []*token) {
	for k, t := range st.tokens {
		if t.Client == client {
			delete(st.tokens, k)
		}
	}
	for _, t := range list {
		st.tokens[t.Token] = t
	}
}

// checkCredentials tells whether id/secret may get a token.
func (s *Server) checkCredentials(id, secret string) bool {
	if s.cfg.ClientID == "" && s.cfg.ClientSecret == "" {
		return id != "" && secret != ""
	}
	okID := subtle.ConstantTimeCompare([]byte(id), []byte(s.cfg.ClientID)) == 1
	okSecret := subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.ClientSecret)) == 1
	return okID && okSecret
}

// handleAccessToken is POST /api/v1/access_token.
func (s *Server) handleAccessToken(c *call) (any, *apiError) {
	var req wire.AccessTokenRequest
	if ae := c.decode(&req, "clientID", "clientSecret"); ae != nil {
		return nil, ae
	}
	if !s.checkCredentials(req.ClientID, req.ClientSecret) {
		return nil, errf(wire.CodeInternal, "invalid clientID or clientSecret")
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var live []*token
	for _, t := range s.st.tokens {
		if t.Client == req.ClientID && now.Before(t.Expires) {
			live = append(live, t)
		}
	}
	sort.Slice(live, func(i, j int) bool { return live[i].Issued.Before(live[j].Issued) })
	nt := &token{Token: secureString(mixedAlnum, 64), Client: req.ClientID, Issued: now, Expires: now.Add(s.cfg.TokenTTL)}
	live = append(live, nt)
	if len(live) > maxTokens {
		for _, t := range live[:len(live)-maxTokens] {
			s.log.Info("token knocked out by a newer one", "client", req.ClientID, "token", short(t.Token))
		}
		live = live[len(live)-maxTokens:]
	}
	if err := s.commitLocked(&op{Tokens: &tokensOp{Client: req.ClientID, List: live}}); err != nil {
		return nil, errf(wire.CodeInternal, "%v", err)
	}
	s.log.Info("token issued", "client", req.ClientID, "token", short(nt.Token), "expires", nt.Expires)
	return wire.AccessTokenData{AccessToken: nt.Token, ExpiredAt: nt.Expires.In(wire.ChinaTime).Format(time.RFC3339)}, nil
}

// authenticate checks the Authorization header; it returns the client ID.
func (s *Server) authenticate(c *call) (string, *apiError) {
	h := strings.TrimSpace(c.r.Header.Get(wire.HeaderAuth))
	if h == "" {
		return "", errf(wire.CodeUnauthorized, "missing Authorization header (want \"Bearer <accessToken>\")")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", errf(wire.CodeUnauthorized, "malformed Authorization header (want \"Bearer <accessToken>\")")
	}
	s.mu.RLock()
	t := s.st.tokens[tok]
	s.mu.RUnlock()
	if t == nil {
		return "", errf(wire.CodeUnauthorized, "%s: access token unknown, or knocked out (at most %d tokens per client ID)", msgBadLogin, maxTokens)
	}
	if !time.Now().Before(t.Expires) {
		return "", errf(wire.CodeUnauthorized, "access token expired at %s", t.Expires.In(wire.ChinaTime).Format(time.RFC3339))
	}
	return t.Client, nil
}

// short abbreviates a secret for logs.
func short(s string) string {
	if len(s) > 8 {
		return s[:8] + "…"
	}
	return s
}
