// Package emulator is the project's stand-in for the parts of the WeChat
// CloudBase (微信云开发) server API a mount uses: access tokens, cloud storage
// (upload credentials, the COS form upload, download links, delete) and the
// database calls over a query-string subset. It speaks package
// remote/wechat/wire, is strict where the documentation is explicit and makes
// the choices written in the last section of
// shared/spec/wechat-cloudbase-storage.md where it is silent. Everything is
// held in memory.
//
// Tests mount a *Server on an httptest.Server; the CLI runs it as
// `pan123fs emulator --backend wechat-cloudbase`. Admin routes live under
// /__emulator/ (admin.go).
package emulator

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// Defaults for the zero values of Options.
const (
	DefaultEnv          = "emulator-0a1b2c"
	DefaultTokenTTL     = wire.DefaultTokenTTL * time.Second
	DefaultUploadWindow = wire.DefaultUploadWindow * time.Second
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// AppID and Secret, when set, are the only pair that gets a token
	// (a wrong appid answers 40013, a wrong secret 40001); when empty any
	// non-empty pair is accepted.
	AppID, Secret string
	// Env is the one CloudBase environment ID served (default DefaultEnv).
	// It must not contain '.'. Calls naming another env answer
	// wire.CodeResourceMissing.
	Env string
	// TokenTTL is the lifetime of access tokens (default 7200 s).
	TokenTTL time.Duration
	// UploadWindow is how long an uploadfile credential is good for
	// (default 900 s).
	UploadWindow time.Duration
	// MaxObjectSize bounds one COS form upload (default 5 GB).
	MaxObjectSize int64
	// OpenAPI accepts tcb calls that carry no token at all, as inside a
	// WeChat Cloud Run container with the open API service on. Calls that
	// do carry one still have it checked.
	OpenAPI bool
	// Quotas are off unless set.
	Quotas Quotas
	// Faults are injected from the start (more can be added over HTTP).
	Faults []Fault
	// Clock is the time source (default the real clock); tests move a
	// fake one to expire tokens, credentials and links.
	Clock  clockwork.Clock
	Logger *slog.Logger
}

// Server is the emulator: an http.Handler. It is safe for concurrent use.
type Server struct {
	opt    Options
	bucket string
	clock  clockwork.Clock
	log    *slog.Logger
	key    []byte // HMAC key of upload signatures and download links

	tokens  tokenStore
	storage objectStore
	db      database
	quota   quotaState
	qcloud  qcloudCalls
	faults  faultList
	stats   statsCounter
	admin   http.Handler
}

// New returns a Server for opt, with defaults filled in.
func New(opt Options) *Server {
	if opt.Env == "" {
		opt.Env = DefaultEnv
	}
	if opt.TokenTTL <= 0 {
		opt.TokenTTL = DefaultTokenTTL
	}
	if opt.UploadWindow <= 0 {
		opt.UploadWindow = DefaultUploadWindow
	}
	if opt.MaxObjectSize <= 0 {
		opt.MaxObjectSize = wire.MaxObjectSize
	}
	if opt.Clock == nil {
		opt.Clock = clockwork.NewRealClock()
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opt:    opt,
		bucket: wire.Bucket(opt.Env),
		clock:  opt.Clock,
		log:    opt.Logger,
		key:    make([]byte, 32),
	}
	rand.Read(s.key)
	s.tokens.init()
	s.storage.init()
	s.db.init()
	s.quota.init(opt.Quotas)
	s.faults.set(opt.Faults)
	s.admin = s.adminRoutes()
	return s
}

// Env is the environment ID the server serves.
func (s *Server) Env() string { return s.opt.Env }

// Bucket is the env's COS bucket name.
func (s *Server) Bucket() string { return s.bucket }

// Route prefixes of the emulator's own COS: form uploads go to
// cosPrefix+bucket+"/"+key, download links to downloadPrefix+bucket+"/"+key.
const (
	cosPrefix      = "/cos/"
	downloadPrefix = "/dl/"
)

// tcbHandler is the handler of a JSON endpoint that takes a token, or nil.
func (s *Server) tcbHandler(path string) func(r *http.Request) any {
	switch path {
	case wire.PathUploadFile:
		return s.uploadFile
	case wire.PathBatchDownloadFile:
		return s.batchDownloadFile
	case wire.PathBatchDeleteFile:
		return s.batchDeleteFile
	case wire.PathDatabaseAdd, wire.PathDatabaseQuery, wire.PathDatabaseUpdate,
		wire.PathDatabaseDelete, wire.PathDatabaseCount:
		return s.databaseCall
	case wire.PathDatabaseCollectionAdd:
		return s.collectionAdd
	case wire.PathUpdateIndex:
		return s.updateIndex
	case wire.PathGetQcloudToken:
		return s.qcloudToken
	}
	return nil
}

// ServeHTTP routes one request: admin routes first (not counted, never
// faulted), then the counted and faultable API, token endpoints, tcb calls,
// COS uploads and downloads.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasPrefix(path, adminPrefix) {
		s.admin.ServeHTTP(w, r)
		return
	}
	route := routeName(path)
	s.stats.count(r.Method + " " + route)
	if s.injectFault(w, r, route) {
		return
	}
	switch {
	case path == wire.PathToken:
		s.token(w, r)
	case path == wire.PathStableToken:
		s.stableToken(w, r)
	case strings.HasPrefix(path, cosPrefix):
		s.cosUpload(w, r)
	case strings.HasPrefix(path, downloadPrefix):
		s.download(w, r)
	default:
		h := s.tcbHandler(path)
		if h == nil {
			writeJSON(w, errorf(wire.CodeInvalidArg, "invalid url %s", path))
			return
		}
		s.tcb(w, r, path, h)
	}
}

// routeName is the name a request is counted and faulted under: its path,
// or the prefix for COS uploads and downloads (whose paths name objects).
func routeName(path string) string {
	for _, p := range []string{cosPrefix, downloadPrefix} {
		if strings.HasPrefix(path, p) {
			return strings.TrimSuffix(p, "/")
		}
	}
	return path
}
