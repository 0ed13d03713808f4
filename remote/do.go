package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// maxResponseBody bounds what an API answer may weigh.
const maxResponseBody = 16 << 20

const userAgent = "pan123fs-remote/1"

// request is one API call.
type request struct {
	name   string // endpoint name, for limits, logs and errors
	method string
	path   string
	query  url.Values
	body   []byte // JSON, encoded once for every attempt
	encErr error  // why the body could not be encoded
	noAuth bool
	redact string // a secret to strip from error texts (the token call's)
}

func post(path string, body any) *request {
	r := &request{name: endpointName(path), method: http.MethodPost, path: path}
	r.body, r.encErr = json.Marshal(body)
	return r
}

func get(path string, query url.Values) *request {
	return &request{name: endpointName(path), method: http.MethodGet, path: path, query: query}
}

// endpointName is the last element of an API path: "mkdir", "list", ...
func endpointName(path string) string {
	return path[strings.LastIndexByte(path, '/')+1:]
}

// call runs r with rate limiting, auth and retries, decoding data into out
// (which may be nil). idempotent says whether an ambiguous failure may
// simply be repeated.
func (c *Client) call(ctx context.Context, r *request, out any, idempotent bool) error {
	return c.retry(ctx, r.name, idempotent, func(ctx context.Context) error {
		return c.send(ctx, r, out)
	})
}

// send is one attempt of r: on a 401 the token is renewed (unless another
// goroutine or process already did) and r is sent once more. It never
// loops on 401.
func (c *Client) send(ctx context.Context, r *request, out any) error {
	if r.noAuth {
		return c.roundTrip(ctx, r, "", out)
	}
	tok, err := c.tokens.token(ctx)
	if err != nil {
		return final(err) // the token fetch had its own retries
	}
	err = c.roundTrip(ctx, r, tok, out)
	if !errors.Is(err, ErrAuth) {
		return err
	}
	c.log.Info("123pan: token refused, renewing", "endpoint", r.name, "err", err)
	tok2, rerr := c.tokens.renew(ctx, tok, true)
	if rerr != nil {
		return final(fmt.Errorf("renewing the token after %v: %w", err, rerr))
	}
	return c.roundTrip(ctx, r, tok2, out)
}

// roundTrip is one HTTP exchange of r: wait for the endpoint's rate limiter,
// send, decode the envelope. Every failure is an *APIError (with r.redact
// scrubbed from its text) and is logged at debug level.
func (c *Client) roundTrip(ctx context.Context, r *request, token string, out any) error {
	start := time.Now()
	err := c.exchange(ctx, r, token, out)
	if err != nil && r.redact != "" {
		err = scrubSecret(err, r.redact)
	}
	if err == nil {
		c.log.Debug("123pan call", "endpoint", r.name, "dur", time.Since(start))
	} else {
		c.log.Debug("123pan call failed", "endpoint", r.name, "dur", time.Since(start), "err", err)
	}
	return err
}

func (c *Client) exchange(ctx context.Context, r *request, token string, out any) error {
	if r.encErr != nil {
		return &APIError{Endpoint: r.name, Message: "encoding the request", Err: r.encErr}
	}
	p, err := c.limits.wait(ctx, r.name)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		} else {
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		return &APIError{Endpoint: r.name, Message: "waiting for the rate limiter", Err: err, canceled: true}
	}
	start := time.Now()
	err = c.exchangeNow(ctx, r, token, out)
	c.obs.Request(r.name, Result(err), time.Since(start))
	c.limits.done(r.name, p, err)
	return err
}

// exchangeNow is exchange once the rate limiter has let r through.
func (c *Client) exchangeNow(ctx context.Context, r *request, token string, out any) error {
	actx, cancel := context.WithTimeout(withCredentials(ctx), c.callTO)
	defer cancel()

	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) { sent.Store(i.Err == nil) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(actx, trace), r.method, u, body)
	if err != nil {
		return &APIError{Endpoint: r.name, Message: "building the request", Err: err}
	}
	req.Header.Set(wire.HeaderPlatform, wire.PlatformValue)
	if token != "" {
		req.Header.Set(wire.HeaderAuth, "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)

	resp, err := c.hc.Do(req)
	if err != nil {
		return transportError(ctx, r.name, err, sent.Load())
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		e := transportError(ctx, r.name, err, true)
		e.Message = fmt.Sprintf("reading the answer (HTTP %d)", resp.StatusCode)
		return e
	}
	if len(raw) > maxResponseBody {
		return &APIError{Endpoint: r.name, HTTPStatus: resp.StatusCode, Message: "answer too large", malformed: true}
	}
	data, err := decodeEnvelope(r.name, resp.StatusCode, raw, resp.Header)
	if err != nil {
		return err
	}
	if out != nil && len(data) > 0 && !bytes.Equal(data, []byte("null")) {
		if err := json.Unmarshal(data, out); err != nil {
			return &APIError{Endpoint: r.name, HTTPStatus: resp.StatusCode, Message: "undecodable data",
				TraceID: traceHeader(resp.Header), Err: err}
		}
	}
	return nil
}

// transportError wraps a failure to get an answer. ctx is the caller's
// context: if it has ended, the error is a cancellation, not a transport
// fault.
func transportError(ctx context.Context, name string, err error, sent bool) *APIError {
	e := &APIError{Endpoint: name, Message: "request failed", Err: err, sent: sent}
	if ctx.Err() != nil {
		e.canceled = true
	}
	return e
}

// decodeEnvelope reads an API answer. It returns data on code 0 with a 2xx
// status, and otherwise an *APIError carrying what could be learnt:
// status, code, message, trace ID. Unknown fields are ignored; code may be
// a number or a numeric string.
func decodeEnvelope(endpoint string, status int, body []byte, hdr http.Header) (json.RawMessage, error) {
	e := &APIError{Endpoint: endpoint, HTTPStatus: status, TraceID: traceHeader(hdr)}
	if ra := hdr.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil && s > 0 {
			e.retryAfter = time.Duration(s) * time.Second
		}
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		e.malformed = true
		e.Message = "empty answer"
		if t := http.StatusText(status); t != "" && status/100 != 2 {
			e.Message = t
		}
		return nil, e
	}
	var env struct {
		Code    json.RawMessage `json:"code"`
		Message json.RawMessage `json:"message"`
		Data    json.RawMessage `json:"data"`
		TraceID json.RawMessage `json:"x-traceID"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Code == nil {
		e.malformed = true
		e.Message = fmt.Sprintf("answer is not a 123pan envelope: %q", snippet(body, 160))
		return nil, e
	}
	code, ok := parseCode(env.Code)
	if !ok {
		e.malformed = true
		e.Message = fmt.Sprintf("answer has a bad code %s", snippet(env.Code, 40))
		return nil, e
	}
	e.Code = code
	e.Message = rawText(env.Message)
	if t := rawText(env.TraceID); t != "" {
		e.TraceID = t
	}
	if code != wire.CodeOK {
		return nil, e
	}
	if status/100 != 2 {
		if e.Message == "" || e.Message == "ok" {
			e.Message = http.StatusText(status)
		}
		return nil, e
	}
	return env.Data, nil
}

// parseCode reads a code that is a JSON number or a numeric string.
func parseCode(raw json.RawMessage) (int, bool) {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int(f)) {
		return 0, false
	}
	return int(f), true
}

// rawText is a JSON string's value, or the raw JSON of anything else
// ("" for null or absent).
func rawText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(snippet(raw, 200))
}

func snippet(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// traceHeader finds a trace ID in response headers, in case the body has
// none.
func traceHeader(h http.Header) string {
	for _, k := range []string{"x-traceID", "X-Trace-Id", "X-Request-Id"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}
