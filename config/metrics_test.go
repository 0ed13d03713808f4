package config

import (
	"strings"
	"testing"
)

func TestMetricsAddrLoopbackOnlyUnlessAllowed(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		remote bool
		want   string // "" for valid, else a part of the error
	}{
		{"", false, ""},
		{"127.0.0.1:9123", false, ""},
		{"127.8.0.1:0", false, ""},
		{"localhost:9123", false, ""},
		{"[::1]:9123", false, ""},
		{"0.0.0.0:9123", false, "--metrics-allow-remote"},
		{":9123", false, "not a loopback address"},
		{"192.0.2.7:9123", false, "not a loopback address"},
		{"0.0.0.0:9123", true, ""},
		{":9123", true, ""},
		{"127.0.0.1", false, "host:port"},
	} {
		c := Default()
		c.Metrics = Metrics{Addr: tc.addr, AllowRemote: tc.remote}
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate with --metrics-addr %q (remote %v): %v, want no error", tc.addr, tc.remote, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Validate with --metrics-addr %q (remote %v): %v, want an error saying %q", tc.addr, tc.remote, err, tc.want)
		}
	}
}
