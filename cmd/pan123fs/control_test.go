package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The socket is 0600 from bind(2) on, whatever the umask, which is
// restored afterwards.
func TestListenPrivateMakesA0600Socket(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	p := filepath.Join(t.TempDir(), "s.sock")
	ln, err := listenPrivate(p)
	require.NoError(t, err)
	defer ln.Close()
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSocket|0o600, fi.Mode()&(os.ModeType|os.ModePerm))
	assert.Equal(t, 0, syscall.Umask(0), "the umask after listenPrivate")
}
