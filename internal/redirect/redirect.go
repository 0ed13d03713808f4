// Package redirect keeps API credentials on the API base: a client's
// requests that carry them (a token, a secret in the body) are not
// followed to another scheme, host or port, where net/http would re-send a
// 307's body and keep headers for a subdomain. Both backends' clients use
// it.
package redirect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrRefused is matched (errors.Is) by a call that the API base answered
// with a redirect to another origin. It is permanent: retrying would be
// redirected the same way.
var ErrRefused = errors.New("redirect away from the API base refused")

// maxRedirects is net/http's own limit, kept for the requests whose
// redirects are followed (downloads, slice PUTs).
const maxRedirects = 10

// credentialsKey marks the context of a request that carries credentials.
type credentialsKey struct{}

// WithCredentials marks ctx: redirects of a request made with it must stay
// on the API base.
func WithCredentials(ctx context.Context) context.Context {
	return context.WithValue(ctx, credentialsKey{}, true)
}

// Guard returns a copy of hc whose CheckRedirect refuses to take a
// request that carries credentials (WithCredentials) anywhere but base.
// Other requests (public download links, presigned uploads) carry none and
// are redirected as hc would redirect them.
func Guard(hc *http.Client, base *url.URL) *http.Client {
	g := *hc // http.Client holds no state of its own: the copy shares the Transport and Jar
	next := g.CheckRedirect
	g.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.Context().Value(credentialsKey{}) != nil && !sameOrigin(req.URL, base) {
			return fmt.Errorf("%w: %s answered with a redirect to %s://%s; credentials are sent to %s://%s only",
				ErrRefused, via[len(via)-1].URL.Host, req.URL.Scheme, req.URL.Host, base.Scheme, base.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return &g
}

// sameOrigin tells whether u has the scheme, host and port of base (an
// absent port being the scheme's own).
func sameOrigin(u, base *url.URL) bool {
	return strings.EqualFold(u.Scheme, base.Scheme) &&
		strings.EqualFold(u.Hostname(), base.Hostname()) && port(u) == port(base)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}
