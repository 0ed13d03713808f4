package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// binary is the pan123fs built once for the end-to-end tests: shell tools
// act on a mount served by another process, as users run it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pan123fs-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "pan123fs")
	out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building pan123fs: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startEmulator runs `pan123fs emulator` and returns its URL.
func startEmulator(t *testing.T, args ...string) string {
	t.Helper()
	return runEmulator(t, "emulator", append([]string{"emulator", "--data", t.TempDir()}, args...)...)
}

// runEmulator runs the binary with args, an emulator whose first line of
// output says where it listens, and returns that URL; its log goes to the
// test's as name. It is stopped at the end of the test.
func runEmulator(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = testWriter(t, name)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "emulator listening on ")
	require.True(t, ok, "first line %q", line)
	go io.Copy(io.Discard, stdout) // keep draining it
	return url
}

type mountProc struct {
	cmd  *exec.Cmd
	mnt  string
	done chan error
}

// startMount runs `pan123fs mount` against the emulator at url and waits
// until the mount point is in /proc/self/mountinfo. The mount is always
// taken down at the end of the test.
func startMount(t *testing.T, url string, args ...string) *mountProc {
	t.Helper()
	return startMountArgs(t, t.TempDir(), append([]string{"--api-base", url, "--state-dir", t.TempDir()}, args...)...)
}

// startMountArgs is startMount with the whole command line given.
func startMountArgs(t *testing.T, mnt string, args ...string) *mountProc {
	t.Helper()
	return startMountLogging(t, mnt, testWriter(t, "mount"), args...)
}

// startMountLogging is startMountArgs with the mount's log going to stderr.
func startMountLogging(t *testing.T, mnt string, stderr io.Writer, args ...string) *mountProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"mount", mnt}, args...)...)
	cmd.Env = append(os.Environ(), "PAN123_CLIENT_ID=e2e", "PAN123_CLIENT_SECRET=e2e-secret")
	cmd.Stderr = stderr
	return waitForMount(t, cmd, mnt)
}

// waitForMount starts cmd, a `pan123fs mount` of mnt, and waits until mnt is
// in /proc/self/mountinfo; the mount is taken down at the end of the test.
func waitForMount(t *testing.T, cmd *exec.Cmd, mnt string) *mountProc {
	t.Helper()
	require.NoError(t, cmd.Start())
	p := &mountProc{cmd: cmd, mnt: mnt, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ok, _ := isMounted(mnt); ok {
			return p
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("pan123fs mount exited before mounting: %v", err)
		default:
		}
		require.True(t, time.Now().Before(deadline), "mount did not appear in mountinfo")
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the mount with SIGTERM and makes sure nothing stays mounted.
func (p *mountProc) stop(t *testing.T) error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-p.done:
		p.done <- err
	case <-time.After(30 * time.Second):
		t.Errorf("pan123fs mount did not exit after SIGTERM")
		p.cmd.Process.Kill()
	}
	if ok, _ := isMounted(p.mnt); ok {
		t.Errorf("%s still mounted after the process ended", p.mnt)
		exec.Command("fusermount3", "-u", "-z", p.mnt).Run()
	}
	return err
}

func (p *mountProc) path(rel string) string { return filepath.Join(p.mnt, rel) }

// sh runs a shell command line in dir and returns its output.
func sh(t *testing.T, dir, line string) string {
	t.Helper()
	out, err := bash(dir, line)
	require.NoError(t, err, "%s\n%s", line, out)
	return out
}

// shErr runs a command that must fail and returns its output.
func shErr(t *testing.T, dir, line string) string {
	t.Helper()
	out, err := bash(dir, line)
	require.Error(t, err, "%s should fail\n%s", line, out)
	return out
}

func bash(dir, line string) (string, error) {
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// checker is a client of its own, to look at what 123pan holds. It may
// reach an emulator served on a non-loopback address over plain HTTP.
func checker(t *testing.T, url string) *remote.Client {
	unlimited := map[string]float64{}
	for name := range remote.DefaultLimits {
		unlimited[name] = 0
	}
	rc, err := remote.New(remote.Config{BaseURL: url, ClientID: "checker", ClientSecret: "checker-secret",
		StateDir: t.TempDir(), Limits: unlimited, Logger: quietLogger(t), InsecureHTTP: true})
	require.NoError(t, err)
	return rc
}

// remoteTree walks the remote from the root: path → entry.
func remoteTree(t *testing.T, rc *remote.Client) map[string]wire.Entry {
	t.Helper()
	out := map[string]wire.Entry{}
	var walk func(id, prefix string)
	walk = func(id, prefix string) {
		for e, err := range rc.List(context.Background(), id) {
			require.NoError(t, err)
			p := prefix + e.Filename
			_, dup := out[p]
			require.False(t, dup, "two remote entries at %s", p)
			out[p] = e
			if e.IsDir() {
				walk(string(e.FileID), p+"/")
			}
		}
	}
	walk("", "")
	return out
}

type logWriter struct {
	t      *testing.T
	prefix string
}

func (w logWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Logf("%s: %s", w.prefix, strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func testWriter(t *testing.T, prefix string) logWriter { return logWriter{t: t, prefix: prefix} }

// logTail keeps what a process logs, for tests that look for a line, and
// passes it on to the test's log.
type logTail struct {
	mu   sync.Mutex
	b    strings.Builder
	next io.Writer
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	return l.next.Write(p)
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// find waits (10 s at most) for the log to match re and returns the match
// (nil if it never does): the log reaches the test through a pipe, so a
// line the process wrote before it mounted may still be on its way.
func (l *logTail) find(re *regexp.Regexp) []string {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(l.String()); m != nil || time.Now().After(deadline) {
			return m
		}
	}
}

func quietLogger(t *testing.T) *slog.Logger { return slog.New(slog.DiscardHandler) }

// run runs a command to its end and returns its combined output.
func run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// emulatorCalls reads the emulator's call counts.
func emulatorCalls(t *testing.T, url string) map[string]int64 {
	t.Helper()
	resp, err := http.Get(url + "/__emulator/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st struct {
		Calls map[string]int64 `json:"calls"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st.Calls
}

func uploadInput(parentID, name string, data []byte) remote.UploadInput {
	sum := md5.Sum(data)
	return remote.UploadInput{ParentID: parentID, Name: name, Src: bytes.NewReader(data), Size: int64(len(data)), MD5: hex.EncodeToString(sum[:])}
}

// httpPost posts a text body and returns the status code.
func httpPost(url, body string) (int, error) {
	resp, err := http.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
