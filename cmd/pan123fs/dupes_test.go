package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDupes: files of the same content are listed as one group with their
// links; --remove alone removes nothing and says what it would; with --yes
// all but the first of the group go, through the mount and on 123pan.
func TestDupes(t *testing.T) {
	emu := startEmulator(t)
	rc := checker(t, emu)
	m := startMount(t, emu)
	sh(t, m.mnt, "mkdir sub && printf same > a.png && printf same > sub/copy.png && printf other > c.png")
	tree := remoteTree(t, rc)
	want := fmt.Sprintf("%s 4 bytes, 2 copies\n  a.png\t%s\n  sub/copy.png\t%s\n",
		md5sumOf([]byte("same")), tree["a.png"].DownloadURL, tree["sub/copy.png"].DownloadURL)
	assert.Equal(t, want, sh(t, m.mnt, binary+" dupes ."))

	assert.Equal(t, want+"would remove sub/copy.png\n", sh(t, m.mnt, binary+" dupes . --remove"))
	require.Contains(t, remoteTree(t, rc), "sub/copy.png", "a dry run removes nothing")

	assert.Equal(t, want+"removed sub/copy.png\n", sh(t, m.mnt, binary+" dupes . --remove --yes"))
	sh(t, m.mnt, binary+" sync .")
	tree = remoteTree(t, rc)
	assert.NotContains(t, tree, "sub/copy.png")
	assert.Contains(t, tree, "a.png")
	assert.Contains(t, tree, "c.png")
	assert.Equal(t, "no duplicates\n", sh(t, m.mnt, binary+" dupes ."))
	assert.Contains(t, shErr(t, m.mnt, binary+" dupes . --yes"), "--yes confirms --remove")
}
