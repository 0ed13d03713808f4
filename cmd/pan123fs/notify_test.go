package main

import (
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// notification is one datagram to NOTIFY_SOCKET, with whether the mount
// point was in mountinfo when it arrived.
type notification struct {
	state   string
	mounted bool
}

// listenNotify listens where NOTIFY_SOCKET will say (an abstract socket,
// as systemd uses) and passes on every datagram.
func listenNotify(t *testing.T, mnt string) (addr string, got <-chan notification) {
	t.Helper()
	addr = "@pan123fs-test-" + rand.Text()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	ch := make(chan notification, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(ch)
				return
			}
			mounted, _ := isMounted(mnt)
			ch <- notification{state: string(buf[:n]), mounted: mounted}
		}
	}()
	return addr, ch
}

// awaitNotification waits (60 s at most) for a datagram holding want.
func awaitNotification(t *testing.T, ch <-chan notification, want string) notification {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case n, ok := <-ch:
			require.True(t, ok, "notify socket closed before %q", want)
			if strings.Contains(n.state, want) {
				return n
			}
		case <-timeout:
			t.Fatalf("no %q on NOTIFY_SOCKET", want)
		}
	}
}

func TestSystemdNotifyReadyStatusStopping(t *testing.T) {
	mnt := t.TempDir()
	sock, got := listenNotify(t, mnt)
	cmd := exec.Command(binary, "mount", mnt, "--emulator", "--state-dir", t.TempDir(), "--write-back=1h")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	cmd.Stderr = testWriter(t, "mount")
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("pan123fs mount did not exit after SIGTERM")
			cmd.Process.Kill()
		}
		if ok, _ := isMounted(mnt); ok {
			t.Errorf("%s still mounted after the process ended", mnt)
			run("fusermount3", "-u", "-z", mnt)
		}
	})

	ready := awaitNotification(t, got, "READY=1")
	require.True(t, ready.mounted, "READY=1 came before %s was in mountinfo", mnt)
	require.Contains(t, ready.state, "STATUS=mounted at "+mnt+"; everything is on 123pan")

	// Write-back an hour away: the file stays pending, and the refreshed
	// status says so.
	require.NoError(t, os.WriteFile(filepath.Join(mnt, "cat.jpg"), []byte("pending picture"), 0o644))
	awaitNotification(t, got, "STATUS=mounted at "+mnt+"; uploads pending 1, failed 0; deletes queued 0")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	stopping := awaitNotification(t, got, "STOPPING=1")
	require.Contains(t, stopping.state, "STATUS=unmounting "+mnt)
	select {
	case err := <-done:
		done <- err
		require.NoError(t, err, "pan123fs mount after SIGTERM")
	case <-time.After(60 * time.Second):
		t.Fatal("pan123fs mount did not exit after SIGTERM")
	}
}

func TestSystemdNotifyNotReadyWithBadCredentials(t *testing.T) {
	url := startEmulator(t, "--client-id", "svc", "--client-secret", "right")
	mnt := t.TempDir()
	sock, got := listenNotify(t, mnt)
	cmd := exec.Command(binary, "mount", mnt, "--api-base", url, "--state-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "PAN123_CLIENT_ID=svc", "PAN123_CLIENT_SECRET=wrong")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "a systemd mount with a bad secret should fail\n%s", out)
	require.Contains(t, string(out), "pan123fs: checking the credentials")
	mounted, _ := isMounted(mnt)
	require.False(t, mounted)
	// Datagrams keep their order: whatever the mount sent comes before this.
	c, err := net.Dial("unixgram", sock)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("TEST=end"))
	require.NoError(t, err)
	n := awaitNotification(t, got, "=")
	require.Equal(t, "TEST=end", n.state, "told systemd something though the mount failed")
}
