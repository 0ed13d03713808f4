package remote

import (
	"context"
	"net/http"
	"net/url"

	"github.com/pan123fs/pan123fs/internal/redirect"
)

// ErrRedirectRefused is matched (errors.Is) by a call that the API base
// answered with a redirect to another host or scheme: API calls carry the
// client secret (access_token) or the bearer token, and these go to the
// API base only (internal/redirect).
var ErrRedirectRefused = redirect.ErrRefused

// withCredentials marks ctx: redirects of a request made with it must stay
// on the API base.
func withCredentials(ctx context.Context) context.Context { return redirect.WithCredentials(ctx) }

// guardRedirects returns a copy of hc (nil: a tuned default client) that
// keeps credentials on base.
func guardRedirects(hc *http.Client, base *url.URL, conc int) *http.Client {
	if hc == nil {
		hc = &http.Client{Transport: newTransport(conc)}
	}
	return redirect.Guard(hc, base)
}
