// Package remote is the client of the 123pan image-host (图床) open API:
// token management, rate limiting, retries, typed calls, uploads and ranged
// downloads. See shared/spec/123pan-oss-api.md; the wire format lives in
// package remote/wire.
//
// A *Client is safe for concurrent use by many goroutines. Several processes
// that use the same Config.StateDir share one saved access token.
package remote

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/pan123fs/pan123fs/internal/backoff"
)

// DefaultBaseURL is the real service.
const DefaultBaseURL = "https://open-api.123pan.com"

// Defaults for Config fields left zero.
const (
	DefaultUploadConcurrency = 4
	DefaultAsyncTimeout      = 5 * time.Minute
	DefaultAsyncPollInterval = time.Second
	DefaultCallTimeout       = 2 * time.Minute
	DefaultStallTimeout      = time.Minute
	DefaultSliceSize         = 104857600 // used only if create answers no sliceSize
)

// Config configures a Client. Zero fields take defaults. Formatting a
// Config with fmt or slog never shows ClientSecret.
type Config struct {
	BaseURL string // default DefaultBaseURL
	// InsecureHTTP lets BaseURL be http:// to a host other than loopback
	// (localhost, 127.0.0.0/8, ::1); New refuses it otherwise
	// (ErrPlainHTTP).
	InsecureHTTP bool
	ClientID     string
	ClientSecret string
	// StateDir holds token.json and token.lock, shared by every process
	// using it. "" keeps the token in memory only.
	StateDir string
	// HTTPClient is used when set (its Transport, Jar and Timeout; its
	// CheckRedirect is wrapped so that API calls are never redirected away
	// from BaseURL); by default a tuned client with dial, TLS and
	// response-header timeouts and no overall timeout.
	HTTPClient *http.Client
	// Limits overrides DefaultLimits per endpoint name (last path element,
	// e.g. "list"): requests per second; a value <= 0 means unlimited.
	Limits map[string]float64
	// RateProfile picks the table the limits start from (default
	// ProfileFree); SetRateProfile changes it later.
	RateProfile RateProfile
	// Retry is how calls that fail for a reason that may pass are tried
	// again (see pause). The zero Policy means DefaultRetry; any other is
	// used as it is (Attempts 0 retries without end, Jitter false waits the
	// full ceiling).
	Retry backoff.Policy
	// Clock is what the retry pauses and the pauses between
	// upload_async_result polls wait on (default the real clock).
	Clock clockwork.Clock
	// UploadConcurrency bounds the slices one Upload sends at once (default 4).
	UploadConcurrency int
	// AsyncTimeout bounds the wait for an upload to complete after its last
	// slice (default 5 min).
	AsyncTimeout time.Duration
	// AsyncPollInterval is the pause between upload_async_result polls
	// (default 1 s). Against the real service (host *.123pan.com) it is
	// never below 1 s; smaller values are honoured elsewhere, for tests.
	AsyncPollInterval time.Duration
	// CallTimeout bounds one attempt of a JSON API call (default 2 min).
	CallTimeout time.Duration
	// StallTimeout aborts a slice PUT or download whose body makes no
	// progress for this long (default 1 min); the attempt is retried.
	StallTimeout time.Duration
	Logger       *slog.Logger // default: discard
	// Observer is told of every request, retry, token renewal and
	// downloaded byte, for metrics (default: nothing is observed).
	Observer Observer
}

const redactedText = "[REDACTED]"

// redactedCopy is Config without the secret, for printing.
type redactedCopy Config

func (cfg Config) redacted() redactedCopy {
	r := redactedCopy(cfg)
	if r.ClientSecret != "" {
		r.ClientSecret = redactedText
	}
	return r
}

// Format prints the Config with the secret replaced, for every verb.
func (cfg Config) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprintf(f, "%#v", cfg.redacted())
	case verb == 'v' && f.Flag('+'):
		fmt.Fprintf(f, "%+v", cfg.redacted())
	case verb == 'q':
		fmt.Fprintf(f, "%q", cfg.String())
	default:
		fmt.Fprintf(f, "%v", cfg.redacted())
	}
}

// String is Config with the secret replaced.
func (cfg Config) String() string { return fmt.Sprintf("%+v", cfg.redacted()) }

// GoString is Config with the secret replaced.
func (cfg Config) GoString() string { return fmt.Sprintf("%#v", cfg.redacted()) }

// LogValue hides the secret from slog.
func (cfg Config) LogValue() slog.Value {
	secret := ""
	if cfg.ClientSecret != "" {
		secret = redactedText
	}
	return slog.GroupValue(
		slog.String("baseURL", cfg.BaseURL),
		slog.String("clientID", cfg.ClientID),
		slog.String("clientSecret", secret),
		slog.String("stateDir", cfg.StateDir),
	)
}

// MarshalJSON hides the secret from encoding/json.
func (cfg Config) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`{"baseURL":%q,"clientID":%q,"clientSecret":%q,"stateDir":%q}`,
		cfg.BaseURL, cfg.ClientID, cfg.redacted().ClientSecret, cfg.StateDir)), nil
}

// Client talks to 123pan. It is safe for concurrent use; all its state
// (token, rate limiters, connection pool) is shared by its goroutines.
type Client struct {
	base       string
	hc         *http.Client
	log        *slog.Logger
	policy     backoff.Policy
	clock      clockwork.Clock
	limits     *limiters
	tokens     *tokenManager
	uploadConc int
	asyncTO    time.Duration
	asyncPoll  time.Duration
	callTO     time.Duration
	stallTO    time.Duration
	rootID     rootCache
	obs        Observer
}

// String never shows credentials.
func (c *Client) String() string { return "remote.Client(" + c.base + ")" }

// New checks cfg and builds a Client. It makes no network call: the token is
// fetched (or read from StateDir) on first use.
func New(cfg Config) (*Client, error) {
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("remote: bad base URL %q", cfg.BaseURL)
	}
	if err := checkScheme(u, cfg.InsecureHTTP); err != nil {
		return nil, err
	}
	c := &Client{
		base:       base,
		log:        cfg.Logger,
		policy:     cfg.Retry,
		clock:      cfg.Clock,
		uploadConc: cfg.UploadConcurrency,
		asyncTO:    cfg.AsyncTimeout,
		asyncPoll:  cfg.AsyncPollInterval,
		callTO:     cfg.CallTimeout,
		stallTO:    cfg.StallTimeout,
		obs:        cfg.Observer,
	}
	if c.obs == nil {
		c.obs = nopObserver{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.policy == (backoff.Policy{}) {
		c.policy = DefaultRetry
	}
	if c.clock == nil {
		c.clock = clockwork.NewRealClock()
	}
	if c.uploadConc <= 0 {
		c.uploadConc = DefaultUploadConcurrency
	}
	if c.asyncTO <= 0 {
		c.asyncTO = DefaultAsyncTimeout
	}
	if c.asyncPoll <= 0 {
		c.asyncPoll = DefaultAsyncPollInterval
	}
	if isRealService(u.Hostname()) && c.asyncPoll < time.Second {
		c.asyncPoll = time.Second
	}
	if c.callTO <= 0 {
		c.callTO = DefaultCallTimeout
	}
	if c.stallTO <= 0 {
		c.stallTO = DefaultStallTimeout
	}
	c.hc = guardRedirects(cfg.HTTPClient, u, c.uploadConc)
	if cfg.RateProfile != "" {
		if _, err := ParseRateProfile(string(cfg.RateProfile)); err != nil {
			return nil, fmt.Errorf("remote: %w", err)
		}
	}
	store := newRateStore(cfg.StateDir, cfg.ClientID, base, time.Now, c.log)
	c.limits = newLimiters(cfg.RateProfile, cfg.Limits, store, c.log, time.Now)
	c.tokens = newTokenManager(c, cfg.ClientID, cfg.ClientSecret, cfg.StateDir)
	return c, nil
}

// SetRateProfile moves the endpoints that Config.Limits does not set to the
// documented rates of p (e.g. once the account turns out to be a member's).
// Rates learnt for undocumented endpoints stay.
func (c *Client) SetRateProfile(p RateProfile) { c.limits.setProfile(p) }

// isRealService tells whether host is 123pan's own.
func isRealService(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "123pan.com" || strings.HasSuffix(h, ".123pan.com")
}

// newTransport is tuned for many concurrent slice uploads and API calls to
// few hosts: connections are reused, every phase before the response
// headers has a timeout, and bodies are bounded only by contexts.
func newTransport(conc int) *http.Transport {
	perHost := max(16, 2*conc+4)
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   15 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * perHost,
		MaxIdleConnsPerHost:   perHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
