package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrRedirectRefused is matched (errors.Is) by a call that the API base
// answered with a redirect to another host or scheme. API calls carry the
// client secret (access_token) or the bearer token, and these go to the API
// base only: net/http would re-send a 307's body, and keep the
// Authorization header for a subdomain or another port. The error is
// permanent: retrying would be redirected the same way.
var ErrRedirectRefused = errors.New("123pan: redirect away from the API base refused")

// maxRedirects is net/http's own limit, kept for the requests whose
// redirects are followed (downloads, slice PUTs).
const maxRedirects = 10

// credentialsKey marks the context of a request that carries credentials.
type credentialsKey struct{}

// withCredentials marks ctx: redirects of a request made with it must stay
// on the API base.
func withCredentials(ctx context.Context) context.Context {
	return context.WithValue(ctx, credentialsKey{}, true)
}

// guardRedirects returns a copy of hc (nil: a tuned default client) whose
// CheckRedirect refuses to take a request that carries credentials
// anywhere but base. Other requests (public download links, presigned slice
// PUTs) carry none and are redirected as hc would redirect them.
func guardRedirects(hc *http.Client, base *url.URL, conc int) *http.Client {
	var g http.Client
	if hc != nil {
		g = *hc // http.Client holds no state of its own: the copy shares the Transport and Jar
	} else {
		g.Transport = newTransport(conc)
	}
	next := g.CheckRedirect
	g.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.Context().Value(credentialsKey{}) != nil && !sameOrigin(req.URL, base) {
			return fmt.Errorf("%w: %s answered with a redirect to %s://%s; credentials are sent to %s://%s only",
				ErrRedirectRefused, via[len(via)-1].URL.Host, req.URL.Scheme, req.URL.Host, base.Scheme, base.Host)
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
