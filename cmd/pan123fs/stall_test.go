package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stallProxy forwards to the emulator until stalled; then it takes
// requests and never answers them, as a server that hangs does.
type stallProxy struct {
	url string

	mu   sync.Mutex
	gate chan struct{} // closed while open; GUARDED_BY(mu)
	stop chan struct{}
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &stallProxy{gate: make(chan struct{}), stop: make(chan struct{})}
	close(p.gate)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		gate := p.gate
		p.mu.Unlock()
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		case <-p.stop:
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(p.stop) }) // runs first: lets held requests end
	p.url = srv.URL
	return p
}

func (p *stallProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gate = make(chan struct{})
}

func (p *stallProxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.gate)
}

// timed runs a shell line and returns its output, error and duration.
func timed(dir, line string) (string, error, time.Duration) {
	start := time.Now()
	out, err := bash(dir, line)
	return out, err, time.Since(start)
}

func TestStalledServerDoesNotFreezeCallers(t *testing.T) {
	emu := startEmulator(t)
	rc := checker(t, emu)
	for _, name := range []string{"cold1", "cold2", "cold3"} {
		_, err := rc.Mkdir(context.Background(), "", name)
		require.NoError(t, err)
	}
	px := newStallProxy(t, emu)
	m := startMount(t, px.url, "--op-timeout", "6s", "--dir-cache-ttl", "1s")
	sh(t, m.mnt, "mkdir album && printf hello > album/x.png && cat album/x.png >/dev/null && ls >/dev/null")
	src := filepath.Join(t.TempDir(), "new.png")
	require.NoError(t, os.WriteFile(src, []byte("written while 123pan hangs"), 0o644))
	time.Sleep(1200 * time.Millisecond) // every listing has expired
	px.stall()

	// An uncached folder: EIO after --op-timeout, not minutes.
	type result struct {
		out string
		err error
		dur time.Duration
	}
	cold := make(chan result, 1)
	go func() {
		out, err, dur := timed(m.mnt, "ls cold1")
		cold <- result{out, err, dur}
	}()

	// Meanwhile the rest of the mount answers: the expired listing is
	// served, known files are read.
	time.Sleep(300 * time.Millisecond)
	out, err, dur := timed(m.mnt, "ls album")
	require.NoError(t, err, out)
	assert.Equal(t, "x.png\n", out, "the last listing, while 123pan hangs")
	assert.Less(t, dur, 5*time.Second, "ls of an expired folder")
	t.Logf("ls of an expired folder while the API hangs: %v", dur)
	out, err, dur = timed(m.mnt, "stat -c %s album/x.png && cat album/x.png")
	require.NoError(t, err, out)
	assert.Equal(t, "5\nhello", out)
	assert.Less(t, dur, 2*time.Second, "stat and read of a cached file")
	t.Logf("stat and cat of a cached file while the API hangs: %v", dur)

	// Ctrl-C ends a caller stuck on the network within a second.
	ls := exec.Command("ls", filepath.Join(m.mnt, "cold2"))
	require.NoError(t, ls.Start())
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, ls.Process.Signal(syscall.SIGINT))
	waited := make(chan error, 1)
	go func() { waited <- ls.Wait() }()
	sigAt := time.Now()
	select {
	case err := <-waited:
		assert.Error(t, err, "ls interrupted")
		t.Logf("ls of a hanging folder ended %v after SIGINT", time.Since(sigAt))
	case <-time.After(1500 * time.Millisecond):
		ls.Process.Kill()
		t.Fatal("ls of a hanging folder ignored SIGINT")
	}

	r := <-cold
	require.Error(t, r.err, r.out)
	assert.Contains(t, r.out, "Input/output error")
	assert.Less(t, r.dur, 12*time.Second, "ls of an uncached folder with a hanging API")
	t.Logf("ls of an uncached folder while the API hangs: %v (--op-timeout 6s)", r.dur)

	// A close that uploads gives up waiting while nothing moves; the
	// upload goes on once 123pan answers again.
	out, err, dur = timed(m.mnt, "cp "+src+" album/new.png")
	require.Error(t, err, out)
	assert.Contains(t, out, "Input/output error")
	assert.Less(t, dur, 15*time.Second, "close with a hanging API")
	t.Logf("cp (close) while the API hangs: %v", dur)
	px.resume()
	sh(t, m.mnt, binary+" sync "+m.mnt+" --timeout 60s")
	tree := remoteTree(t, rc)
	require.Contains(t, tree, "album/new.png", "the upload went on in the background")
	assert.Equal(t, md5sumOf([]byte("written while 123pan hangs")), tree["album/new.png"].Etag)
}

func TestHeldMkdirAndDeleteLeaveTheFolderUsable(t *testing.T) {
	emu := startEmulator(t)
	m := startMount(t, emu, "--rate-limit", "mkdir=0.25,delete=0.25")
	sh(t, m.mnt, "mkdir album && printf a > album/a.png && printf b > album/b.png && printf c > album/c.png && cat album/a.png >/dev/null")

	// A mkdir inside album waits about 4 s for the rate limit (the first
	// mkdir took the only token); pan123fs holds no lock of album meanwhile.
	sh(t, m.mnt, "mkdir album/first") // takes the token
	mk := make(chan error, 1)
	var mkTook time.Duration
	go func() {
		start := time.Now()
		_, err := bash(m.mnt, "mkdir album/sub")
		mkTook = time.Since(start)
		mk <- err
	}()
	time.Sleep(1200 * time.Millisecond) // attributes expire: stat asks pan123fs
	out, err, dur := timed(m.mnt, "stat -c %F album && cat album/a.png")
	require.NoError(t, err, out)
	assert.Equal(t, "directory\na", out)
	assert.Less(t, dur, 2500*time.Millisecond, "stat of a folder and read of its file while a mkdir in it waits")
	t.Logf("stat and cat while a mkdir waits for the rate limit: %v", dur)
	require.NoError(t, <-mk)
	assert.Greater(t, mkTook, 3*time.Second, "the mkdir did wait for the rate limit (or this tests nothing)")

	// Two deletes: the second call waits about 4 s for the rate limit. A
	// new file under the second name waits for it in its close, and the
	// folder stays usable meanwhile.
	sh(t, m.mnt, "rm album/b.png")
	time.Sleep(500 * time.Millisecond)
	sh(t, m.mnt, "rm album/c.png")
	cp := make(chan error, 1)
	go func() { _, err := bash(m.mnt, "printf new > album/c.png"); cp <- err }()
	time.Sleep(1200 * time.Millisecond)
	out, err, dur = timed(m.mnt, "ls album && cat album/a.png")
	require.NoError(t, err, out)
	assert.Equal(t, "a.png\nc.png\nfirst\nsub\na", out)
	assert.Less(t, dur, 2500*time.Millisecond, "listing and reading a folder while a delete in it waits")
	t.Logf("ls and cat while a delete waits for the rate limit: %v", dur)
	require.NoError(t, <-cp)
	tree := remoteTree(t, checker(t, emu))
	assert.NotContains(t, tree, "album/b.png")
	require.Contains(t, tree, "album/c.png")
	assert.Equal(t, md5sumOf([]byte("new")), tree["album/c.png"].Etag)
}
