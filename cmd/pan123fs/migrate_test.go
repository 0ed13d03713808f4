package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMigrateRewritesAPost: a post whose images a local web server serves
// is migrated into a folder of a mount. The dry run prints the plan and
// changes nothing; the run imports each image once, rewrites every link to
// it (the bytes behind the new links are the web server's), keeps the
// original as a backup, leaves alone a link already on the image host and
// a link in code, and reports the image it could not fetch (exit status 1),
// leaving that link as it was.
func TestMigrateRewritesAPost(t *testing.T) {
	cat, dog := bytes.Repeat([]byte("cat "), 3000), []byte("dog jpeg bytes")
	web := imageServer(t, map[string][]byte{"/img/cat.png": cat, "/dog.jpg": dog})
	emu := startEmulator(t)
	m := startMount(t, emu)
	require.NoError(t, os.Mkdir(m.path("blog"), 0o755))
	local := writeFiles(t, map[string]string{"owl.gif": "owl bytes"})
	hosted, _, err := runSplit(t, local, "put", "--dir", m.path("blog"), "owl.gif")
	require.NoError(t, err)
	hosted = strings.TrimSpace(hosted)

	original := fmt.Sprintf("# Trip\n![cat](%[1]s/img/cat.png)\n<p><img src=\"%[1]s/dog.jpg\" alt=dog></p>\n"+
		"![owl](%[2]s)\n![again][c]\n![gone](%[1]s/gone.png)\n`![code](%[1]s/img/cat.png)`\n\n[c]: %[1]s/img/cat.png\n", web, hosted)
	post := filepath.Join(t.TempDir(), "post.md")
	require.NoError(t, os.WriteFile(post, []byte(original), 0o640))

	out, stderr, err := runSplit(t, local, "migrate", "--dry-run", "--dir", m.path("blog"), post)
	require.NoError(t, err, stderr)
	assert.Contains(t, out, post+":2: "+web+"/img/cat.png: download and upload into "+m.path("blog"))
	assert.Contains(t, out, post+":4: "+hosted+": on the image host already")
	assert.Contains(t, out, "dry run: 4 link(s) to rewrite, 3 image(s) to import; nothing changed")
	assertFile(t, post, original)
	assert.NoFileExists(t, post+".bak")
	assert.NotContains(t, remoteTree(t, checker(t, emu)), "blog/cat.png", "a dry run imports nothing")

	out, stderr, err = runSplit(t, local, "migrate", "--dir", m.path("blog"), post)
	require.Error(t, err, "gone.png cannot be fetched: out %q", out)
	assert.Contains(t, stderr, web+"/gone.png: the server answered 404 Not Found (link left as it was)")
	assert.Contains(t, out, post+": 3 link(s) rewritten (backup "+post+".bak)")
	assertFile(t, post+".bak", original)

	tree := remoteTree(t, checker(t, emu))
	require.Contains(t, tree, "blog/cat.png")
	require.Contains(t, tree, "blog/dog.jpg")
	assert.NotContains(t, tree, "blog/cat-1.png", "an image linked twice is imported once")
	assert.Equal(t, md5sumOf(cat), tree["blog/cat.png"].Etag)
	newCat, newDog := tree["blog/cat.png"].DownloadURL, tree["blog/dog.jpg"].DownloadURL
	assert.Equal(t, cat, fetchLink(t, newCat))
	assert.Equal(t, dog, fetchLink(t, newDog))
	want := fmt.Sprintf("# Trip\n![cat](%[3]s)\n<p><img src=\"%[4]s\" alt=dog></p>\n"+
		"![owl](%[2]s)\n![again][c]\n![gone](%[1]s/gone.png)\n`![code](%[1]s/img/cat.png)`\n\n[c]: %[3]s\n", web, hosted, newCat, newDog)
	assertFile(t, post, want)
	fi, err := os.Stat(post)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "the rewritten post keeps its mode")

	// A second run imports what is left and never overwrites the backup.
	web2 := imageServer(t, map[string][]byte{"/gone.png": []byte("found again")})
	require.NoError(t, os.WriteFile(post, []byte(strings.ReplaceAll(want, web+"/gone.png", web2+"/gone.png")), 0o640))
	_, stderr, err = runSplit(t, local, "migrate", "--dir", m.path("blog"), post)
	require.NoError(t, err, stderr)
	assertFile(t, post+".bak", original)
	assert.FileExists(t, post+".bak.1")
	assert.Equal(t, []byte("found again"), fetchLink(t, remoteTree(t, checker(t, emu))["blog/gone.png"].DownloadURL))
}

// TestMigrateThroughOfflineMigration: with --import-url 123pan fetches the
// image from the web server itself; the post's link is rewritten to it.
func TestMigrateThroughOfflineMigration(t *testing.T) {
	img := bytes.Repeat([]byte("png "), 2000)
	web := imageServer(t, map[string][]byte{"/a.png": img})
	emu := startEmulator(t, "--async-delay", "200ms")
	m := startMount(t, emu)
	require.NoError(t, os.Mkdir(m.path("blog"), 0o755))
	post := filepath.Join(t.TempDir(), "post.html")
	require.NoError(t, os.WriteFile(post, []byte("<img src='"+web+"/a.png'>\n"), 0o644))

	out, stderr, err := runSplit(t, m.mnt, "migrate", "--import-url", "--dir", "blog", post)
	require.NoError(t, err, stderr)
	tree := remoteTree(t, checker(t, emu))
	require.Contains(t, tree, "blog/a.png")
	link := tree["blog/a.png"].DownloadURL
	assert.Contains(t, out, "imported "+web+"/a.png -> "+link)
	assertFile(t, post, "<img src='"+link+"'>\n")
	assert.Equal(t, img, fetchLink(t, link))
	assert.Regexp(t, regexp.MustCompile(`a\.png: (done|\d+%)`), stderr, "progress of the offline task")
}

func assertFile(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, want, string(b), p)
}

// TestMigrateRefusesAWebPageServedAsAnImage: an error page a server sends
// with 200 under a .png name is not published; the link stays, and the
// exit status says so. (Through the client: no mount.)
func TestMigrateRefusesAWebPageServedAsAnImage(t *testing.T) {
	web := imageServer(t, map[string][]byte{"/cat.png": []byte("<!DOCTYPE html><html><body>Not found</body></html>")})
	emu := startEmulator(t)
	post := filepath.Join(t.TempDir(), "post.md")
	original := "![cat](" + web + "/cat.png)\n"
	require.NoError(t, os.WriteFile(post, []byte(original), 0o644))
	cmd := exec.Command(binary, "migrate", "--dir", "/blog", post)
	cmd.Env = putEnv(t, emu)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	assert.Contains(t, string(out), "not an image: the server sent a web page")
	assertFile(t, post, original)
	assert.Empty(t, remoteTree(t, checker(t, emu)), "nothing published")
}
