package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linkStatus is the HTTP status of an image's public link.
func linkStatus(t *testing.T, link string) int {
	t.Helper()
	resp, err := http.Get(link)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestGioTrashNeverPublishes: GLib sees no trash on the mount, so `gio
// trash` refuses (nothing is moved or published) and `gio remove`, what a
// file manager then offers, takes the image off the web.
func TestGioTrashNeverPublishes(t *testing.T) {
	if _, err := exec.LookPath("gio"); err != nil {
		t.Fatalf("gio is missing: scripts/deps.sh installs libglib2.0-bin")
	}
	emu := startEmulator(t)
	rc := checker(t, emu)
	m := startMount(t, emu)
	src := filepath.Join(t.TempDir(), "cat.jpg")
	require.NoError(t, os.WriteFile(src, []byte("a cat photo"), 0o644))
	sh(t, m.mnt, "mkdir album && cp "+src+" album/cat.jpg")
	tree := remoteTree(t, rc)
	require.Contains(t, tree, "album/cat.jpg")
	link := tree["album/cat.jpg"].DownloadURL
	require.Equal(t, http.StatusOK, linkStatus(t, link))

	out := sh(t, m.mnt, "gio info -a access::can-trash album/cat.jpg")
	assert.Contains(t, out, "access::can-trash: FALSE")
	out = shErr(t, m.mnt, "gio trash album/cat.jpg")
	assert.Contains(t, out, "Unable to find or create trash directory")
	sh(t, m.mnt, binary+" sync "+m.mnt+" --timeout 30s")
	tree = remoteTree(t, rc)
	assert.Equal(t, []string{"album", "album/cat.jpg"}, sortedPaths(tree), "nothing moved, no trash folder, no .trashinfo published")

	sh(t, m.mnt, "gio remove album/cat.jpg")
	sh(t, m.mnt, binary+" sync "+m.mnt+" --timeout 30s")
	assert.Equal(t, []string{"album"}, sortedPaths(remoteTree(t, rc)))
	assert.Equal(t, http.StatusNotFound, linkStatus(t, link), "deleted means no longer on the web")
}

func sortedPaths[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestDesktopsSeeARemoteMount: the mount table shows the default mount as
// fuse.sshfs, the FUSE type GLib 2.76 and later count as remote (so file
// managers do not thumbnail it by default); tools find it by its source;
// --subtype pan123fs shows it as fuse.pan123fs. (This machine's GLib, 2.74,
// counts no FUSE type as remote, so gio itself is not asked here.)
func TestDesktopsSeeARemoteMount(t *testing.T) {
	emu := startEmulator(t)
	m := startMount(t, emu)
	assert.Equal(t, "pan123fs fuse.sshfs\n", sh(t, m.mnt, "findmnt -n -o SOURCE,FSTYPE "+m.mnt))
	assert.Equal(t, m.mnt+"\n", sh(t, m.mnt, "findmnt -n -S pan123fs -o TARGET | grep -Fx "+m.mnt))
	sh(t, m.mnt, "mkdir album && "+binary+" status "+m.mnt)

	local := startMount(t, emu, "--subtype", "pan123fs")
	assert.Equal(t, "pan123fs fuse.pan123fs\n", sh(t, local.mnt, "findmnt -n -o SOURCE,FSTYPE "+local.mnt))
	shErr(t, t.TempDir(), binary+" mount --subtype 'a,b' "+t.TempDir())
}

// TestTheKernelForgetsWhatWasDeletedElsewhere: when a listing shows that
// another client deleted a file, the kernel is told at once (a FUSE
// delete notification), so the name is gone even while the kernel's own
// entry cache (--attr-timeout, a minute here) would still answer for it.
func TestTheKernelForgetsWhatWasDeletedElsewhere(t *testing.T) {
	emu := startEmulator(t)
	rc := checker(t, emu)
	m := startMount(t, emu, "--dir-cache-ttl", "1s", "--attr-timeout", "60s")
	sh(t, m.mnt, "mkdir album && printf x > album/a.jpg && printf y > album/b.jpg && ls -l album >/dev/null")

	tree := remoteTree(t, rc)
	require.NoError(t, rc.Delete(context.Background(), []string{string(tree["album/a.jpg"].FileID)}))
	time.Sleep(1100 * time.Millisecond) // the listing expires
	assert.Equal(t, "b.jpg\n", sh(t, m.mnt, "ls album"))
	out := shErr(t, m.mnt, "stat album/a.jpg")
	assert.Contains(t, out, "No such file or directory", "the kernel still had a.jpg")
}
