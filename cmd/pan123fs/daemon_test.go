package main

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// daemonMount runs `pan123fs mount --daemon MNT ARGS...` to its end, with
// the given credentials, and returns its combined output and error. The
// mount it may leave is taken down at the end of the test.
func daemonMount(t *testing.T, mnt, id, secret string, args ...string) (string, error) {
	t.Helper()
	t.Cleanup(func() { unmountDaemon(t, mnt) })
	cmd := exec.Command(binary, append([]string{"mount", "--daemon", mnt}, args...)...)
	cmd.Env = append(os.Environ(), "PAN123_CLIENT_ID="+id, "PAN123_CLIENT_SECRET="+secret)
	out, err := cmd.CombinedOutput() // returns once the daemon let go of stdout and stderr too
	return string(out), err
}

// unmountDaemon unmounts mnt if it is mounted and waits (30 s at most) for
// the background process serving it to exit.
func unmountDaemon(t *testing.T, mnt string) {
	if ok, _ := isMounted(mnt); ok {
		if out, err := run("umount", mnt); err != nil {
			t.Errorf("umount %s: %v\n%s", mnt, err, out)
			run("fusermount3", "-u", "-z", mnt)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); len(processesServing(mnt)) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("pan123fs processes %v still serve %s after it was unmounted", processesServing(mnt), mnt)
			return
		}
	}
}

// processesServing lists the pan123fs processes whose command line names mnt.
func processesServing(mnt string) []string {
	var pids []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 2 && args[1] == "mount" && strings.Contains(string(b), "\x00"+mnt+"\x00") {
			pids = append(pids, filepath.Base(filepath.Dir(p)))
		}
	}
	return pids
}

func TestDaemonReturnsOnceMounted(t *testing.T) {
	url := startEmulator(t)
	mnt := t.TempDir()
	out, err := daemonMount(t, mnt, "e2e", "e2e-secret", "--api-base", url, "--state-dir", t.TempDir())
	require.NoError(t, err, "pan123fs mount --daemon\n%s", out)
	mounted, err := isMounted(mnt)
	require.NoError(t, err)
	require.True(t, mounted, "%s not in mountinfo when pan123fs mount --daemon returned", mnt)
	require.NotEmpty(t, processesServing(mnt), "no background process serves the mount")

	data := []byte("a picture, served by the background mount")
	require.NoError(t, os.WriteFile(filepath.Join(mnt, "cat.jpg"), data, 0o644))
	sum := md5.Sum(data)
	e, ok := remoteTree(t, checker(t, url))["cat.jpg"]
	require.True(t, ok, "cat.jpg not on the emulator")
	require.Equal(t, hex.EncodeToString(sum[:]), strings.ToLower(e.Etag))
	require.EqualValues(t, len(data), e.Size)
}

func TestDaemonFailsWithTheReason(t *testing.T) {
	url := startEmulator(t, "--client-id", "svc", "--client-secret", "right")
	for _, tc := range []struct {
		name, secret, mnt string
		args              []string
		reason            string
	}{
		{name: "bad credentials", secret: "wrong", args: []string{"--api-base", url}, reason: "checking the credentials"},
		{name: "missing mount point", secret: "right", mnt: "nowhere", args: []string{"--api-base", url}, reason: "does not exist"},
		{name: "unreachable API", secret: "right", args: []string{"--api-base", "http://127.0.0.1:1", "--op-timeout", "2s"}, reason: "checking the credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mnt := t.TempDir()
			if tc.mnt != "" {
				mnt = filepath.Join(mnt, tc.mnt)
			}
			out, err := daemonMount(t, mnt, "svc", tc.secret, append(tc.args, "--state-dir", t.TempDir())...)
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "pan123fs mount --daemon should fail\n%s", out)
			require.NotZero(t, exit.ExitCode())
			require.Contains(t, out, "pan123fs: "+reasonPrefix(tc.reason), "output:\n%s", out)
			require.Equal(t, 1, strings.Count(out, "pan123fs: "), "the reason is said once:\n%s", out)
			mounted, _ := isMounted(mnt)
			require.False(t, mounted, "%s mounted after a failed start", mnt)
			require.Empty(t, processesServing(mnt), "a background process stayed")
		})
	}
}

// reasonPrefix is what a reason's line starts with: the mount point's
// check names the mount point first.
func reasonPrefix(reason string) string {
	if reason == "does not exist" {
		return "mount point "
	}
	return reason
}
