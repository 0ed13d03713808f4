package main

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostIP is an IPv4 address of this machine that is not loopback.
func hostIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address to serve the emulator on")
	return ""
}

// An http:// API base on another host would carry the secret and the token
// in clear: refused, unless --insecure-http says so.
func TestMountRefusesPlainHTTPUnlessInsecure(t *testing.T) {
	url := startEmulator(t, "--listen", hostIP(t)+":0")
	out, err := run(binary, "mount", t.TempDir(), "--api-base", url, "--client-id", "a", "--client-secret", "b", "--state-dir", t.TempDir())
	require.Error(t, err, "mount over plain http to %s", url)
	assert.Contains(t, out, "unencrypted")
	assert.Contains(t, out, "--insecure-http")

	m := startMount(t, url, "--insecure-http")
	sh(t, m.mnt, "echo over-http > f.txt")
	assert.Contains(t, remoteTree(t, checker(t, url)), "f.txt")
}
