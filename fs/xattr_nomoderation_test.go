package fs

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On a service without moderation (the in-memory store, like WeChat
// CloudBase) a file has its ID, link and md5, but no moderation, rejection
// or traffic attributes: ENODATA, and listxattr does not name them.
func TestXattrsOfAServiceWithoutModeration(t *testing.T) {
	e := newMemEnv(t, Options{})
	require.NoError(t, os.WriteFile(e.path("a.png"), []byte("png"), 0o644))
	buf := make([]byte, 256)
	for _, name := range []string{xattrID, xattrURL, xattrEtag} {
		_, err := syscall.Getxattr(e.path("a.png"), name, buf)
		assert.NoError(t, err, name)
	}
	for _, name := range []string{xattrModeration, xattrRejected, xattrTraffic} {
		_, err := syscall.Getxattr(e.path("a.png"), name, buf)
		assert.Equal(t, syscall.ENODATA, err, name)
	}
	n, err := syscall.Listxattr(e.path("a.png"), buf)
	require.NoError(t, err)
	names := strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00")
	assert.Contains(t, names, xattrURL)
	assert.NotContains(t, names, xattrModeration)
	assert.NotContains(t, names, xattrTraffic)
}
