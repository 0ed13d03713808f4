package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runSplit runs the binary in dir and returns stdout and stderr apart.
func runSplit(t *testing.T, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// imageServer serves the given paths' bytes on loopback; others are 404.
func imageServer(t *testing.T, files map[string][]byte) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestImportURL: 123pan fetches each image from a local web server into the
// folder given; the links printed, in order, serve the source bytes; a URL
// the server answers 404 for and a non-image name are reported on stderr,
// the latter without asking 123pan, and the exit status says so.
func TestImportURL(t *testing.T) {
	a, b := bytes.Repeat([]byte("png "), 5000), []byte("jpeg bytes")
	web := imageServer(t, map[string][]byte{"/img/a.png": a, "/b.jpg": b, "/notes.txt": []byte("text")})
	emu := startEmulator(t, "--async-delay", "200ms")
	m := startMount(t, emu)
	sh(t, m.mnt, "mkdir blog")
	out, errOut, err := runSplit(t, m.mnt, "import-url", web+"/img/a.png", web+"/missing.png", web+"/notes.txt", web+"/b.jpg", "--dir", "blog")
	require.Error(t, err, "stdout %q stderr %q", out, errOut)
	tree := remoteTree(t, checker(t, emu))
	require.Contains(t, tree, "blog/a.png")
	require.Contains(t, tree, "blog/b.jpg")
	assert.Equal(t, tree["blog/a.png"].DownloadURL+"\n"+tree["blog/b.jpg"].DownloadURL+"\n", out)
	links := strings.Fields(out)
	require.Len(t, links, 2)
	assert.Equal(t, a, fetchLink(t, links[0]))
	assert.Equal(t, b, fetchLink(t, links[1]))
	assert.Equal(t, md5sumOf(a), string(tree["blog/a.png"].Etag))
	assert.Contains(t, errOut, "pan123fs import-url: "+web+"/missing.png: 123pan could not fetch it")
	assert.Contains(t, errOut, "pan123fs import-url: "+web+"/notes.txt: \"notes.txt\" is not an image type 123pan imports")
	assert.Contains(t, errOut, "2 of 4 URLs not imported")
	assert.Equal(t, int64(3), emulatorCalls(t, emu)["POST /api/v1/oss/offline/download"], "the .txt URL must not reach 123pan")
	assert.Equal(t, string(a), sh(t, m.mnt, "cat blog/a.png"), "the mount shows the new file")
	assert.Contains(t, shErr(t, m.mnt, binary+" import-url "+web+"/img/a.png --dir blog"), "a.png is already taken")
}

// TestImportURLAtTheRoot: the root takes no offline migration (123pan's
// rule); the image lands in 123pan's default folder, and its link is printed.
func TestImportURLAtTheRoot(t *testing.T) {
	c := []byte("gif bytes")
	web := imageServer(t, map[string][]byte{"/c.gif": c})
	emu := startEmulator(t, "--async-delay", "200ms")
	m := startMount(t, emu)
	out, errOut, err := runSplit(t, m.mnt, "import-url", web+"/c.gif")
	require.NoError(t, err, errOut)
	e := remoteTree(t, checker(t, emu))["来自:离线下载/c.gif"]
	require.NotEmpty(t, e.DownloadURL)
	assert.Equal(t, e.DownloadURL+"\n", out)
	assert.Equal(t, c, fetchLink(t, strings.TrimSpace(out)))
	assert.Contains(t, errOut, "import-url: c.gif: done")
}

// seedDrive puts a file on the emulator's cloud drive and returns its ID.
func seedDrive(t *testing.T, emu, name string, data []byte) string {
	t.Helper()
	resp, err := http.Post(emu+"/__emulator/drive?name="+name, "application/octet-stream", bytes.NewReader(data))
	require.NoError(t, err)
	defer resp.Body.Close()
	var d struct{ FileID string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
	require.NotEmpty(t, d.FileID)
	return d.FileID
}

// TestImportDrive: the copy task puts the cloud-drive images in the folder;
// each new file is printed with its link, which serves the drive file's
// bytes; a file 123pan does not copy (not an image) is reported by ID and
// name, and the exit status says so.
func TestImportDrive(t *testing.T) {
	emu := startEmulator(t, "--async-delay", "200ms")
	x, y := []byte("x png"), []byte("y jpeg")
	ids := []string{seedDrive(t, emu, "x.png", x), seedDrive(t, emu, "doc.txt", []byte("doc")), seedDrive(t, emu, "y.jpg", y)}
	m := startMount(t, emu)
	sh(t, m.mnt, "mkdir album && echo old > album/old.png")
	out, errOut, err := runSplit(t, m.mnt, append([]string{"import-drive", "--dir", "album"}, ids...)...)
	require.Error(t, err, "stdout %q stderr %q", out, errOut)
	tree := remoteTree(t, checker(t, emu))
	assert.Equal(t, "x.png\t"+tree["album/x.png"].DownloadURL+"\ny.jpg\t"+tree["album/y.jpg"].DownloadURL+"\n", out)
	assert.Equal(t, x, fetchLink(t, tree["album/x.png"].DownloadURL))
	assert.Equal(t, y, fetchLink(t, tree["album/y.jpg"].DownloadURL))
	assert.Contains(t, errOut, "pan123fs import-drive: cloud-drive file "+ids[1]+" (doc.txt): not copied")
	assert.Contains(t, errOut, "1 files not copied")
	assert.NotContains(t, tree, "album/doc.txt")
}

// TestImportDriveInTasksOfAHundred: 123pan takes at most 100 files a copy
// task; 101 IDs make two tasks, and every file arrives.
func TestImportDriveInTasksOfAHundred(t *testing.T) {
	emu := startEmulator(t, "--async-delay", "200ms")
	var ids []string
	for i := range 101 {
		ids = append(ids, seedDrive(t, emu, fmt.Sprintf("p%03d.png", i), fmt.Appendf(nil, "image %d", i)))
	}
	m := startMount(t, emu)
	out, errOut, err := runSplit(t, m.mnt, append([]string{"import-drive"}, ids...)...)
	require.NoError(t, err, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 101)
	name, link, _ := strings.Cut(lines[100], "\t")
	assert.Equal(t, "p100.png", name)
	assert.Equal(t, []byte("image 100"), fetchLink(t, link))
	assert.Equal(t, int64(2), emulatorCalls(t, emu)["POST /api/v1/oss/source/copy"])
}

// Only the refusal for the tasks already running is waited out, not one
// that merely names a task.
func TestTooManyTasks(t *testing.T) {
	assert.True(t, tooManyTasks(errors.New("123pan: code 1: 同时最多只能有3个复制任务，请等待当前任务完成 (3 running)")))
	assert.False(t, tooManyTasks(errors.New("123pan: code 1: 任务不存在")))
	assert.False(t, tooManyTasks(errors.New("copy task \"x\" not found")))
}
