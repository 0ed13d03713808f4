package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSystemdUnitsVerify runs systemd-analyze verify on contrib/systemd's
// units, with ExecStart pointed at the built binary (verify checks that
// the programs exist). systemd-analyze exits 0 on a misspelt key or value
// and only warns, so any output fails the test too.
func TestSystemdUnitsVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd; scripts/deps.sh --test installs it): units not verified")
	}
	dir := t.TempDir()
	for _, u := range []struct{ src, dst string }{
		{"pan123fs@.service", "pan123fs@.service"},
		{"pan123fs.user.service", "pan123fs.service"},
	} {
		b, err := os.ReadFile(filepath.Join("../../contrib/systemd", u.src))
		require.NoError(t, err)
		require.Contains(t, string(b), "/usr/local/bin/pan123fs mount", "%s starts the installed binary", u.src)
		b = []byte(strings.ReplaceAll(string(b), "/usr/local/bin/pan123fs", binary))
		require.NoError(t, os.WriteFile(filepath.Join(dir, u.dst), b, 0o644))
	}
	runtime := t.TempDir() // the user manager needs a runtime directory
	for _, args := range [][]string{
		{"verify", filepath.Join(dir, "pan123fs@mnt-img.service")},
		{"--user", "verify", filepath.Join(dir, "pan123fs.service")},
	} {
		cmd := exec.Command("systemd-analyze", args...)
		cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtime)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "systemd-analyze %q\n%s", args, out)
		require.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze %q warns", args)
	}
}

// TestFstabExampleOptionsAreKnown checks that the helper takes every option
// of contrib/fstab.example's line.
func TestFstabExampleOptionsAreKnown(t *testing.T) {
	f, err := os.Open("../../contrib/fstab.example")
	require.NoError(t, err)
	defer f.Close()
	lines := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		lines++
		require.Len(t, fields, 6, "fstab line %q", sc.Text())
		require.Equal(t, "fuse.pan123fs", fields[2])
		flags, err := optionsToFlags(strings.Split(fields[3], ","), newMountCmd().Flags(), false, func(s string) { t.Error(s) })
		require.NoError(t, err, "options %s", fields[3])
		require.Contains(t, flags, "--allow-other")
	}
	require.Equal(t, 1, lines, "mount lines in contrib/fstab.example")
}
