package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pan123fs/pan123fs/remote"
)

// The permission tests act as other users: the test binary, run by setpriv
// with actEnv set, does one system call and prints "ok", with what it read,
// or the name of the errno, then exits before any test starts.
const actEnv = "PAN123FS_E2E_ACT"

func init() {
	if os.Getenv(actEnv) == "" || len(os.Args) < 3 {
		return
	}
	out, err := act(os.Args[1], os.Args[2:])
	var errno syscall.Errno
	switch {
	case err == nil:
		fmt.Println(strings.TrimSpace("ok " + out))
	case errors.As(err, &errno):
		fmt.Println(unix.ErrnoName(errno))
	default:
		fmt.Println("error:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// act does op on the paths in args (and, for writes, the data after them).
func act(op string, args []string) (string, error) {
	p := args[0]
	switch op {
	case "read":
		b, err := os.ReadFile(p)
		return string(b), err
	case "write":
		return "", writeWith(p, os.O_WRONLY|os.O_TRUNC, args[1])
	case "append":
		return "", writeWith(p, os.O_WRONLY|os.O_APPEND, args[1])
	case "create":
		return "", writeWith(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, args[1])
	case "truncate":
		return "", syscall.Truncate(p, 0)
	case "unlink":
		return "", syscall.Unlink(p)
	case "mkdir":
		return "", syscall.Mkdir(p, 0o755)
	case "rmdir":
		return "", syscall.Rmdir(p)
	case "rename":
		return "", syscall.Rename(p, args[1])
	case "chmod":
		return "", syscall.Chmod(p, 0o600)
	case "chown":
		return "", syscall.Chown(p, 0, 0)
	case "utimes":
		at := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		return "", os.Chtimes(p, at, at)
	case "touch": // both times to now, as touch(1) does
		now := unix.Timespec{Nsec: unix.UTIME_NOW}
		return "", unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{now, now}, 0)
	case "xattr":
		buf := make([]byte, 1024)
		n, err := unix.Getxattr(p, "user.pan123.id", buf)
		return string(buf[:max(n, 0)]), err
	case "list":
		ents, err := os.ReadDir(p)
		names := make([]string, len(ents))
		for i, e := range ents {
			names[i] = e.Name()
		}
		return strings.Join(names, " "), err
	case "stat":
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			return "", err
		}
		return fmt.Sprintf("%o %d %d", st.Mode, st.Uid, st.Gid), nil
	}
	return "", fmt.Errorf("unknown operation %q", op)
}

func writeWith(p string, flag int, data string) error {
	f, err := os.OpenFile(p, flag, 0o644)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, data)
	return errors.Join(err, f.Close())
}

const (
	nobody = 65534
	user   = 1000 // another user without a name of its own here
)

// permEnv is an emulator holding pub.txt, d/f.txt and an empty folder e,
// and a folder every user may enter that holds the mount points and a
// copy of the test binary to act as other users with.
type permEnv struct {
	dir, actor, url string
	rc              *remote.Client
}

func newPermEnv(t *testing.T) *permEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("acting as other users through setpriv takes root")
	}
	dir, err := os.MkdirTemp("", "pan123fs-perm-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755)) // t.TempDir()'s folders are 0700
	t.Cleanup(func() { os.RemoveAll(dir) })  // registered first: runs after the mounts are gone
	e := &permEnv{dir: dir, actor: filepath.Join(dir, "act")}
	exe, err := os.Executable()
	require.NoError(t, err)
	require.NoError(t, exec.Command("cp", exe, e.actor).Run())
	require.NoError(t, os.Chmod(e.actor, 0o755))

	e.url = startEmulator(t)
	e.rc = checker(t, e.url)
	ctx := context.Background()
	_, err = e.rc.Upload(ctx, uploadInput("", "pub.txt", []byte("public bytes")))
	require.NoError(t, err)
	d, err := e.rc.Mkdir(ctx, "", "d")
	require.NoError(t, err)
	_, err = e.rc.Upload(ctx, uploadInput(d, "f.txt", []byte("in d")))
	require.NoError(t, err)
	_, err = e.rc.Mkdir(ctx, "", "e")
	require.NoError(t, err)
	return e
}

// mount serves the emulator at a mount point other users can reach.
func (e *permEnv) mount(t *testing.T, args ...string) *mountProc {
	t.Helper()
	mnt, err := os.MkdirTemp(e.dir, "mnt-")
	require.NoError(t, err)
	return startMountArgs(t, mnt, append([]string{"--api-base", e.url, "--state-dir", t.TempDir()}, args...)...)
}

// as does op as uid (its group the same number, no other groups) and
// returns "ok ..." or the errno's name.
func (e *permEnv) as(t *testing.T, uid int, op string, args ...string) string {
	t.Helper()
	id := strconv.Itoa(uid)
	cmd := exec.Command("setpriv", append([]string{"--reuid=" + id, "--regid=" + id, "--clear-groups", e.actor, op}, args...)...)
	// A race-enabled binary sleeps a second before exiting unless told not to.
	cmd.Env = append(os.Environ(), actEnv+"=1", "GORACE=atexit_sleep_ms=0")
	cmd.Dir = e.dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %v as uid %d: %s", op, args, uid, out)
	return strings.TrimSpace(string(out))
}

// want asserts what op as uid gives.
func (e *permEnv) want(t *testing.T, want string, uid int, op string, args ...string) {
	t.Helper()
	assert.Equal(t, want, e.as(t, uid, op, args...), "%s %v as uid %d", op, args, uid)
}

// ids is what the remote holds: path → file ID (a changed file gets a new one).
func (e *permEnv) ids(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for p, ent := range remoteTree(t, e.rc) {
		out[p] = string(ent.FileID)
	}
	return out
}

// TestPermOthersOnlyReadA0644Mount: with --allow-other and the default
// modes, another user reads files and lists folders, and every change is
// refused by the kernel before it reaches pan123fs (EACCES; chmod, chown
// and setting explicit times on another's file EPERM). 123pan holds what
// it held.
func TestPermOthersOnlyReadA0644Mount(t *testing.T) {
	e := newPermEnv(t)
	before := e.ids(t)
	m := e.mount(t, "--allow-other", "--uid", "0", "--gid", "0")
	pub, d := m.path("pub.txt"), m.path("d")

	e.want(t, "ok 40755 0 0", nobody, "stat", m.mnt)
	e.want(t, "ok 100644 0 0", nobody, "stat", pub)
	e.want(t, "ok public bytes", nobody, "read", pub)
	e.want(t, "ok f.txt", nobody, "list", d)
	e.want(t, "ok "+before["pub.txt"], nobody, "xattr", pub)
	for _, c := range [][]string{
		{"EACCES", "write", pub, "overwritten"},
		{"EACCES", "append", pub, "more"},
		{"EACCES", "truncate", pub},
		{"EACCES", "create", m.path("d/new.txt"), "new"},
		{"EACCES", "create", m.path("new.txt"), "new"},
		{"EACCES", "mkdir", m.path("d/sub")},
		{"EACCES", "unlink", m.path("d/f.txt")},
		{"EACCES", "rmdir", m.path("e")},
		{"EACCES", "rename", m.path("d/f.txt"), m.path("d/g.txt")},
		{"EPERM", "chmod", pub},
		{"EPERM", "chown", pub},
		{"EPERM", "utimes", pub},
		{"EACCES", "touch", pub},
	} {
		e.want(t, c[0], nobody, c[1], c[2:]...)
	}
	require.NoError(t, m.stop(t))
	assert.Equal(t, before, e.ids(t), "123pan holds what it held")
}

// TestPermFileModeAndDirModeKeepOthersOut: --file-mode 0600 and --dir-mode
// 0711 are what stat shows and what the kernel enforces: another user may
// pass through folders but neither list them nor read or write files.
func TestPermFileModeAndDirModeKeepOthersOut(t *testing.T) {
	e := newPermEnv(t)
	before := e.ids(t)
	m := e.mount(t, "--allow-other", "--uid", "0", "--gid", "0", "--file-mode", "0600", "--dir-mode", "0711")
	pub := m.path("pub.txt")

	e.want(t, "ok 40711 0 0", nobody, "stat", m.mnt)
	e.want(t, "ok 40711 0 0", nobody, "stat", m.path("d"))
	e.want(t, "ok 100600 0 0", nobody, "stat", pub)
	for _, c := range [][]string{
		{"EACCES", "list", m.mnt},
		{"EACCES", "list", m.path("d")},
		{"EACCES", "read", pub},
		{"EACCES", "read", m.path("d/f.txt")},
		{"EACCES", "xattr", pub},
		{"EACCES", "write", pub, "overwritten"},
		{"EACCES", "create", m.path("d/new.txt"), "new"},
	} {
		e.want(t, c[0], nobody, c[1], c[2:]...)
	}
	got, err := os.ReadFile(pub)
	require.NoError(t, err)
	assert.Equal(t, "public bytes", string(got), "root reads what others may not")
	require.NoError(t, m.stop(t))
	assert.Equal(t, before, e.ids(t), "123pan holds what it held")
}

// TestPermOwnerChangesEverything: with --uid 65534 nobody owns the mount
// and creates, overwrites, renames and deletes, and 123pan then holds the
// result; chmod is accepted and changes nothing, chown is refused (EPERM:
// only root may give files away). Another user still only reads.
func TestPermOwnerChangesEverything(t *testing.T) {
	e := newPermEnv(t)
	m := e.mount(t, "--allow-other", "--uid", strconv.Itoa(nobody), "--gid", strconv.Itoa(nobody))
	pub := m.path("pub.txt")

	for _, c := range [][]string{
		{"create", m.path("d/new.txt"), "made by nobody"},
		{"write", pub, "rewritten by nobody"},
		{"append", pub, ", twice"},
		{"mkdir", m.path("d/sub")},
		{"rename", m.path("d/new.txt"), m.path("d/renamed.txt")},
		{"unlink", m.path("d/f.txt")},
		{"rmdir", m.path("e")},
		{"chmod", pub},
		{"utimes", pub},
		{"touch", pub},
	} {
		e.want(t, "ok", nobody, c[0], c[1:]...)
	}
	e.want(t, "ok 100644 65534 65534", nobody, "stat", pub)
	e.want(t, "EPERM", nobody, "chown", pub)
	e.want(t, "ok made by nobody", user, "read", m.path("d/renamed.txt"))
	e.want(t, "EACCES", user, "write", pub, "not by 1000")
	e.want(t, "EACCES", user, "unlink", m.path("d/renamed.txt"))

	require.NoError(t, m.stop(t), "SIGTERM: queued deletes sent")
	tree := remoteTree(t, e.rc)
	assert.Equal(t, md5sumOf([]byte("rewritten by nobody, twice")), tree["pub.txt"].Etag, "pub.txt on 123pan")
	assert.Equal(t, md5sumOf([]byte("made by nobody")), tree["d/renamed.txt"].Etag, "d/renamed.txt on 123pan")
	assert.True(t, tree["d/sub"].IsDir(), "d/sub on 123pan")
	for _, gone := range []string{"d/new.txt", "d/f.txt", "e"} {
		assert.NotContains(t, tree, gone)
	}
}

// TestPermUmask077KeepsOtherUsersOut is the case of issue 9: with --uid
// 65534 --umask 077 (files 0600, folders 0700) uid 1000 can neither read
// nor write nor list, while the owner reads.
func TestPermUmask077KeepsOtherUsersOut(t *testing.T) {
	e := newPermEnv(t)
	before := e.ids(t)
	m := e.mount(t, "--allow-other", "--uid", strconv.Itoa(nobody), "--gid", strconv.Itoa(nobody), "--umask", "077")
	pub := m.path("pub.txt")

	e.want(t, "ok 40700 65534 65534", user, "stat", m.mnt)
	for _, c := range [][]string{
		{"EACCES", "list", m.mnt},
		{"EACCES", "stat", pub},
		{"EACCES", "read", pub},
		{"EACCES", "write", pub, "overwritten"},
		{"EACCES", "create", m.path("new.txt"), "new"},
		{"EACCES", "unlink", pub},
	} {
		e.want(t, c[0], user, c[1], c[2:]...)
	}
	e.want(t, "ok 100600 65534 65534", nobody, "stat", pub)
	e.want(t, "ok public bytes", nobody, "read", pub)
	require.NoError(t, m.stop(t))
	assert.Equal(t, before, e.ids(t), "123pan holds what it held")
}

// TestPermWithoutAllowOtherNobodyElseGetsIn: without --allow-other the
// kernel turns every other user away, whatever the modes say.
func TestPermWithoutAllowOtherNobodyElseGetsIn(t *testing.T) {
	e := newPermEnv(t)
	m := e.mount(t, "--uid", "0", "--gid", "0")
	e.want(t, "EACCES", nobody, "stat", m.mnt)
	e.want(t, "EACCES", nobody, "read", m.path("pub.txt"))
	e.want(t, "EACCES", nobody, "list", m.mnt)
	got, err := os.ReadFile(m.path("pub.txt"))
	require.NoError(t, err)
	assert.Equal(t, "public bytes", string(got), "the user who mounted reads")
}

// TestPermAllowOtherAsUserNamesFuseConf: fusermount3 refuses allow_other
// to users other than root unless /etc/fuse.conf says user_allow_other;
// the mount's error says so.
func TestPermAllowOtherAsUserNamesFuseConf(t *testing.T) {
	conf, _ := os.ReadFile("/etc/fuse.conf")
	for _, line := range strings.Split(string(conf), "\n") {
		if strings.TrimSpace(line) == "user_allow_other" {
			t.Skip("/etc/fuse.conf allows allow_other to every user")
		}
	}
	e := newPermEnv(t)
	bin := filepath.Join(e.dir, "pan123fs")
	require.NoError(t, exec.Command("cp", binary, bin).Run())
	mnt, state := filepath.Join(e.dir, "mnt"), filepath.Join(e.dir, "state")
	for _, d := range []string{mnt, state} {
		require.NoError(t, os.Mkdir(d, 0o700))
		require.NoError(t, os.Chown(d, nobody, nobody))
	}
	id := strconv.Itoa(nobody)
	cmd := exec.Command("setpriv", "--reuid="+id, "--regid="+id, "--clear-groups",
		bin, "mount", mnt, "--emulator", "--state-dir", state, "--allow-other")
	cmd.Dir = e.dir
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "mount --allow-other as nobody: %s", out)
	assert.Contains(t, string(out), "user_allow_other in /etc/fuse.conf")
	ok, _ := isMounted(mnt)
	assert.False(t, ok, "nothing mounted")
}
