package main

import (
	"context"
	"regexp"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRefreshShowsChangesMadeElsewhere: with a listing TTL of an hour,
// entries another client adds, deletes and moves show only after
// `pan123fs refresh` (run as its own process), -r reaches a subfolder,
// SIGHUP to the mount reaches every folder, and a file written in
// write-back mode and not uploaded yet is kept through all of it.
func TestRefreshShowsChangesMadeElsewhere(t *testing.T) {
	url := startEmulator(t)
	logs := &logTail{next: testWriter(t, "mount")}
	m := startMountLogging(t, t.TempDir(), logs, "--api-base", url, "--state-dir", t.TempDir(),
		"--dir-cache-ttl", "1h", "--write-back=1h")
	rc := checker(t, url)
	ctx := context.Background()
	mkdir := func(parent, name string) string {
		id, err := rc.Mkdir(ctx, parent, name)
		require.NoError(t, err)
		return id
	}
	put := func(parent, name string) string {
		up, err := rc.Upload(ctx, uploadInput(parent, name, []byte(name)))
		require.NoError(t, err)
		return up.FileID
	}
	album, other := mkdir("", "album"), mkdir("", "other")
	sub := mkdir(album, "sub")
	a, b := put(album, "a.png"), put(album, "b.png")
	put(sub, "s1.png")
	ls := func(dir string) string { return sh(t, m.mnt, "ls -1 "+dir+" | tr '\\n' ' '") }
	require.Equal(t, "album other ", ls("."))
	require.Equal(t, "a.png b.png sub ", ls("album"))
	require.Equal(t, "s1.png ", ls("album/sub"))
	require.Equal(t, "", ls("other"))
	sh(t, m.mnt, "echo mine > album/mine.txt")

	// Another client changes album and album/sub.
	put(album, "c.png")
	require.NoError(t, rc.Delete(ctx, []string{a}))
	require.NoError(t, rc.Move(ctx, []string{b}, other))
	put(sub, "s2.png")
	assert.Equal(t, "a.png b.png mine.txt sub ", ls("album"), "within the TTL the mount shows the old listing")
	sh(t, m.mnt, "test ! -e album/c.png")

	out := sh(t, m.mnt, binary+" refresh album")
	assert.Contains(t, out, "refreshed "+m.path("album")+" (1 folders listed)")
	assert.Equal(t, "c.png mine.txt sub ", ls("album"), "after refresh the new state shows at once")
	assert.Equal(t, "c.png", sh(t, m.mnt, "cat album/c.png"))
	sh(t, m.mnt, "test ! -e album/a.png && test ! -e album/b.png")
	assert.Equal(t, "s1.png ", ls("album/sub"), "without -r the subfolder keeps its listing")

	out = sh(t, m.mnt, binary+" refresh -r "+m.path("album/c.png"))
	assert.Contains(t, out, "refreshed "+m.path("album")+" (2 folders listed)", "a file's path refreshes its folder; -r its subfolder")
	assert.Equal(t, "s1.png s2.png ", ls("album/sub"))
	assert.Equal(t, "", ls("other"), "a folder outside the path keeps its listing")

	// SIGHUP: every listing goes stale.
	mkdir("", "late")
	require.NoError(t, m.cmd.Process.Signal(syscall.SIGHUP))
	require.NotNil(t, logs.find(regexp.MustCompile(`msg="SIGHUP: cached listings marked stale[^"]*" folders=4`)),
		"the mount logs that it marked the root, album, album/sub and other")
	assert.Equal(t, "album late other ", ls("."))
	assert.Equal(t, "b.png ", ls("other"))

	// The file written here is still pending, and still there.
	assert.Equal(t, "mine\n", sh(t, m.mnt, "cat album/mine.txt"))
	assert.Contains(t, sh(t, m.mnt, binary+" status "+m.mnt), "album/mine.txt")
	assert.NotContains(t, remoteTree(t, rc), "album/mine.txt", "not uploaded before the write-back delay")

	assert.Contains(t, shErr(t, m.mnt, binary+" refresh "+t.TempDir()), "not inside a pan123fs mount")
}
