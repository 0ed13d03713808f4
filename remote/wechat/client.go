// Package wechat is the cloud storage of a WeChat CloudBase (微信云开发)
// environment as a store.Backend, reached through the WeChat server API
// (shared/spec/wechat-cloudbase-storage.md). That API cannot list files, so
// the namespace lives in a database collection of the same environment, one
// document per entry, and the content in storage objects under immutable
// keys (backend.go). The client (this file) adds the token, retries and
// turns the answers into the store's errors (errors.go); put.go uploads,
// reader.go reads download links with HTTP Range.
package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"

	"github.com/pan123fs/pan123fs/config"
	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/internal/redirect"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// DefaultAPIBase is the real service.
const DefaultAPIBase = "https://api.weixin.qq.com"

// Defaults of Config fields left zero.
const (
	DefaultCollection   = "pan123fs_entries"
	DefaultPrefix       = "pan123fs"
	DefaultLinkMaxAge   = 24 * time.Hour // wire.MaxAge, the longest a link may live
	DefaultCallTimeout  = time.Minute
	DefaultStallTimeout = time.Minute
)

// DefaultRetry is the retry policy of a Config whose Retry is the zero
// Policy: 8 attempts in all, pauses with full jitter under a ceiling from
// 200 ms doubling up to 10 s.
var DefaultRetry = backoff.Policy{Initial: 200 * time.Millisecond, Max: 10 * time.Second, Attempts: 8, Jitter: true}

// Config configures the client and the backend. Zero fields take the
// defaults. Formatting it (fmt, slog) never shows Secret.
type Config struct {
	// APIBase is the WeChat server API (default DefaultAPIBase). Plain
	// http:// is refused unless the host is loopback or InsecureHTTP is
	// set (Cloud Run's open-API mode calls http://api.weixin.qq.com).
	APIBase      string
	InsecureHTTP bool
	// Env is the CloudBase environment ID (required).
	Env string

	// Token is where the access token comes from (default TokenStable).
	Token  TokenSource
	AppID  string // TokenStable
	Secret string // TokenStable
	// TokenFile is the file TokenFile reads.
	TokenFile string
	// TokenParam is the query parameter the token travels in: "" is
	// "access_token"; "cloudbase_access_token" for the 微信令牌.
	TokenParam string
	// StateDir holds the token TokenStable shares with every process that
	// uses the same StateDir (wechat-token-<appid>.json and a lock file).
	// "": the token is kept in memory only.
	StateDir string

	// Collection is the database collection of the namespace (default
	// DefaultCollection); it is made on first use.
	Collection string
	// Prefix starts every object key (default DefaultPrefix).
	Prefix string
	// LinkMaxAge is the max_age asked for download links (default and at
	// most one day). Links are used until a tenth of it remains.
	LinkMaxAge time.Duration

	// QPS bounds the tcb calls a second of this client (the environment's
	// quota is per second: 30 on the basic plan; -501003 answers are
	// retried with backoff anyway); 0 is unbounded.
	QPS float64

	// HTTPClient is used when set; by default a client with dial, TLS and
	// response-header timeouts and no overall timeout.
	HTTPClient *http.Client
	// Retry is how calls that fail for a reason that may pass are tried
	// again; the zero Policy is DefaultRetry.
	Retry backoff.Policy
	// Clock is what retry pauses wait on and token lifetimes are measured
	// with (default the real clock).
	Clock clockwork.Clock
	// CallTimeout bounds one attempt of an API call (default 1 min).
	CallTimeout time.Duration
	// StallTimeout aborts an upload or download whose body makes no
	// progress for this long (default 1 min); it is retried.
	StallTimeout time.Duration
	Logger       *slog.Logger // default: discard

	// Observer is told of every request, for metrics (see observer.go);
	// nil observes nothing.
	Observer remote.Observer

	// Capacity is the environment's storage capacity in bytes, which the
	// API does not tell (the plan's figure, from the console); 0: unknown.
	Capacity int64
}

// ErrPlainHTTP is New's answer for a plain http:// APIBase to a host that
// is not loopback, without InsecureHTTP.
var ErrPlainHTTP = errors.New("wechat: plain http:// API base refused")

// String shows the Config without the secret.
func (cfg Config) String() string {
	c := cfg
	if c.Secret != "" {
		c.Secret = "[REDACTED]"
	}
	type plain Config
	return fmt.Sprintf("%+v", plain(c))
}

// GoString is String.
func (cfg Config) GoString() string { return cfg.String() }

// LogValue shows the Config to slog without the secret.
func (cfg Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("apiBase", cfg.APIBase), slog.String("env", cfg.Env),
		slog.String("token", string(cfg.Token)), slog.String("appID", cfg.AppID),
		slog.String("collection", cfg.Collection), slog.String("stateDir", cfg.StateDir))
}

// Client speaks the WeChat server API of one environment. Safe for
// concurrent use.
type Client struct {
	base       string
	env        string
	hc         *http.Client
	tokens     tokens
	tokenParam string
	limiter    *rate.Limiter // nil: unbounded
	policy     backoff.Policy
	clock      clockwork.Clock
	callTO     time.Duration
	stallTO    time.Duration
	log        *slog.Logger
	obs        remote.Observer // never nil
}

// String never shows credentials.
func (c *Client) String() string { return "wechat.Client(" + c.base + ", " + c.env + ")" }

// NewClient checks cfg and builds a client. It makes no call: the token is
// fetched (or read from StateDir) on first use.
func NewClient(cfg Config) (*Client, error) {
	base := strings.TrimRight(strings.TrimSpace(cfg.APIBase), "/")
	if base == "" {
		base = DefaultAPIBase
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("wechat: bad API base %q", cfg.APIBase)
	}
	if u.Scheme == "http" && !cfg.InsecureHTTP && !config.IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%w: to %s it would carry the access token unencrypted; use https:// or allow it explicitly", ErrPlainHTTP, u.Host)
	}
	if cfg.Env == "" {
		return nil, fmt.Errorf("wechat: no CloudBase environment (Env) configured")
	}
	c := &Client{base: base, env: cfg.Env, hc: cfg.HTTPClient, tokenParam: cfg.TokenParam, policy: cfg.Retry,
		clock: cfg.Clock, callTO: cfg.CallTimeout, stallTO: cfg.StallTimeout, log: cfg.Logger, obs: cfg.Observer}
	if c.obs == nil {
		c.obs = noObserver{}
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: newTransport()}
	}
	c.hc = redirect.Guard(c.hc, u) // the token and the secret go to the API base only
	if cfg.QPS > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(cfg.QPS), max(1, int(cfg.QPS)))
	}
	if c.tokenParam == "" {
		c.tokenParam = wire.QueryAccessToken
	}
	if c.policy == (backoff.Policy{}) {
		c.policy = DefaultRetry
	}
	if c.clock == nil {
		c.clock = clockwork.NewRealClock()
	}
	if c.callTO <= 0 {
		c.callTO = DefaultCallTimeout
	}
	if c.stallTO <= 0 {
		c.stallTO = DefaultStallTimeout
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	switch cfg.Token {
	case TokenStable, "":
		if cfg.AppID == "" || cfg.Secret == "" {
			return nil, fmt.Errorf("wechat: the stable_token source needs AppID and Secret")
		}
		c.tokens = &stableTokens{c: c, appID: cfg.AppID, secret: cfg.Secret, dir: cfg.StateDir, sem: make(chan struct{}, 1)}
	case TokenFile:
		if cfg.TokenFile == "" {
			return nil, fmt.Errorf("wechat: the file token source needs TokenFile")
		}
		c.tokens = &fileTokens{path: cfg.TokenFile}
	case TokenNone:
		c.tokens = noTokens{}
	default:
		return nil, fmt.Errorf("wechat: unknown token source %q", cfg.Token)
	}
	return c, nil
}

func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// call posts in to the tcb path with the token and decodes the answer
// into out (which embeds wire.Envelope). A refused token is replaced once;
// failures that may pass are retried under the policy. Errors are
// *store.Errors (classify).
func (c *Client) call(ctx context.Context, path string, in, out any) error {
	_, err := c.callTracked(ctx, path, in, out)
	return err
}

// callTracked is call, also telling whether an attempt before the last one
// may have been applied by the service (it was sent whole and no answer
// came back), for the calls that must check before they trust a second
// attempt's refusal (an add refused as a duplicate).
func (c *Client) callTracked(ctx context.Context, path string, in, out any) (ambiguous bool, err error) {
	body, err := json.Marshal(in)
	if err != nil {
		return false, fmt.Errorf("wechat: encoding %s: %w", path, err)
	}
	replaced := false
	for attempt := 0; ; {
		tok, err := c.tokens.token(ctx)
		if err != nil {
			return ambiguous, err
		}
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				return ambiguous, err
			}
		}
		start := c.clock.Now()
		err = c.post(ctx, path, tok, body, out)
		c.observe(path, start, err)
		if err == nil {
			return ambiguous, nil
		}
		var e *APIError
		if errors.As(err, &e) && tokenCode(e.Code) && !replaced {
			replaced = true
			c.log.Info("wechat: token refused, getting another", "call", path, "err", err)
			if _, ok, rerr := c.tokens.refused(ctx, tok); rerr != nil {
				return ambiguous, rerr
			} else if ok {
				continue
			}
		}
		// Sent whole and no full answer (a cut connection, headers and
		// no body), or a gateway's 5xx: the service may have applied it.
		if e != nil && ((e.transport && e.sent) || (e.Code == 0 && e.HTTPStatus >= 500)) {
			ambiguous = true
		}
		if perr := c.pause(ctx, attempt, err, path); perr != nil {
			return ambiguous, perr
		}
		attempt++
	}
}

// retry is call for the token endpoint: no token, the same retries.
func (c *Client) retry(ctx context.Context, path, tok string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("wechat: encoding %s: %w", path, err)
	}
	for attempt := 0; ; attempt++ {
		start := c.clock.Now()
		err := c.post(ctx, path, tok, body, out)
		c.observe(path, start, err)
		if err == nil {
			return nil
		}
		if perr := c.pause(ctx, attempt, err, path); perr != nil {
			return perr
		}
	}
}

// pause waits before retry number attempt (0 = the first) after err, or
// returns the error to give up with: err itself, classified, when it is
// not worth another try or the attempts are used up; ctx's error (wrapping
// err) when ctx ended.
func (c *Client) pause(ctx context.Context, attempt int, err error, what string) error {
	if !temporary(err) || c.policy.Exhausted(attempt+1) || ctx.Err() != nil {
		if ctx.Err() != nil && temporary(err) {
			return fmt.Errorf("%w (last failure: %w)", ctx.Err(), classify(err))
		}
		return classify(err)
	}
	d := c.policy.Delay(attempt)
	c.obs.Retry(endpointOf(what))
	c.log.Warn("wechat: retry", "call", what, "attempt", attempt+1, "delay", d, "err", err)
	if serr := backoff.Sleep(ctx, c.clock, d); serr != nil {
		return fmt.Errorf("%w (last failure: %w)", serr, classify(err))
	}
	return nil
}

// maxResponseBody bounds an API answer.
const maxResponseBody = 16 << 20

// post is one attempt: POST body to path with the token in the query, the
// answer decoded into out. Its errors are *APIErrors and never show the
// token (transport errors lose the URL).
func (c *Client) post(ctx context.Context, path, tok string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(redirect.WithCredentials(ctx), c.callTO)
	defer cancel()
	u := c.base + path
	if tok != "" {
		u += "?" + url.Values{c.tokenParam: {tok}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return &APIError{Call: path, Message: "building the request", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
	}))
	resp, err := c.hc.Do(req)
	if err != nil {
		return &APIError{Call: path, Err: transportCause(err), transport: true, sent: wrote.Load()}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return &APIError{Call: path, HTTPStatus: resp.StatusCode, Message: "reading the answer", Err: transportCause(err), transport: true, sent: true}
	}
	var env wire.Envelope
	jerr := json.Unmarshal(b, &env)
	if jerr == nil && env.ErrCode != wire.CodeOK {
		return &APIError{Call: path, HTTPStatus: httpStatusIfBad(resp.StatusCode), Code: env.ErrCode, Message: env.ErrMsg}
	}
	if resp.StatusCode/100 != 2 {
		return &APIError{Call: path, HTTPStatus: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
	}
	if jerr == nil && out != nil {
		jerr = json.Unmarshal(b, out)
	}
	if jerr != nil {
		return &APIError{Call: path, HTTPStatus: resp.StatusCode, Message: "unreadable answer", Err: jerr}
	}
	return nil
}

func httpStatusIfBad(s int) int {
	if s/100 == 2 {
		return 0
	}
	return s
}

// transportCause is the cause of a failed request without the URL, which
// carries the access token or a link's signature.
func transportCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
