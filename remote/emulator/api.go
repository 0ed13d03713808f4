package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// maxBody bounds API request bodies.
const maxBody = 1 << 20

// apiError is a failure answered as {"code": code, "message": msg, "data": null}.
type apiError struct {
	code int
	msg  string
}

func errf(code int, format string, a ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, a...)}
}

// call is one API request on its way through the pipeline.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	client string // authenticated client ID
	body   []byte
}

// base is "http://host:port" as the client reached us: links point there.
func (c *call) base() string { return requestBase(c.r) }

func requestBase(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// decode reads the JSON body into v after checking that every required key
// is present (Go's zero values cannot tell "missing" from "0" or "").
func (c *call) decode(v any, required ...string) *apiError {
	b, err := io.ReadAll(io.LimitReader(c.r.Body, maxBody+1))
	if err != nil {
		return errf(wire.CodeInternal, "reading request body: %v", err)
	}
	if len(b) > maxBody {
		return errf(wire.CodeInternal, "request body larger than %d bytes", maxBody)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil || keys == nil {
		return errf(wire.CodeInternal, "request body must be a JSON object: %v", err)
	}
	var missing []string
	for _, k := range required {
		if _, ok := keys[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return errf(wire.CodeInternal, "missing required field(s): %s", strings.Join(missing, ", "))
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errf(wire.CodeInternal, "invalid request body: %v", err)
	}
	return nil
}

// requireType checks the "type: 1" image-host calls carry.
func requireType(t int) *apiError {
	if t != wire.TypeImageHost {
		return errf(wire.CodeInternal, "type must be %d (image host), got %d", wire.TypeImageHost, t)
	}
	return nil
}

// endpoint is one API call of the table.
type endpoint struct {
	method    string
	path      string
	auth      bool // needs a bearer token
	verifying bool // may get the injected 20103 "being verified" fault
	h         func(*call) (any, *apiError)
}

func (s *Server) endpoints() []endpoint {
	return []endpoint{
		{http.MethodPost, wire.PathAccessToken, false, false, s.handleAccessToken},
		{http.MethodGet, wire.PathUserInfo, true, false, s.handleUserInfo},
		{http.MethodPost, wire.PathMkdir, true, false, s.handleMkdir},
		{http.MethodPost, wire.PathCreate, true, false, s.handleCreate},
		{http.MethodPost, wire.PathGetUploadURL, true, false, s.handleGetUploadURL},
		{http.MethodPost, wire.PathListUploadParts, true, false, s.handleListUploadParts},
		{http.MethodPost, wire.PathUploadComplete, true, true, s.handleUploadComplete},
		{http.MethodPost, wire.PathUploadAsyncResult, true, true, s.handleUploadAsyncResult},
		{http.MethodGet, wire.PathDetail, true, false, s.handleDetail},
		{http.MethodPost, wire.PathList, true, false, s.handleList},
		{http.MethodPost, wire.PathDelete, true, false, s.handleDelete},
		{http.MethodPost, wire.PathMove, true, false, s.handleMove},
		{http.MethodPost, wire.PathCopy, true, false, s.handleCopy},
		{http.MethodGet, wire.PathCopyProcess, true, false, s.handleCopyProcess},
		{http.MethodGet, wire.PathCopyFail, true, false, s.handleCopyFail},
		{http.MethodPost, wire.PathOffline, true, false, s.handleOffline},
		{http.MethodGet, wire.PathOfflineProcess, true, false, s.handleOfflineProcess},
	}
}

// routes builds the whole handler.
func (s *Server) routes() http.Handler {
	api := map[string]endpoint{}
	for _, ep := range s.endpoints() {
		api[ep.path] = ep
	}
	admin := s.adminRoutes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if ep, ok := api[p]; ok {
			s.serveAPI(ep, w, r)
			return
		}
		switch {
		case strings.HasPrefix(p, adminPrefix):
			admin.ServeHTTP(w, r)
		case strings.HasPrefix(p, uploadPrefix):
			s.serveSlice(w, r)
		default:
			s.serveDownload(w, r)
		}
	})
}

// serveAPI runs one API call: count, Platform, rate limit, faults, auth,
// handler, envelope.
func (s *Server) serveAPI(ep endpoint, w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.stats.count(r.Method + " " + ep.path)
	c := &call{s: s, w: w, r: r}
	if r.Method != ep.method {
		w.Header().Set("Allow", ep.method)
		s.writeEnvelope(w, http.StatusMethodNotAllowed, nil, errf(wire.CodeInternal, "method %s not allowed for %s, use %s", r.Method, ep.path, ep.method))
		return
	}
	if r.Header.Get(wire.HeaderPlatform) != wire.PlatformValue {
		s.writeEnvelope(w, http.StatusOK, nil, errf(wire.CodeInternal, "missing or wrong %s header: must be %q", wire.HeaderPlatform, wire.PlatformValue))
		return
	}
	name := path.Base(ep.path)
	if !s.ctl.allow(name) {
		s.stats.rateLimited.Add(1)
		status := http.StatusOK
		if s.cfg.HTTP429 {
			status = http.StatusTooManyRequests
		}
		s.log.Debug("rate limited", "endpoint", name)
		s.writeEnvelope(w, status, nil, errf(wire.CodeTooMany, "too many requests: %s is limited to %g per second", name, s.ctl.qpsOf(name)))
		return
	}
	f := s.rollFault(r, ep.verifying)
	if f.before(s, w, r, true) {
		return
	}
	var data any
	var ae *apiError
	if ep.auth {
		c.client, ae = s.authenticate(c)
	}
	if ae == nil {
		data, ae = ep.h(c)
	}
	if f.after(s, w, r, true) {
		return
	}
	if ae != nil {
		s.log.Debug("api call", "call", r.Method+" "+ep.path, "code", ae.code, "msg", ae.msg, "dur", time.Since(start))
	} else {
		s.log.Debug("api call", "call", r.Method+" "+ep.path, "code", 0, "dur", time.Since(start))
	}
	s.writeEnvelope(w, http.StatusOK, data, ae)
}

// writeEnvelope answers {"code","message","data","x-traceID"}.
func (s *Server) writeEnvelope(w http.ResponseWriter, status int, data any, ae *apiError) {
	env := struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    any    `json:"data"`
		TraceID string `json:"x-traceID"`
	}{Message: "ok", Data: data, TraceID: s.traceID()}
	if ae != nil {
		env.Code, env.Message, env.Data = ae.code, ae.msg, nil
	}
	b, err := json.Marshal(env)
	if err != nil {
		env.Code, env.Message, env.Data = wire.CodeInternal, "encoding response: "+err.Error(), nil
		b, _ = json.Marshal(env)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Trace-Id", env.TraceID)
	w.WriteHeader(status)
	w.Write(b)
}
