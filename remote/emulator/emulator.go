// Package emulator is the project's stand-in for the 123pan image-host (图床)
// API: an HTTP server that speaks package wire exactly as the real service is
// documented to (see shared/spec/123pan-oss-api.md), stores blobs on disk
// content-addressed by md5, can persist its state across restarts, and can
// inject faults and rate limits so the client's retry logic gets exercised.
//
// Tests use it in-process (New, Start, URL, Close); the CLI runs it as
// `pan123fs emulator`.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultSliceSize  = 104857600
	DefaultTokenTTL   = 30 * 24 * time.Hour
	DefaultAsyncDelay = time.Second
	DefaultPresignTTL = 10 * time.Minute
	DefaultSlowDelay  = 2 * time.Second
	// DefaultAsyncAbove: single-slice uploads larger than 1 MiB complete
	// asynchronously, smaller ones at once, so both paths run.
	DefaultAsyncAbove = 1 << 20
	// AsyncNever as Config.AsyncAbove keeps every single-slice upload
	// synchronous.
	AsyncNever int64 = -1
	// AsyncNow as Config.AsyncDelay makes multi-slice uploads complete at
	// once (upload_complete still answers async:true).
	AsyncNow time.Duration = -1
)

// Config configures a Server. The zero value is usable.
type Config struct {
	// DataDir holds blobs and state. "" means a temporary directory that is
	// removed on Close; with a directory, state survives a restart.
	DataDir string
	// ClientID and ClientSecret, when set, are the only credentials that get
	// a token; when empty any non-empty pair is accepted.
	ClientID, ClientSecret string
	// RevokeTokens drops the tokens that DataDir kept from earlier runs,
	// for an emulator whose credentials change every run.
	RevokeTokens bool
	SliceSize    int64         // default 104857600
	TokenTTL     time.Duration // default 30 days
	// AsyncDelay is how long an asynchronous upload (see AsyncAbove) takes
	// to become completed after upload_complete; 0 means the default, 1s. AsyncNow (or any
	// negative value) means completed at once, though upload_complete still
	// answers async:true.
	AsyncDelay time.Duration
	PresignTTL time.Duration // default 10 minutes
	// AsyncAbove is the size in bytes above which a single-slice upload
	// also completes asynchronously (upload_complete answers async:true,
	// completed:false, as the official example shows for a 22 MB file);
	// 0 means the default, 1 MiB; AsyncNever (any negative value) means
	// never. Multi-slice uploads are always asynchronous.
	AsyncAbove int64
	// QPS limits calls per second per endpoint, keyed by the last path
	// element ("delete", "list", "create", ...); absent = unlimited.
	QPS map[string]float64
	// HTTP429 makes rate-limited answers carry HTTP status 429 too (by
	// default they are HTTP 200 with body code 429).
	HTTP429            bool
	Faults             Faults
	RejectEmpty        bool  // refuse zero-byte files at create
	AllowRemoteOffline bool  // offline migration may fetch non-loopback URLs
	Seed               int64 // RNG seed for faults and IDs; 0 = time-based
	Logger             *slog.Logger

	// Account is what user/info reports (account.go).
	Account AccountConfig
}

// Server is a running (or ready to run) emulator.
type Server struct {
	cfg     Config
	log     *slog.Logger
	dir     string
	tempDir bool
	persist bool
	lock    *os.File // flock on DataDir/lock: one emulator per directory

	mu       sync.RWMutex // guards st, jr, tasks, timers, closed
	st       *state
	jr       *journal
	timers   map[string]*time.Timer
	copies   map[string]*copyTask
	offlines map[int64]*offlineTask
	nextTask int64
	closed   bool

	rngMu sync.Mutex
	rng   *rand.Rand

	ctl   controls
	stats statsCounter

	handler http.Handler
	srvMu   sync.Mutex
	srv     *http.Server
	url     string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New creates a server and loads its state from cfg.DataDir, if any.
func New(cfg Config) (*Server, error) {
	if cfg.SliceSize <= 0 {
		cfg.SliceSize = DefaultSliceSize
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.AsyncDelay == 0 {
		cfg.AsyncDelay = DefaultAsyncDelay
	} else if cfg.AsyncDelay < 0 {
		cfg.AsyncDelay = 0
	}
	if cfg.AsyncAbove == 0 {
		cfg.AsyncAbove = DefaultAsyncAbove
	}
	if cfg.PresignTTL <= 0 {
		cfg.PresignTTL = DefaultPresignTTL
	}
	cfg.Account = cfg.Account.withDefaults(time.Now())
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		timers:   map[string]*time.Timer{},
		copies:   map[string]*copyTask{},
		offlines: map[int64]*offlineTask{},
		rng:      rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)),
	}
	s.nextTask = 100000 + s.rng.Int64N(900000)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.ctl.setFaults(cfg.Faults); err != nil {
		return nil, err
	}
	if err := s.ctl.setQPS(cfg.QPS); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		d, err := os.MkdirTemp("", "pan123-emulator-*")
		if err != nil {
			return nil, err
		}
		s.dir, s.tempDir = d, true
	} else {
		s.dir, s.persist = cfg.DataDir, true
	}
	for _, sub := range []string{blobsDir, uploadsDir} {
		if err := os.MkdirAll(filepath.Join(s.dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	if s.persist {
		lock, err := lockDir(s.dir)
		if err != nil {
			return nil, err
		}
		s.lock = lock
	}
	if err := s.load(); err != nil {
		if s.tempDir {
			os.RemoveAll(s.dir)
		}
		if s.lock != nil {
			s.lock.Close()
		}
		return nil, fmt.Errorf("emulator: load state from %s: %w", s.dir, err)
	}
	s.handler = s.routes()
	s.log.Info("emulator ready", "dir", s.dir, "persistent", s.persist, "entries", len(s.st.entries))
	return s, nil
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.srvMu.Lock()
	s.srv = srv
	s.url = "http://" + ln.Addr().String()
	s.srvMu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	s.log.Info("emulator listening", "url", s.URL())
	return nil
}

// URL is "http://127.0.0.1:PORT" after Start, "" before.
func (s *Server) URL() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.url
}

// Handler serves the API, the slice uploads, the downloads and /__emulator/.
// Links it hands out point at the Host the request came to.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops serving and background work, flushes the state and, for a
// temporary data directory, removes it.
func (s *Server) Close() error {
	s.cancel() // wakes slow faults and background tasks
	s.srvMu.Lock()
	srv := s.srv
	s.srvMu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		cancel()
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for id, t := range s.timers {
		t.Stop()
		delete(s.timers, id)
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.jr != nil {
		err = s.snapshotLocked()
		if cerr := s.jr.close(); err == nil {
			err = cerr
		}
		s.jr = nil
	}
	if s.tempDir {
		if rerr := os.RemoveAll(s.dir); err == nil {
			err = rerr
		}
	}
	if s.lock != nil {
		s.lock.Close() // releases the flock
	}
	return err
}

// SetFaults replaces the fault probabilities at run time.
func (s *Server) SetFaults(f Faults) { _ = s.ctl.setFaults(f) }

// SetQPS replaces the per-endpoint rate limits at run time (nil = none).
func (s *Server) SetQPS(m map[string]float64) { _ = s.ctl.setQPS(m) }

// goBackground runs f as tracked background work (Close waits for it).
func (s *Server) goBackground(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// sleepCtx sleeps d or until the server closes; false when it closed.
func (s *Server) sleepCtx(d time.Duration) bool {
	if d <= 0 {
		return s.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// lockDir takes an exclusive flock on dir/lock so that two emulators never
// share a data directory (the lock goes with the process, even on a kill).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("emulator: data directory %s is in use by another emulator: %w", dir, err)
	}
	return f, nil
}
