package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRmRecursiveLeavesWhatItCannotSee(t *testing.T) {
	emu := startEmulator(t)
	rc := checker(t, emu)
	ctx := context.Background()
	album, err := rc.Mkdir(ctx, "", "album")
	require.NoError(t, err)
	long := strings.Repeat("图", 100) + ".png" // valid on 123pan, over 255 bytes
	for _, name := range []string{long, "shown.png"} {
		_, err := rc.Upload(ctx, uploadInput(album, name, []byte("image "+name)))
		require.NoError(t, err)
	}
	m := startMount(t, emu)

	assert.Equal(t, "shown.png\n", sh(t, m.mnt, "ls album"))
	out := shErr(t, m.mnt, "rm -r album")
	assert.Contains(t, out, "Directory not empty")
	assert.Equal(t, "", sh(t, m.mnt, "ls album"), "rm -r deleted what it saw")
	sh(t, m.mnt, binary+" sync "+m.mnt+" --timeout 30s")

	tree := remoteTree(t, rc)
	assert.Contains(t, tree, "album", "the folder stays")
	assert.Contains(t, tree, "album/"+long, "with the image the mount could not show")
	assert.NotContains(t, tree, "album/shown.png")
	assert.True(t, bytes.Equal(fetchLink(t, tree["album/"+long].DownloadURL), []byte("image "+long)))
}
