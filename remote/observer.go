package remote

import (
	"context"
	"errors"
	"time"
)

// Observer is told of the client's traffic, for metrics (package metrics
// turns it into Prometheus collectors). Its methods are called from many
// goroutines at once, on the request's path: they must be quick and must
// not block. Config.Observer nil observes nothing.
type Observer interface {
	// Request is one HTTP exchange, after the rate limiter let it through:
	// one attempt of an API call (endpoint is the path's last element,
	// e.g. "create"), of a slice PUT (EndpointPutSlice) or of a download
	// request (EndpointFetch, up to the answer's headers), with its result
	// (see Result) and how long it took.
	Request(endpoint, result string, d time.Duration)
	// Retry is a pause before another attempt after a failure at endpoint
	// that may pass.
	Retry(endpoint string)
	// TokenRenewed is a new access token obtained from the service (a
	// token read from the state directory is not counted).
	TokenRenewed()
	// Downloaded is n bytes received from download links: the traffic the
	// service meters, including bytes skipped from a server that ignores
	// Range.
	Downloaded(n int64)
}

// Results of a request, as Observer.Request gets them: a small fixed set,
// fit for a metric label.
const (
	ResultOK          = "ok"
	ResultRateLimited = "rate_limited" // code or HTTP 429
	ResultAuth        = "auth"         // code or HTTP 401
	ResultNotFound    = "not_found"    // 5066 or a download link's 404
	ResultServer      = "server_error" // HTTP 5xx, 20103, or an unreadable answer
	ResultRefused     = "refused"      // any other definite refusal (a code, a 4xx)
	ResultTransport   = "transport"    // no answer: connection, timeout, stall
	ResultCanceled    = "canceled"     // the caller gave up
)

// Result sorts the outcome of one request into one of the Result*
// constants.
func Result(err error) string {
	if err == nil {
		return ResultOK
	}
	var e *APIError
	isAPI := errors.As(err, &e)
	switch {
	case errors.Is(err, context.Canceled) || (isAPI && e.canceled):
		return ResultCanceled
	case errors.Is(err, ErrRateLimited):
		return ResultRateLimited
	case errors.Is(err, ErrAuth):
		return ResultAuth
	case errors.Is(err, ErrNotFound):
		return ResultNotFound
	case !isAPI || (e.HTTPStatus == 0 && e.Code == 0 && !e.malformed):
		return ResultTransport
	case e.HTTPStatus >= 500 || e.malformed || errors.Is(e, ErrVerifying):
		return ResultServer
	default:
		return ResultRefused
	}
}

// nopObserver is the Observer of a Config without one.
type nopObserver struct{}

func (nopObserver) Request(string, string, time.Duration) {}
func (nopObserver) Retry(string)                          {}
func (nopObserver) TokenRenewed()                         {}
func (nopObserver) Downloaded(int64)                      {}

// endpointOf is the endpoint an error of this client names ("" if none).
func endpointOf(err error) string {
	var e *APIError
	if errors.As(err, &e) {
		return e.Endpoint
	}
	return ""
}

// fetchResult is the Result of a download link's answer with this status.
func fetchResult(status int) string {
	switch {
	case status/100 == 2 || status == 416:
		return ResultOK
	case status == 429:
		return ResultRateLimited
	case status == 404:
		return ResultNotFound
	case status >= 500:
		return ResultServer
	default:
		return ResultRefused
	}
}
