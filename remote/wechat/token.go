package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pan123fs/pan123fs/internal/durable"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
	"github.com/pan123fs/pan123fs/store"
)

// TokenSource says where the access token of the tcb calls comes from.
type TokenSource string

// The token sources.
const (
	// TokenStable (the default) gets the token with AppID and Secret
	// through cgi-bin/stable_token, and keeps it in StateDir for every
	// process of the machine (see stableTokens).
	TokenStable TokenSource = "stable_token"
	// TokenFile reads the token from Config.TokenFile: the 微信令牌 of a
	// Cloud Run container (/.tencentcloudbase/wx/cloudbase_access_token,
	// with TokenParam "cloudbase_access_token"), or one another program
	// keeps fresh. The file is read again when it changes and when the
	// service refuses the token.
	TokenFile TokenSource = "file"
	// TokenNone sends no token: WeChat Cloud Run's open-API mode, where the
	// container calls http://api.weixin.qq.com with the paths whitelisted.
	TokenNone TokenSource = "none"
)

// The files of the shared token in Config.StateDir.
const (
	tokenFilePrefix = "wechat-token-" // + appid + ".json"
	tokenLockFile   = "wechat-token.lock"
)

// renewBefore is how long before its end a token is renewed: stable_token
// hands out a new one only from then on (wire.TokenOverlap).
const renewBefore = wire.TokenOverlap * time.Second

// tokens is a source of access tokens.
type tokens interface {
	// token is the token to send now ("" for none).
	token(ctx context.Context) (string, error)
	// refused gets a token other than stale, which the service refused; ok
	// false when this source has none to offer (the call then fails).
	refused(ctx context.Context, stale string) (tok string, ok bool, err error)
}

// noTokens is TokenNone.
type noTokens struct{}

func (noTokens) token(context.Context) (string, error) { return "", nil }
func (noTokens) refused(context.Context, string) (string, bool, error) {
	return "", false, nil
}

// fileTokens is TokenFile: the token is the file's content, trimmed.
type fileTokens struct {
	path string

	mu   sync.Mutex
	tok  string    // GUARDED_BY(mu)
	mod  time.Time // GUARDED_BY(mu): the file's mtime when tok was read
	size int64     // GUARDED_BY(mu)
}

// token reads the file when it changed (size or mtime) since the last
// read. A file that cannot be read or is empty fails the call with
// store.ErrAuth: there is no token to send.
func (f *fileTokens) token(context.Context) (string, error) {
	fi, err := os.Stat(f.path)
	if err != nil {
		return "", store.Wrap(fmt.Errorf("wechat: token file: %w", err), store.ErrAuth)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tok != "" && fi.ModTime().Equal(f.mod) && fi.Size() == f.size {
		return f.tok, nil
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return "", store.Wrap(fmt.Errorf("wechat: token file: %w", err), store.ErrAuth)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", store.Wrap(fmt.Errorf("wechat: token file %s is empty", f.path), store.ErrAuth)
	}
	f.tok, f.mod, f.size = tok, fi.ModTime(), fi.Size()
	return tok, nil
}

func (f *fileTokens) refused(ctx context.Context, stale string) (string, bool, error) {
	f.mu.Lock()
	f.tok = "" // read it again
	f.mu.Unlock()
	tok, err := f.token(ctx)
	if err != nil {
		return "", false, err
	}
	return tok, tok != stale, nil
}

// savedToken is the token as kept in memory and in the shared file. AppID
// and APIBase tie it to the credentials and service it was issued for.
type savedToken struct {
	AccessToken string    `json:"accessToken"`
	ExpiresAt   time.Time `json:"expiresAt"`
	ObtainedAt  time.Time `json:"obtainedAt"`
	AppID       string    `json:"appID"`
	APIBase     string    `json:"apiBase"`
}

// due tells whether t should be renewed: less than renewBefore (or half
// its life, for short-lived tokens) remains.
func (t *savedToken) due(now time.Time) bool {
	life := t.ExpiresAt.Sub(t.ObtainedAt)
	return t.ExpiresAt.Sub(now) < min(renewBefore, life/2)
}

// stableTokens is TokenStable. The current token is guarded by mu; sem
// (capacity 1) lets one renewal run at a time in this process, and a flock
// on StateDir/wechat-token.lock extends that to every process sharing the
// StateDir: under the lock each re-reads the saved token and asks
// stable_token only if nobody else already did. (remote/token.go does the
// same for 123pan; its helpers are methods of the 123pan client.)
type stableTokens struct {
	c      *Client
	appID  string
	secret string
	dir    string // "": memory only

	mu  sync.Mutex
	cur *savedToken // GUARDED_BY(mu)

	sem chan struct{}
}

func (m *stableTokens) current() *savedToken {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur
}

func (m *stableTokens) token(ctx context.Context) (string, error) {
	if cur := m.current(); cur != nil && !cur.due(m.c.clock.Now()) {
		return cur.AccessToken, nil
	}
	return m.renew(ctx, "")
}

func (m *stableTokens) refused(ctx context.Context, stale string) (string, bool, error) {
	tok, err := m.renew(ctx, stale)
	return tok, err == nil, err
}

// renew gets a token other than stale ("": one that is not due).
func (m *stableTokens) renew(ctx context.Context, stale string) (string, error) {
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-m.sem }()

	usable := func(t *savedToken) bool {
		return t != nil && t.AccessToken != stale && !t.due(m.c.clock.Now())
	}
	if cur := m.current(); usable(cur) {
		return cur.AccessToken, nil // renewed meanwhile by another goroutine
	}
	if m.dir != "" {
		unlock, err := m.lock(ctx)
		if err != nil {
			return "", err
		}
		defer unlock()
		if saved := m.load(); usable(saved) {
			m.set(saved)
			return saved.AccessToken, nil
		}
	}
	fresh, err := m.fetch(ctx, false)
	if err == nil && stale != "" && fresh.AccessToken == stale {
		// stable_token in normal mode hands out the token the service
		// just refused: invalidate it (at most 20 a day).
		m.c.log.Warn("wechat: stable_token returned the refused token; forcing a new one")
		fresh, err = m.fetch(ctx, true)
	}
	if err != nil {
		if cur := m.current(); stale == "" && cur != nil && cur.ExpiresAt.After(m.c.clock.Now()) {
			m.c.log.Warn("wechat: token renewal failed; the current token is still valid", "err", err)
			return cur.AccessToken, nil
		}
		return "", err
	}
	if m.dir != "" {
		if err := m.save(fresh); err != nil {
			m.c.log.Warn("wechat: cannot save the token", "err", err)
		}
	}
	m.set(fresh)
	m.c.obs.TokenRenewed()
	m.c.log.Info("wechat: new access token", "expiresAt", fresh.ExpiresAt)
	return fresh.AccessToken, nil
}

func (m *stableTokens) set(t *savedToken) {
	m.mu.Lock()
	m.cur = t
	m.mu.Unlock()
}

// fetch asks cgi-bin/stable_token, with the client's retries.
func (m *stableTokens) fetch(ctx context.Context, force bool) (*savedToken, error) {
	if m.appID == "" || m.secret == "" {
		return nil, classify(&APIError{Call: wire.PathStableToken, Code: wire.CodeInvalidAppID,
			Message: "no AppID or Secret configured"})
	}
	req := wire.StableTokenRequest{GrantType: wire.GrantClientCredential, AppID: m.appID, Secret: m.secret,
		ForceRefresh: force}
	var out wire.TokenResponse
	obtained := m.c.clock.Now()
	if err := m.c.retry(ctx, wire.PathStableToken, "", req, &out); err != nil {
		return nil, err
	}
	if out.AccessToken == "" {
		return nil, classify(&APIError{Call: wire.PathStableToken, Message: "answer has no access_token"})
	}
	ttl := time.Duration(out.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = wire.DefaultTokenTTL * time.Second
	}
	return &savedToken{AccessToken: out.AccessToken, ObtainedAt: obtained, ExpiresAt: obtained.Add(ttl),
		AppID: m.appID, APIBase: m.c.base}, nil
}

func (m *stableTokens) path() string {
	return filepath.Join(m.dir, tokenFilePrefix+safeFileName(m.appID)+".json")
}

// safeFileName keeps [A-Za-z0-9_-] of s and turns the rest into '_'.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// lock takes the exclusive flock on the lock file, polling so that ctx is
// honoured. The returned func releases it.
func (m *stableTokens) lock(ctx context.Context) (func(), error) {
	unlock, err := durable.Lock(ctx, m.dir, tokenLockFile)
	if err != nil {
		return nil, fmt.Errorf("wechat: token lock: %w", err)
	}
	return unlock, nil
}

// load reads the saved token; nil if absent, unreadable, or for other
// credentials or another service.
func (m *stableTokens) load() *savedToken {
	b, err := os.ReadFile(m.path())
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			m.c.log.Warn("wechat: cannot read the saved token", "err", err)
		}
		return nil
	}
	var t savedToken
	if err := json.Unmarshal(b, &t); err != nil || t.AccessToken == "" {
		m.c.log.Warn("wechat: ignoring a malformed saved token", "file", m.path())
		return nil
	}
	if t.AppID != m.appID || t.APIBase != m.c.base {
		return nil
	}
	return &t
}

// save writes the token (0600) atomically and durably.
func (m *stableTokens) save(t *savedToken) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(m.path(), append(b, '\n'), 0o600)
}
