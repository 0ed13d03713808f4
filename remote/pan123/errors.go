package pan123

import (
	"context"
	"errors"
	"net"
	"net/url"

	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/store"
)

// wrap turns an error of the client into a *store.Error matching the store
// sentinels, and says whether trying again may help: 123pan's rules of
// which failures are permanent live here. Context errors stay as they are
// (the caller gave up; nothing is known of the service).
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var kinds []error
	for _, m := range []struct{ ours, theirs error }{
		{store.ErrNotFound, remote.ErrNotFound},
		{store.ErrExists, remote.ErrNameClash},
		{store.ErrInvalidName, remote.ErrInvalidName},
		{store.ErrQuota, remote.ErrQuota},
		{store.ErrAuth, remote.ErrAuth},
		{store.ErrRateLimited, remote.ErrRateLimited},
	} {
		if errors.Is(err, m.theirs) {
			kinds = append(kinds, m.ours)
		}
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		if !store.FromBackend(err) && len(kinds) == 0 {
			return err
		}
	case permanent(err):
		kinds = append(kinds, store.ErrPermanent)
	case !fromNetwork(err) && len(kinds) == 0:
		return err // a local failure (reading the content to send, say)
	case remote.IsTemporary(err), errors.Is(err, remote.ErrVerifying), !isAnswer(err):
		kinds = append(kinds, store.ErrTemporary)
	}
	return store.Wrap(err, kinds...)
}

// fromNetwork tells whether err came from talking to 123pan (an API
// answer, or a connection that failed) rather than from the local disk.
// (Not net.Error: every syscall.Errno is one.)
func fromNetwork(err error) bool {
	var api *remote.APIError
	var uerr *url.Error
	var oerr *net.OpError
	return errors.As(err, &api) || errors.As(err, &uerr) || errors.As(err, &oerr)
}

// permanent tells whether err will not go away by trying again: 123pan
// refused the name or the content for good (a definite answer with a code,
// other than the ones that pass: rate limits, authorisation, quota,
// verification).
func permanent(err error) bool {
	switch {
	case errors.Is(err, remote.ErrInvalidName), errors.Is(err, remote.ErrNameClash):
		return true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		remote.IsTemporary(err), errors.Is(err, remote.ErrRateLimited), errors.Is(err, remote.ErrAuth),
		errors.Is(err, remote.ErrQuota), errors.Is(err, remote.ErrVerifying):
		return false
	}
	var ae *remote.APIError
	return errors.As(err, &ae) && ae.Code != 0 && ae.HTTPStatus < 500
}

// isAnswer tells whether err is a definite answer of 123pan (as opposed to
// a failure to reach it).
func isAnswer(err error) bool {
	var ae *remote.APIError
	return errors.As(err, &ae) && (ae.Code != 0 || ae.HTTPStatus != 0)
}
