package remote

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
	"github.com/pan123fs/pan123fs/remote/wire"
)

// Token files in Config.StateDir.
const (
	TokenFile     = "token.json"
	TokenLockFile = "token.lock"
)

// savedToken is the token as kept in memory and in token.json. ClientID and
// BaseURL tie it to the credentials and service it was issued for.
type savedToken struct {
	AccessToken string    `json:"accessToken"`
	ExpiredAt   time.Time `json:"expiredAt"`
	ObtainedAt  time.Time `json:"obtainedAt"`
	ClientID    string    `json:"clientID"`
	BaseURL     string    `json:"baseURL"`
}

// due tells whether t should be renewed: less than a tenth of its lifetime
// or an hour, whichever is smaller, remains. A token that looks expired at
// birth (clock skew) is never due: the service's 401 will say when.
func (t *savedToken) due(now time.Time) bool {
	life := t.ExpiredAt.Sub(t.ObtainedAt)
	if life <= 0 {
		return false
	}
	return t.ExpiredAt.Sub(now) < min(life/10, time.Hour)
}

func (t *savedToken) expired(now time.Time) bool {
	return t.ExpiredAt.Sub(t.ObtainedAt) > 0 && !now.Before(t.ExpiredAt)
}

// secret holds the client secret and never prints it.
type secret string

func (secret) String() string   { return redactedText }
func (secret) GoString() string { return redactedText }

// tokenManager owns the access token. The current token is guarded by mu;
// sem (capacity 1) lets a single renewal run at a time in this process, and
// the flock on StateDir/token.lock extends that to every process sharing the
// StateDir: under the lock each re-reads token.json and fetches a new token
// only if nobody else already did.
type tokenManager struct {
	c        *Client
	clientID string
	secret   secret
	dir      string

	mu  sync.Mutex
	cur *savedToken

	sem chan struct{}
}

func newTokenManager(c *Client, id, sec, dir string) *tokenManager {
	return &tokenManager{c: c, clientID: id, secret: secret(sec), dir: dir, sem: make(chan struct{}, 1)}
}

// token returns a token to use now, renewing it first if it is due.
func (m *tokenManager) token(ctx context.Context) (string, error) {
	m.mu.Lock()
	cur := m.cur
	m.mu.Unlock()
	if cur != nil && !cur.due(time.Now()) {
		return cur.AccessToken, nil
	}
	stale := ""
	if cur != nil {
		stale = cur.AccessToken
	}
	return m.renew(ctx, stale, false)
}

// renew gets a newer token than stale. forced means stale was refused by the
// service (a 401) and must not be used again; otherwise stale is merely due
// and may still be used if renewal fails.
func (m *tokenManager) renew(ctx context.Context, stale string, forced bool) (string, error) {
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-m.sem }()

	now := time.Now()
	m.mu.Lock()
	cur := m.cur
	m.mu.Unlock()
	if cur != nil && !cur.expired(now) && (cur.AccessToken != stale || (!forced && !cur.due(now))) {
		return cur.AccessToken, nil // renewed meanwhile by another goroutine
	}

	if m.dir != "" {
		unlock, err := m.lock(ctx)
		if err != nil {
			return "", err
		}
		defer unlock()
		if saved := m.load(); saved != nil && saved.AccessToken != stale && !saved.due(now) && !saved.expired(now) {
			m.set(saved)
			m.c.log.Debug("123pan: using the saved token", "expiredAt", saved.ExpiredAt)
			return saved.AccessToken, nil
		}
	}

	fresh, err := m.fetch(ctx)
	if err != nil {
		if !forced && cur != nil && !cur.expired(time.Now()) {
			m.c.log.Warn("123pan: token renewal failed; the current token is still valid", "err", err)
			return cur.AccessToken, nil
		}
		return "", err
	}
	if m.dir != "" {
		if err := m.save(fresh); err != nil {
			m.c.log.Warn("123pan: cannot save the token", "err", err)
		}
	}
	m.set(fresh)
	m.c.obs.TokenRenewed()
	m.c.log.Info("123pan: new access token", "expiredAt", fresh.ExpiredAt)
	return fresh.AccessToken, nil
}

func (m *tokenManager) set(t *savedToken) {
	m.mu.Lock()
	m.cur = t
	m.mu.Unlock()
}

// fetch asks the service for a new token.
func (m *tokenManager) fetch(ctx context.Context) (*savedToken, error) {
	if m.clientID == "" {
		return nil, &APIError{Endpoint: endpointName(wire.PathAccessToken), Code: wire.CodeUnauthorized,
			Message: "no client ID configured"}
	}
	r := post(wire.PathAccessToken, wire.AccessTokenRequest{ClientID: m.clientID, ClientSecret: string(m.secret)})
	r.noAuth = true
	r.redact = string(m.secret)
	var d wire.AccessTokenData
	obtained := time.Now()
	if err := m.c.call(ctx, r, &d, true); err != nil {
		return nil, scrubSecret(err, r.redact)
	}
	if d.AccessToken == "" {
		return nil, &APIError{Endpoint: r.name, Message: "answer has no accessToken", malformed: true}
	}
	t := &savedToken{AccessToken: d.AccessToken, ObtainedAt: obtained, ClientID: m.clientID, BaseURL: m.c.base}
	exp, err := wire.ParseTime(strings.TrimSpace(d.ExpiredAt))
	if err != nil {
		m.c.log.Warn("123pan: token has no readable expiredAt; assuming one hour", "expiredAt", d.ExpiredAt)
		exp = obtained.Add(time.Hour)
	}
	t.ExpiredAt = exp
	return t, nil
}

// scrubSecret makes sure s appears nowhere in err's text, keeping err's
// *APIError (and so its classification) where it can.
func scrubSecret(err error, s string) error {
	if s == "" || !strings.Contains(err.Error(), s) {
		return err
	}
	var e *APIError
	if errors.As(err, &e) {
		c := *e
		c.Message = strings.ReplaceAll(c.Message, s, redactedText)
		if c.Err != nil && strings.Contains(c.Err.Error(), s) {
			c.Err = errors.New(strings.ReplaceAll(c.Err.Error(), s, redactedText))
		}
		if !strings.Contains(c.Error(), s) {
			return &c
		}
	}
	return errors.New(strings.ReplaceAll(err.Error(), s, redactedText))
}

// lock takes the exclusive flock on token.lock, polling so that ctx is
// honoured. The returned func releases it.
func (m *tokenManager) lock(ctx context.Context) (func(), error) {
	unlock, err := durable.Lock(ctx, m.dir, TokenLockFile)
	if err != nil {
		return nil, fmt.Errorf("remote: token lock: %w", err)
	}
	return unlock, nil
}

// load reads token.json; nil if absent, unreadable, or for other
// credentials or another service.
func (m *tokenManager) load() *savedToken {
	b, err := os.ReadFile(filepath.Join(m.dir, TokenFile))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			m.c.log.Warn("123pan: cannot read the saved token", "err", err)
		}
		return nil
	}
	var t savedToken
	if err := json.Unmarshal(b, &t); err != nil || t.AccessToken == "" {
		m.c.log.Warn("123pan: ignoring a malformed saved token")
		return nil
	}
	if t.ClientID != m.clientID || t.BaseURL != m.c.base {
		return nil
	}
	return &t
}

// save writes token.json (0600) atomically and durably.
func (m *tokenManager) save(t *savedToken) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if fi, err := os.Stat(m.dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		m.c.log.Warn("123pan: the state dir is readable by others", "dir", m.dir, "mode", fi.Mode().Perm())
	}
	return durable.WriteFile(filepath.Join(m.dir, TokenFile), append(b, '\n'), 0o600)
}
