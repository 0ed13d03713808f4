package main

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// installHelper links /sbin/mount.fuse.pan123fs to the built binary for the
// test (mount(8) looks for helpers in /sbin, /sbin/fs.d and /sbin/fs only)
// and removes the link at the end. It skips when not root, and when a
// helper is installed already (this test does not replace it).
func installHelper(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mount(8) with a helper in /sbin needs root")
	}
	if _, err := exec.LookPath("mount"); err != nil {
		t.Skip("mount(8) is not installed")
	}
	link := "/sbin/mount.fuse.pan123fs"
	if _, err := os.Lstat(link); !errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s exists (an installed pan123fs?): not replaced by the test", link)
	}
	if err := os.Symlink(binary, link); errors.Is(err, os.ErrExist) {
		t.Skipf("%s appeared meanwhile: not replaced by the test", link)
	} else {
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		if err := os.Remove(link); err != nil {
			t.Errorf("removing the test's %s: %v", link, err)
		}
	})
}

func TestFstabLineMountsThroughTheHelper(t *testing.T) {
	installHelper(t)
	url := startEmulator(t)
	mnt, state := t.TempDir(), t.TempDir()
	fstab := filepath.Join(t.TempDir(), "fstab")
	opts := "_netdev,nofail,allow_other,uid=1000,gid=1000,umask=022,x-systemd.requires=network-online.target,comment=test," +
		"api_base=" + url + ",state_dir=" + state + ",client_id=e2e,dir_cache_ttl=5s"
	require.NoError(t, os.WriteFile(fstab, fmt.Appendf(nil, "pan123fs %s fuse.pan123fs %s 0 0\n", mnt, opts), 0o644))
	t.Cleanup(func() { unmountDaemon(t, mnt) })

	cmd := exec.Command("mount", "-T", fstab, mnt)
	cmd.Env = append(os.Environ(), "PAN123_CLIENT_SECRET=e2e-secret") // root's mount(8) passes it on
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "mount -T %s %s\n%s", fstab, mnt, out)
	mounted, err := isMounted(mnt)
	require.NoError(t, err)
	require.True(t, mounted, "%s not in mountinfo when mount(8) returned", mnt)

	data := []byte("a picture written through an fstab mount")
	require.NoError(t, os.WriteFile(filepath.Join(mnt, "cat.jpg"), data, 0o644))
	st, err := os.Stat(filepath.Join(mnt, "cat.jpg"))
	require.NoError(t, err)
	require.EqualValues(t, 1000, st.Sys().(*syscall.Stat_t).Uid, "uid= of the fstab line")
	require.EqualValues(t, 1000, st.Sys().(*syscall.Stat_t).Gid, "gid= of the fstab line")
	sum := md5.Sum(data)
	e, ok := remoteTree(t, checker(t, url))["cat.jpg"]
	require.True(t, ok, "cat.jpg not on the emulator")
	require.Equal(t, hex.EncodeToString(sum[:]), strings.ToLower(e.Etag))

	out2, err := run("umount", mnt)
	require.NoError(t, err, "umount %s\n%s", mnt, out2)
	mounted, _ = isMounted(mnt)
	require.False(t, mounted, "%s still mounted after umount", mnt)
}

func TestFstabUnknownOptionFailsTheMount(t *testing.T) {
	installHelper(t)
	mnt := t.TempDir()
	fstab := filepath.Join(t.TempDir(), "fstab")
	require.NoError(t, os.WriteFile(fstab, fmt.Appendf(nil, "pan123fs %s fuse.pan123fs emulator,colour=blue 0 0\n", mnt), 0o644))
	t.Cleanup(func() { unmountDaemon(t, mnt) })
	out, err := exec.Command("mount", "-T", fstab, mnt).CombinedOutput()
	require.Error(t, err, "mount with an unknown option\n%s", out)
	require.Contains(t, string(out), `unknown mount option "colour"`)
	mounted, _ := isMounted(mnt)
	require.False(t, mounted)
}
