package config

import (
	"fmt"
	"net"
	"strings"
)

// Metrics is where the mount serves Prometheus metrics over HTTP.
type Metrics struct {
	// Addr is host:port to listen on for GET /metrics; "" (the default)
	// serves none. The control socket serves the same metrics to the
	// mount's owner either way.
	Addr string
	// AllowRemote lets Addr be other than loopback. The metrics carry no
	// secret, but they tell anyone who can reach the port what the mount
	// does and when, so it is refused unless asked for.
	AllowRemote bool
}

// check says what is wrong with m, or nil.
func (m Metrics) check() error {
	if m.Addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(m.Addr)
	if err != nil || port == "" {
		return fmt.Errorf("--metrics-addr %q: host:port, e.g. 127.0.0.1:9123", m.Addr)
	}
	if !m.AllowRemote && !IsLoopback(host) {
		return fmt.Errorf("--metrics-addr %q: not a loopback address; the metrics show anyone who reaches the port what the mount does: "+
			"listen on 127.0.0.1 or [::1], or add --metrics-allow-remote", m.Addr)
	}
	return nil
}

// IsLoopback tells whether host (of host:port) names only this machine:
// localhost, 127.0.0.0/8 or ::1. An empty host means every interface, so
// it is not.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
