package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHelperOptionsBecomeMountFlags(t *testing.T) {
	for _, tc := range []struct {
		name, opts string
		sloppy     bool
		want       []string // flags; nil with wantErr
		wantErr    string
	}{
		{name: "underscore spelling", opts: "cache_max_size=2GiB", want: []string{"--cache-max-size=2GiB"}},
		{name: "dash spelling", opts: "cache-max-size=2GiB", want: []string{"--cache-max-size=2GiB"}},
		{name: "bare switch", opts: "emulator,debug", want: []string{"--emulator", "--debug"}},
		{name: "bare flag with a default value", opts: "write_back", want: []string{"--write-back"}},
		{name: "flag with a value", opts: "write_back=10s", want: []string{"--write-back=10s"}},
		{name: "ro", opts: "ro", want: []string{"--read-only"}},
		{name: "rw", opts: "rw", want: []string{}},
		{name: "rw after ro wins", opts: "ro,rw", want: []string{}},
		{name: "ro after rw wins", opts: "rw,ro", want: []string{"--read-only"}},
		{name: "allow_other", opts: "allow_other", want: []string{"--allow-other"}},
		{name: "owner and modes", opts: "uid=1000,gid=1000,umask=027", want: []string{"--uid=1000", "--gid=1000", "--umask=027"}},
		{name: "config and state_dir", opts: "config=/etc/pan123fs/config.toml,state_dir=/var/lib/pan123fs",
			want: []string{"--config=/etc/pan123fs/config.toml", "--state-dir=/var/lib/pan123fs"}},
		{name: "generic options ignored", opts: "defaults,auto,noauto,user,users,nouser,user=alice,nofail,_netdev,dev,nodev,suid,nosuid,exec,noexec",
			want: []string{}},
		{name: "x- and comment ignored", opts: "x-systemd.automount,x-systemd.requires=network-online.target,x-gvfs-show,x-gvfs-name=Images,comment=systemd.automount",
			want: []string{}},
		{name: "fstab line", opts: "_netdev,allow_other,uid=1000,gid=1000,state_dir=/var/lib/pan123fs,config=/etc/pan123fs/config.toml",
			want: []string{"--allow-other", "--uid=1000", "--gid=1000", "--state-dir=/var/lib/pan123fs", "--config=/etc/pan123fs/config.toml"}},
		{name: "unknown option", opts: "allow_other,colour=blue", wantErr: `unknown mount option "colour"`},
		{name: "unknown switch", opts: "turbo", wantErr: `unknown mount option "turbo"`},
		{name: "unknown option, sloppy", opts: "turbo,allow_other", sloppy: true, want: []string{"--allow-other"}},
		{name: "value missing", opts: "uid", wantErr: `mount option "uid" needs a value`},
		{name: "help is no option", opts: "help", wantErr: `unknown mount option "help"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var warned []string
			got, err := optionsToFlags(strings.Split(tc.opts, ","), newMountCmd().Flags(), tc.sloppy, func(s string) { warned = append(warned, s) })
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr, "options %s", tc.opts)
				return
			}
			require.NoError(t, err, "options %s", tc.opts)
			require.Equal(t, tc.want, append([]string{}, got...), "options %s", tc.opts)
			if tc.sloppy {
				require.Equal(t, []string{`ignoring unknown mount option "turbo"`}, warned)
			}
		})
	}
}

func TestHelperCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    helperRequest
		wantErr string
	}{
		{name: "mount(8) order", args: []string{"pan123fs", "/mnt/img", "-o", "rw,uid=1"},
			want: helperRequest{source: "pan123fs", mountpoint: "/mnt/img", options: []string{"rw", "uid=1"}}},
		{name: "letters and type", args: []string{"none", "/mnt/img", "-sfnv", "-o", "ro", "-t", "fuse.pan123fs"},
			want: helperRequest{source: "none", mountpoint: "/mnt/img", options: []string{"ro"}, sloppy: true, fake: true, verbose: true}},
		{name: "joined -o, twice", args: []string{"none", "/m", "-oro", "-o", "uid=3"},
			want: helperRequest{source: "none", mountpoint: "/m", options: []string{"ro", "uid=3"}}},
		{name: "namespace", args: []string{"none", "/m", "-N", "/proc/1/ns/mnt"}, wantErr: "-N /proc/1/ns/mnt: mounting in another namespace is not supported"},
		{name: "unknown letter", args: []string{"none", "/m", "-q"}, wantErr: "unknown argument -q"},
		{name: "no mount point", args: []string{"none", "-o", "ro"}, wantErr: "usage"},
		{name: "-o without value", args: []string{"none", "/m", "-o"}, wantErr: "-o needs a value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHelperArgs(tc.args)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr, "args %q", tc.args)
				return
			}
			require.NoError(t, err, "args %q", tc.args)
			require.Equal(t, tc.want, got, "args %q", tc.args)
		})
	}
}

// helperLink names the built binary as mount(8) runs it.
func helperLink(t *testing.T, name string) string {
	t.Helper()
	link := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.Symlink(binary, link))
	return link
}

func TestHelperExitStatusesFollowMount8(t *testing.T) {
	mnt := t.TempDir()
	for _, tc := range []struct {
		name, helper string
		args         []string
		code         int
		stderr       string
	}{
		{name: "unknown option", helper: "mount.fuse.pan123fs", args: []string{"none", mnt, "-o", "emulator,colour=blue"},
			code: 1, stderr: `mount.fuse.pan123fs: unknown mount option "colour"`},
		{name: "bad value", helper: "mount.pan123fs", args: []string{"none", mnt, "-o", "uid=alice"}, code: 1, stderr: "uid"},
		{name: "missing mount point", helper: "mount.fuse.pan123fs", args: []string{"none", filepath.Join(mnt, "nowhere"), "-o", "emulator"},
			code: 32, stderr: "does not exist"},
		{name: "fake mount", helper: "mount.pan123fs", args: []string{"none", mnt, "-f", "-v", "-o", "emulator,client_secret=s3cret"},
			code: 0, stderr: "pan123fs mount --daemon " + mnt + " --emulator --client-secret=***"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(helperLink(t, tc.helper), tc.args...)
			cmd.Env = append(os.Environ(), "PAN123FS_STATE_DIR="+t.TempDir())
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			require.Equal(t, tc.code, cmd.ProcessState.ExitCode(), "%s %q: %v\n%s", tc.helper, tc.args, err, stderr.String())
			require.Contains(t, stderr.String(), tc.stderr)
			require.NotContains(t, stderr.String(), "s3cret")
			mounted, _ := isMounted(mnt)
			require.False(t, mounted, "%s mounted after %s", mnt, tc.name)
		})
	}
}

func TestMakeInstallPutsBinaryAndHelperLinks(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	repo, err := filepath.Abs("../..")
	require.NoError(t, err)
	for _, prefix := range []string{"", "/opt/p123"} {
		dest := t.TempDir()
		args := []string{"-s", "-C", repo, "DESTDIR=" + dest, "BIN=" + filepath.Join(t.TempDir(), "pan123fs")}
		bin := "/usr/local/bin/pan123fs"
		if prefix != "" {
			args, bin = append(args, "PREFIX="+prefix), prefix+"/bin/pan123fs"
		}
		out, err := exec.Command("make", append(args[:len(args):len(args)], "install")...).CombinedOutput()
		require.NoError(t, err, "make %q\n%s", args, out)
		st, err := os.Lstat(filepath.Join(dest, bin))
		require.NoError(t, err, "installed binary")
		require.True(t, st.Mode().IsRegular(), "%s is %v", bin, st.Mode())
		require.Equal(t, os.FileMode(0o755), st.Mode().Perm())
		help, err := exec.Command(filepath.Join(dest, bin), "mount", "--help").CombinedOutput()
		require.NoError(t, err, "%s", help)
		require.Contains(t, string(help), "--daemon")
		for _, h := range []string{"mount.fuse.pan123fs", "mount.pan123fs"} {
			target, err := os.Readlink(filepath.Join(dest, "sbin", h))
			require.NoError(t, err, "/sbin/%s", h)
			require.Equal(t, bin, target, "/sbin/%s points to", h)
		}
		out, err = exec.Command("make", append(args[:len(args):len(args)], "uninstall")...).CombinedOutput()
		require.NoError(t, err, "make uninstall\n%s", out)
		for _, p := range []string{bin, "/sbin/mount.fuse.pan123fs", "/sbin/mount.pan123fs"} {
			_, err := os.Lstat(filepath.Join(dest, p))
			require.ErrorIs(t, err, os.ErrNotExist, "%s after uninstall", p)
		}
	}
}
