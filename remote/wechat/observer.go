package wechat

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
	"github.com/pan123fs/pan123fs/store"
)

// Config.Observer is told of the client's traffic for metrics, with the
// methods and result labels of the 123pan client's (remote.Observer), so
// that one set of metrics serves both backends. Endpoints are the API
// path's last element ("databasequery", "stable_token"), "cos" for the
// COS form POST and remote.EndpointFetch for a download request.

// noObserver observes nothing.
type noObserver struct{}

func (noObserver) Request(string, string, time.Duration) {}
func (noObserver) Retry(string)                          {}
func (noObserver) TokenRenewed()                         {}
func (noObserver) Downloaded(int64)                      {}

// endpointOf is the endpoint label of an API path or a call name.
func endpointOf(call string) string {
	if call == callDownload {
		return remote.EndpointFetch
	}
	return call[strings.LastIndex(call, "/")+1:]
}

// observe tells the observer of one attempt at call, started at start.
func (c *Client) observe(call string, start time.Time, err error) {
	c.obs.Request(endpointOf(call), result(err), c.clock.Since(start))
}

// result sorts the outcome of one attempt into remote's Result labels.
func result(err error) string {
	if err == nil {
		return remote.ResultOK
	}
	var e *APIError
	isAPI := errors.As(err, &e)
	err = classify(err)
	switch {
	case errors.Is(err, context.Canceled):
		return remote.ResultCanceled
	case errors.Is(err, store.ErrRateLimited):
		return remote.ResultRateLimited
	case errors.Is(err, store.ErrAuth):
		return remote.ResultAuth
	case errors.Is(err, store.ErrNotFound):
		return remote.ResultNotFound
	case isAPI && e.transport:
		return remote.ResultTransport
	case isAPI && (e.HTTPStatus >= 500 || e.Code == wire.CodeBusy || e.Code == wire.CodeSystemError ||
		e.Code == wire.CodeCloudSystem || e.Code == wire.CodeCloudTimeout):
		return remote.ResultServer
	}
	return remote.ResultRefused
}
