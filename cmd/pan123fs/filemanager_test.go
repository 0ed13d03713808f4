package main

import (
	"bufio"
	"bytes"
	bin "encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A desktop of its own for a test: an X server (Xvfb) and a file manager
// (PCManFM) in it, driven with xdotool as a person would.
type desktop struct {
	t       *testing.T
	display string
	env     []string
	fb      string // the screen, as Xvfb keeps it in an XWD file
}

func startDesktop(t *testing.T) *desktop {
	t.Helper()
	for _, tool := range []string{"Xvfb", "xdotool", "pcmanfm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: scripts/deps.sh --test installs it", tool)
		}
	}
	r, w, err := os.Pipe()
	require.NoError(t, err)
	fbdir := t.TempDir()
	x := exec.Command("Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1024x768x24", "-fbdir", fbdir)
	x.ExtraFiles = []*os.File{w}
	require.NoError(t, x.Start())
	w.Close()
	t.Cleanup(func() { x.Process.Kill(); x.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	require.NoError(t, err, "Xvfb did not say its display")
	home := t.TempDir()
	d := &desktop{t: t, display: ":" + strings.TrimSpace(line), fb: filepath.Join(fbdir, "Xvfb_screen0")}
	d.env = append(os.Environ(), "DISPLAY="+d.display, "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_RUNTIME_DIR="+home, "XDG_DATA_HOME="+filepath.Join(home, ".local/share"), "NO_AT_BRIDGE=1")
	return d
}

// open starts PCManFM on dir and returns its window's ID.
func (d *desktop) open(dir string) string {
	d.t.Helper()
	fm := exec.Command("pcmanfm", "--no-desktop", dir)
	fm.Env = d.env
	fm.Stderr = testWriter(d.t, "pcmanfm")
	require.NoError(d.t, fm.Start())
	d.t.Cleanup(func() { fm.Process.Signal(syscall.SIGTERM); fm.Wait() })
	return d.waitWindow("^" + filepath.Base(dir) + "$")
}

// waitWindow waits for a window whose name matches the pattern, other
// than those named in not, and returns its ID.
func (d *desktop) waitWindow(pattern string, not ...string) string {
	d.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := d.xdotool("search", "--onlyvisible", "--name", pattern)
		if err == nil {
			for _, id := range strings.Fields(out) {
				if !slices.Contains(not, id) {
					return id
				}
			}
		}
		require.True(d.t, time.Now().Before(deadline), "no window named %s", pattern)
		time.Sleep(100 * time.Millisecond)
	}
}

// onScreen counts the pixels of the screen within 40 of colour c in each
// channel. The screen is Xvfb's XWD file: a header (its size first, the
// colormap size at byte 76, all big-endian), the colormap (12 bytes an
// entry), then 32-bit pixels, blue first.
func (d *desktop) onScreen(c color.RGBA) int {
	d.t.Helper()
	b, err := os.ReadFile(d.fb)
	require.NoError(d.t, err)
	require.Greater(d.t, len(b), 100)
	start := int(bin.BigEndian.Uint32(b[0:])) + 12*int(bin.BigEndian.Uint32(b[76:]))
	near := func(a, b uint8) bool { return int(a)-int(b) < 40 && int(b)-int(a) < 40 }
	n := 0
	for p := start; p+4 <= len(b); p += 4 {
		if near(b[p+2], c.R) && near(b[p+1], c.G) && near(b[p], c.B) {
			n++
		}
	}
	return n
}

// waitOnScreen waits until at least n pixels of colour c show (or 20 s)
// and returns how many do.
func (d *desktop) waitOnScreen(c color.RGBA, n int) int {
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := d.onScreen(c)
		if got >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *desktop) xdotool(args ...string) (string, error) {
	cmd := exec.Command("xdotool", args...)
	cmd.Env = d.env
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (d *desktop) do(args ...string) {
	d.t.Helper()
	out, err := d.xdotool(args...)
	require.NoError(d.t, err, "xdotool %v: %s", args, out)
}

// photoColours are the colours of the photos writePhotos makes, in turn:
// none of them is in PCManFM's own icons.
var photoColours = []color.RGBA{{230, 20, 20, 255}, {20, 200, 20, 255}, {20, 20, 230, 255}}

// writePhotos writes n JPEG photos of one colour each into dir and returns
// their total size.
func writePhotos(t *testing.T, dir string, n int) int64 {
	t.Helper()
	var total int64
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, 640, 480))
		for y := 0; y < 480; y++ {
			for x := 0; x < 640; x++ {
				img.Set(x, y, photoColours[i%len(photoColours)])
			}
		}
		var b bytes.Buffer
		require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}))
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("photo%03d.jpg", i)), b.Bytes(), 0o644))
		total += int64(b.Len())
	}
	return total
}

// downloads counts the emulator's downloads of content.
func downloads(t *testing.T, url string) int64 {
	var n int64
	for k, v := range emulatorCalls(t, url) {
		if strings.Contains(k, "/__download") {
			n += v
		}
	}
	return n
}

// TestFileManagerDeleteTakesTheImageOffTheWeb: in PCManFM, the Delete key
// on an image of the mount finds no trash, asks to delete instead, and the
// image's link then answers 404; nothing of a trash reaches 123pan. The
// photos were copied in through the mount, so the file manager's thumbnails
// download nothing.
func TestFileManagerDeleteTakesTheImageOffTheWeb(t *testing.T) {
	emu := startEmulator(t)
	rc := checker(t, emu)
	m := startMount(t, emu)
	src := t.TempDir()
	writePhotos(t, src, 3)
	sh(t, m.mnt, "mkdir album && cp "+src+"/*.jpg album/")
	tree := remoteTree(t, rc)
	require.Contains(t, tree, "album/photo000.jpg")
	links := map[string]string{}
	for _, name := range []string{"photo000.jpg", "photo001.jpg", "photo002.jpg"} {
		links[name] = tree["album/"+name].DownloadURL
	}
	before := downloads(t, emu)

	d := startDesktop(t)
	win := d.open(m.path("album"))
	for _, c := range photoColours {
		assert.GreaterOrEqual(t, d.waitOnScreen(c, 500), 500, "PCManFM drew the thumbnail of colour %v", c)
	}
	assert.Equal(t, before, downloads(t, emu), "thumbnails of photos copied in download nothing")

	d.do("mousemove", "--window", win, "400", "300", "click", "1") // the empty part of the view
	d.do("key", "--window", win, "ctrl+a")
	d.do("key", "--window", win, "Delete")
	var seen []string
	for range 2 { // "move to trash can?", then "cannot be moved to trash: delete instead?"
		id := d.waitWindow("^Confirm$", seen...)
		d.do("key", "--window", id, "Return")
		seen = append(seen, id)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if len(remoteTree(t, rc)) == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the photos are still on 123pan: %v", sortedPaths(remoteTree(t, rc)))
		time.Sleep(200 * time.Millisecond)
	}
	assert.Equal(t, []string{"album"}, sortedPaths(remoteTree(t, rc)), "no trash folder, no .trashinfo")
	for name, link := range links {
		assert.Equal(t, http.StatusNotFound, linkStatus(t, link), "%s's link after Delete", name)
	}
}
