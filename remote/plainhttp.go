package remote

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrPlainHTTP is matched (errors.Is) by New's error for an http:// base
// URL whose host is not loopback while Config.InsecureHTTP is false: every
// call would send the client secret or the access token unencrypted.
var ErrPlainHTTP = errors.New("remote: plain http:// API base refused")

// checkScheme refuses plain HTTP to a host other than loopback, unless
// insecure.
func checkScheme(u *url.URL, insecure bool) error {
	if u.Scheme != "http" || insecure || isLoopback(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%w: %s would receive the client secret and the access token unencrypted; use https://, or allow it explicitly",
		ErrPlainHTTP, u.Host)
}

// isLoopback tells whether host is localhost, 127.0.0.0/8 or ::1: traffic
// that never leaves the machine.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
