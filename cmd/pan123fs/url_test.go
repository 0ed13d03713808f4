package main

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stdout runs a command line in dir and returns its standard output only.
func stdout(t *testing.T, dir, line string) string {
	t.Helper()
	return sh(t, dir, "("+line+") 2>/dev/null")
}

func TestURLCommand(t *testing.T) {
	url := startEmulator(t)
	m := startMount(t, url)
	sh(t, m.mnt, "echo img > cat.png && echo img2 > 'a b.png'")
	link := remoteTree(t, checker(t, url))["cat.png"].DownloadURL
	assert.Equal(t, "img\n", string(fetchLink(t, link)), "bytes behind the link")
	assert.Equal(t, link+"\n", sh(t, m.mnt, binary+" url cat.png"))
	assert.Equal(t, "![cat.png]("+link+")\n", sh(t, m.mnt, binary+" url --format markdown cat.png"))
	assert.Equal(t, `<img src="`+link+`" alt="cat.png">`+"\n", sh(t, m.mnt, binary+" url --format html cat.png"))
	assert.Equal(t, "[img]"+link+"[/img]\n", sh(t, m.mnt, binary+" url --format bbcode cat.png"))
	assert.Equal(t, "[img]"+link+"[/img]\n", sh(t, m.mnt, binary+" url --format ubb cat.png"))
	assert.Len(t, strings.Fields(sh(t, m.mnt, binary+" url cat.png 'a b.png'")), 2)
	assert.Contains(t, shErr(t, m.mnt, binary+" url /etc/hostname"), "no link")
	assert.Contains(t, shErr(t, m.mnt, binary+" url --format rtf cat.png"), "bbcode or ubb")
}

// TestURLTemplate: every placeholder is what the emulator holds of the file.
func TestURLTemplate(t *testing.T) {
	url := startEmulator(t)
	m := startMount(t, url)
	sh(t, m.mnt, "mkdir -p posts/2024 && printf 'a picture' > 'posts/2024/my cat.png'")
	e := remoteTree(t, checker(t, url))["posts/2024/my cat.png"]
	got := stdout(t, m.mnt+"/posts", binary+" url --template '{url}|{name}|{base}|{ext}|{path}|{size}|{md5}|{id}' '2024/my cat.png'")
	want := strings.Join([]string{e.DownloadURL, "my cat.png", "my cat", "png", "posts/2024/my cat.png",
		strconv.FormatInt(e.Size, 10), e.Etag, string(e.FileID)}, "|") + "\n"
	assert.Equal(t, want, got)
	assert.Equal(t, "a picture", string(fetchLink(t, e.DownloadURL)))
	assert.Equal(t, "![my cat]("+e.DownloadURL+")\n", stdout(t, m.mnt, binary+" url --template '![{base}]({url})' 'posts/2024/my cat.png'"))
	assert.Contains(t, shErr(t, m.mnt, binary+" url --template '{nmae}' 'posts/2024/my cat.png'"), "unknown placeholder {nmae}")
	assert.Contains(t, shErr(t, m.mnt, binary+" url --format html --template '{url}' 'posts/2024/my cat.png'"), "not both")
}

// TestURLRecursive: -r prints every file under the folders, in name order;
// a folder without -r is refused.
func TestURLRecursive(t *testing.T) {
	url := startEmulator(t)
	m := startMount(t, url)
	sh(t, m.mnt, "mkdir -p blog/b && echo 1 > blog/z.png && echo 2 > blog/a.png && echo 3 > blog/b/c.png && echo 4 > top.png")
	tree := remoteTree(t, checker(t, url))
	var want []string
	for _, p := range []string{"blog/a.png", "blog/b/c.png", "blog/z.png", "top.png"} {
		want = append(want, p+" "+tree[p].DownloadURL)
	}
	assert.Equal(t, strings.Join(want, "\n")+"\n", stdout(t, m.mnt, binary+" url -r --template '{path} {url}' blog top.png"))
	assert.Contains(t, shErr(t, m.mnt, binary+" url blog"), "is a folder (give -r")
}

// TestURLEncode: --encode percent-encodes what the link cannot hold (here
// the non-ASCII extension 123pan puts in it), and the encoded link serves
// the file.
func TestURLEncode(t *testing.T) {
	api := startEmulator(t)
	m := startMount(t, api)
	sh(t, m.mnt, "printf 'odd' > 'x.图片'")
	link := remoteTree(t, checker(t, api))["x.图片"].DownloadURL
	require.True(t, strings.HasSuffix(link, ".图片"), "download link %q", link)
	enc := strings.TrimSuffix(link, "图片") + url.PathEscape("图片")
	assert.Equal(t, link+"\n", stdout(t, m.mnt, binary+" url 'x.图片'"))
	assert.Equal(t, "![x.图片]("+enc+")\n", stdout(t, m.mnt, binary+" url --encode --format markdown 'x.图片'"))
	assert.Equal(t, "odd", string(fetchLink(t, enc)))
}

// TestURLCustomDomain: --link custom (or PAN123FS_LINK=custom, or link in
// the config file's [url] table) prints the
// link on the account's custom domain, which serves the file; without a
// custom domain it is an error that says so.
func TestURLCustomDomain(t *testing.T) {
	api := startEmulator(t)
	m := startMount(t, api)
	sh(t, m.mnt, "printf 'before' > before.png")
	assert.Contains(t, shErr(t, m.mnt, binary+" url --link custom before.png"), "no custom-domain link")

	own := strings.Replace(api, "127.0.0.1", "localhost", 1)
	code, err := httpPost(api+"/__emulator/domain", own)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	sh(t, m.mnt, "printf 'custom bytes' > after.png")
	e := remoteTree(t, checker(t, api))["after.png"]
	require.True(t, strings.HasPrefix(e.UserSelfURL, own+"/"), "userSelfURL %q", e.UserSelfURL)
	assert.Equal(t, e.UserSelfURL+"\n", stdout(t, m.mnt, binary+" url --link custom after.png"))
	assert.Equal(t, e.UserSelfURL+"\n", stdout(t, m.mnt, "PAN123FS_LINK=custom "+binary+" url after.png"))
	assert.Equal(t, e.DownloadURL+"\n", stdout(t, m.mnt, "PAN123FS_LINK=custom "+binary+" url --link download after.png"))
	conf := filepath.Join(t.TempDir(), "config.toml")
	require.NoError(t, os.WriteFile(conf, []byte("cache-max-size = \"1GiB\"\n[url]\nlink = \"custom\"\nformat = \"markdown\"\n"), 0o600))
	assert.Equal(t, "![after.png]("+e.UserSelfURL+")\n", stdout(t, m.mnt, "PAN123FS_CONFIG="+conf+" "+binary+" url after.png"), "[url] of the config file")
	assert.Equal(t, e.DownloadURL+"\n", stdout(t, m.mnt, "PAN123FS_CONFIG="+conf+" PAN123FS_LINK=download "+binary+" url --format plain after.png"), "the variable and the flag win over the file")
	assert.Equal(t, "<"+e.UserSelfURL+">\n", stdout(t, m.mnt, "PAN123FS_CONFIG="+conf+" "+binary+" url --template '<{url}>' after.png"), "a --template typed here wins over the file's format")
	assert.Equal(t, "<"+e.UserSelfURL+">\n", stdout(t, m.mnt, "PAN123FS_FORMAT=html "+binary+" url --link custom --template '<{url}>' after.png"), "and over the variable's")
	require.NoError(t, os.WriteFile(conf, []byte("[url]\nlnk = \"custom\"\n"), 0o600))
	assert.Contains(t, shErr(t, m.mnt, "PAN123FS_CONFIG="+conf+" "+binary+" url after.png"), `unknown key "lnk" (did you mean "link"?)`)
	assert.Equal(t, "custom bytes", string(fetchLink(t, e.UserSelfURL)))
	assert.Contains(t, shErr(t, m.mnt, binary+" url --link cdn after.png"), "want download or custom")
}

// TestURLCopy: --copy hands the output to the clipboard tool on PATH (a
// fake xclip here), and says so when there is none.
func TestURLCopy(t *testing.T) {
	api := startEmulator(t)
	m := startMount(t, api)
	sh(t, m.mnt, "echo img > cat.png")
	link := remoteTree(t, checker(t, api))["cat.png"].DownloadURL

	bin, clip := t.TempDir(), filepath.Join(t.TempDir(), "clipboard")
	require.NoError(t, os.WriteFile(filepath.Join(bin, "xclip"),
		[]byte("#!/bin/sh\n[ \"$*\" = '-selection clipboard' ] || exit 3\n/bin/cat > "+clip+"\n"), 0o755))
	run := func(path string) (string, string, error) {
		cmd := exec.Command(binary, "url", "--copy", "--format", "markdown", "cat.png")
		cmd.Dir = m.mnt
		cmd.Env = append(os.Environ(), "PATH="+path, "WAYLAND_DISPLAY=")
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String(), errOut.String(), err
	}
	out, errOut, err := run(bin)
	require.NoError(t, err, errOut)
	want := "![cat.png](" + link + ")\n"
	assert.Equal(t, want, out)
	assert.Contains(t, errOut, "copied to the clipboard (xclip)")
	got, err := os.ReadFile(clip)
	require.NoError(t, err)
	assert.Equal(t, want, string(got), "what the clipboard tool received")

	out, errOut, err = run(t.TempDir())
	assert.Error(t, err, "--copy with no clipboard tool")
	assert.Equal(t, want, out, "the links are printed all the same")
	assert.Contains(t, errOut, "no clipboard tool found")
}
