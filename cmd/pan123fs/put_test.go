package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// putEnv is the environment of a put or serve through the client: the
// emulator's credentials and a private state directory.
func putEnv(t *testing.T, url string) []string {
	state := filepath.Join(t.TempDir(), "state")
	return append(os.Environ(), "PAN123_API_BASE="+url, "PAN123_CLIENT_ID=writer", "PAN123_CLIENT_SECRET=writer-secret",
		"PAN123FS_STATE_DIR="+state)
}

// runPut runs `pan123fs put` and returns stdout, stderr and its error.
func runPut(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"put"}, args...)...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// fetchLink downloads what a link serves.
func fetchLink(t *testing.T, link string) []byte {
	t.Helper()
	b, err := httpGet(link)
	require.NoError(t, err)
	return b
}

// writeFiles makes local files name → content in a new folder.
func writeFiles(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	return dir
}

func TestPutThroughClientPrintsLinksInOrder(t *testing.T) {
	url := startEmulator(t)
	env := putEnv(t, url)
	dir := writeFiles(t, map[string]string{"cat.png": "cat bytes", "dog.jpg": "dog bytes", "owl.gif": "owl bytes"})
	out, stderr, err := runPut(t, env, "--dir", "/blog/posts", filepath.Join(dir, "owl.gif"), filepath.Join(dir, "cat.png"), filepath.Join(dir, "dog.jpg"))
	require.NoError(t, err, stderr)
	links := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, links, 3, "put output %q", out)
	for i, want := range []string{"owl bytes", "cat bytes", "dog bytes"} {
		require.Equal(t, want, string(fetchLink(t, links[i])), "link %d", i)
	}
	tree := remoteTree(t, checker(t, url))
	for _, p := range []string{"blog/posts/owl.gif", "blog/posts/cat.png", "blog/posts/dog.jpg"} {
		require.Contains(t, tree, p)
	}

	out, _, err = runPut(t, env, "--dir", "/blog/posts", "--format", "markdown", filepath.Join(dir, "cat.png"))
	require.NoError(t, err)
	require.Regexp(t, `^!\[cat\.png\]\((http://\S+)\)\n$`, out)
	link := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(out), "![cat.png]("), ")")
	require.Equal(t, "cat bytes", string(fetchLink(t, link)))
	require.Contains(t, remoteTree(t, checker(t, url)), "blog/posts/cat-1.png", "a second cat.png is suffixed")
}

func TestPutClashRefuseAndDedupe(t *testing.T) {
	url := startEmulator(t)
	env := putEnv(t, url)
	dir := writeFiles(t, map[string]string{"cat.png": "cat bytes"})
	first, _, err := runPut(t, env, filepath.Join(dir, "cat.png"))
	require.NoError(t, err)

	out, stderr, err := runPut(t, env, "--on-clash", "refuse", filepath.Join(dir, "cat.png"))
	require.Error(t, err)
	require.Empty(t, out)
	require.Contains(t, stderr, "cat.png is taken")

	again, _, err := runPut(t, env, "--dedupe", filepath.Join(dir, "cat.png"))
	require.NoError(t, err)
	require.Equal(t, first, again, "--dedupe answers the existing link")

	files := 0
	for range remoteTree(t, checker(t, url)) {
		files++
	}
	require.Equal(t, 1, files, "refuse and dedupe add nothing")
}

func TestPutNameTemplate(t *testing.T) {
	url := startEmulator(t)
	env := putEnv(t, url)
	dir := writeFiles(t, map[string]string{"cat.png": "cat bytes"}) // md5 2b5f...
	out, stderr, err := runPut(t, env, "--dir", "/img", "--name", "{Y}/{base}-{md5:8}.{ext}", filepath.Join(dir, "cat.png"))
	require.NoError(t, err, stderr)
	require.Equal(t, "cat bytes", string(fetchLink(t, strings.TrimSpace(out))))
	want := "img/" + time.Now().Format("2006") + "/cat-" + md5sumOf([]byte("cat bytes"))[:8] + ".png"
	require.Contains(t, remoteTree(t, checker(t, url)), want)

	_, stderr, err = runPut(t, env, "--name", "{nope}.png", filepath.Join(dir, "cat.png"))
	require.Error(t, err)
	require.Contains(t, stderr, "unknown field {nope}")
}

func TestPutIntoMount(t *testing.T) {
	url := startEmulator(t)
	m := startMount(t, url, "--write-back=1h") // only put's sync uploads it
	require.NoError(t, os.Mkdir(m.path("blog"), 0o755))
	dir := writeFiles(t, map[string]string{"cat.png": "cat bytes", "dog.png": "dog bytes"})
	cmd := exec.Command(binary, "put", "--dir", m.path("blog"), filepath.Join(dir, "cat.png"), filepath.Join(dir, "dog.png"))
	out, err := cmd.Output()
	require.NoError(t, err)
	links := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, links, 2)
	require.Equal(t, "cat bytes", string(fetchLink(t, links[0])))
	require.Equal(t, "dog bytes", string(fetchLink(t, links[1])))
	tree := remoteTree(t, checker(t, url))
	require.Equal(t, md5sumOf([]byte("cat bytes")), tree["blog/cat.png"].Etag)

	again, err := exec.Command(binary, "put", "--dedupe", "--dir", m.path("blog"), filepath.Join(dir, "dog.png")).Output()
	require.NoError(t, err)
	require.Equal(t, links[1], strings.TrimSpace(string(again)))
}

// startServe runs `pan123fs serve` on a free loopback port and returns its
// base URL; it is stopped at the end of the test.
func startServe(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = testWriter(t, "serve")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "serving PicGo's API on ")
	require.True(t, ok, "first line %q", line)
	return base
}

// picgoReply is PicGo-Server's answer as a client reads it.
type picgoReply struct {
	Success bool            `json:"success"`
	Result  json.RawMessage `json:"result"`
	Message string          `json:"message"`
}

func postPicGo(t *testing.T, url, contentType string, body io.Reader) (picgoReply, []string) {
	t.Helper()
	resp, err := http.Post(url, contentType, body)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var r picgoReply
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	var links []string
	if r.Success && bytes.HasPrefix(r.Result, []byte("[")) {
		require.NoError(t, json.Unmarshal(r.Result, &links))
	}
	return r, links
}

func TestServePicGoAPI(t *testing.T) {
	url := startEmulator(t)
	env := putEnv(t, url)
	base := startServe(t, env, "--dir", "/typora", "--dedupe")
	dir := writeFiles(t, map[string]string{"a.png": "alpha", "b.png": "beta"})

	r, _ := postPicGo(t, base+"/heartbeat", "application/json", nil)
	require.True(t, r.Success)
	require.JSONEq(t, `"alive"`, string(r.Result))

	// PicGo's documented body: {"list": ["xxx.jpg"]}
	r, links := postPicGo(t, base+"/upload", "application/json",
		strings.NewReader(`{"list":["`+filepath.Join(dir, "a.png")+`","`+filepath.Join(dir, "b.png")+`"]}`))
	require.True(t, r.Success, r.Message)
	require.Len(t, links, 2)
	require.Equal(t, "alpha", string(fetchLink(t, links[0])))
	require.Equal(t, "beta", string(fetchLink(t, links[1])))

	// form-data, key "files", several images
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for _, f := range []struct{ name, content string }{{"c.png", "gamma"}, {"a.png", "alpha"}, {"c.png", "other gamma"}} {
		w, err := mw.CreateFormFile("files", f.name)
		require.NoError(t, err)
		w.Write([]byte(f.content))
	}
	require.NoError(t, mw.Close())
	r, flinks := postPicGo(t, base+"/upload", mw.FormDataContentType(), &form)
	require.True(t, r.Success, r.Message)
	require.Len(t, flinks, 3)
	require.Equal(t, "gamma", string(fetchLink(t, flinks[0])))
	require.Equal(t, links[0], flinks[1], "--dedupe: alpha is already there")
	require.Equal(t, "other gamma", string(fetchLink(t, flinks[2])))
	tree := remoteTree(t, checker(t, url))
	for _, p := range []string{"typora/a.png", "typora/b.png", "typora/c.png", "typora/c-1.png"} {
		require.Contains(t, tree, p)
	}
	require.Len(t, tree, 5, "the folder and four files: %v", tree)

	r, _ = postPicGo(t, base+"/upload", "application/json", strings.NewReader(`{"list":["/nonexistent/x.png"]}`))
	require.False(t, r.Success)
	require.Contains(t, r.Message, "x.png")
	r, _ = postPicGo(t, base+"/upload", "application/json", nil)
	require.False(t, r.Success)
	require.Contains(t, r.Message, "clipboard")
}

func TestServeRefusesRemoteListen(t *testing.T) {
	out, err := exec.Command(binary, "serve", "--listen", "0.0.0.0:0").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "not a loopback address")
}

// TestServeRefusesWebPagesAndOtherUsers: what a web page in a browser
// (an Origin), a DNS name rebound to loopback (its Host) and another user
// of the machine (uid nobody, through bash's /dev/tcp) send is refused
// with 403 and uploads nothing; Obsidian's origin and an --allow-origin
// are taken.
func TestServeRefusesWebPagesAndOtherUsers(t *testing.T) {
	url := startEmulator(t)
	env := putEnv(t, url)
	base := startServe(t, env, "--dir", "/typora", "--allow-origin", "http://localhost:8080")
	dir := writeFiles(t, map[string]string{"secret.png": "private bytes"})
	require.NoError(t, os.Chmod(dir, 0o755))
	body := `{"list":["` + filepath.Join(dir, "secret.png") + `"]}`

	post := func(header map[string]string) (int, picgoReply) {
		req, err := http.NewRequest(http.MethodPost, base+"/upload", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "text/plain") // what a page can send without asking first
		for k, v := range header {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var r picgoReply
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
		return resp.StatusCode, r
	}
	code, r := post(map[string]string{"Origin": "https://evil.example"})
	require.Equal(t, http.StatusForbidden, code)
	require.False(t, r.Success)
	require.Contains(t, r.Message, "https://evil.example")
	code, r = post(map[string]string{"Host": "rebound.evil.example:36677"})
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, r.Message, "not loopback")

	port := strings.TrimPrefix(base, "http://127.0.0.1:")
	script := `exec 3<>/dev/tcp/127.0.0.1/` + port + `; printf 'POST /upload HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: ` +
		fmt.Sprint(len(body)) + `\r\n\r\n%s' '` + body + `' >&3; cat <&3`
	out, err := exec.Command("runuser", "-u", "nobody", "--", "bash", "-c", script).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "403 Forbidden")
	require.Contains(t, string(out), "connection from uid 65534 refused")
	require.Empty(t, remoteTree(t, checker(t, url)), "nothing was uploaded")

	code, r = post(map[string]string{"Origin": "app://obsidian.md"})
	require.Equal(t, http.StatusOK, code)
	require.True(t, r.Success, r.Message)
	code, r = post(map[string]string{"Origin": "http://localhost:8080"})
	require.True(t, r.Success, r.Message)
	require.Equal(t, http.StatusOK, code)
}

// TestServeAllowRemoteTakesNoPaths: with --allow-remote anyone who reaches
// the port may upload, so a JSON list (paths of this machine's files) is
// refused and nothing of this machine is published; form-data uploads,
// which carry their bytes, are taken.
func TestServeAllowRemoteTakesNoPaths(t *testing.T) {
	url := startEmulator(t)
	base := startServe(t, putEnv(t, url), "--dir", "/remote", "--allow-remote")
	dir := writeFiles(t, map[string]string{"secret.png": "private bytes"})
	r, _ := postPicGo(t, base+"/upload", "application/json", strings.NewReader(`{"list":["`+filepath.Join(dir, "secret.png")+`"]}`))
	require.False(t, r.Success)
	require.Contains(t, r.Message, "only form-data")
	require.Empty(t, remoteTree(t, checker(t, url)), "nothing was uploaded")

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	w, err := mw.CreateFormFile("files", "sent.png")
	require.NoError(t, err)
	w.Write([]byte("sent bytes"))
	require.NoError(t, mw.Close())
	r, links := postPicGo(t, base+"/upload", mw.FormDataContentType(), &form)
	require.True(t, r.Success, r.Message)
	require.Equal(t, "sent bytes", string(fetchLink(t, links[0])))
}
