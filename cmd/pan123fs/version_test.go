package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goFuseVersion is the go-fuse version this package is built with.
func goFuseVersion(t *testing.T) string {
	bi, ok := debug.ReadBuildInfo()
	require.True(t, ok)
	for _, d := range bi.Deps {
		if d.Path == goFuseModule {
			return d.Version
		}
	}
	t.Fatal("go-fuse is not among the test's dependencies")
	return ""
}

// A release build says its version (-ldflags -X main.version), the commit
// it was built from, the Go release and the go-fuse version, the same for
// --version and the version command.
func TestVersionOfARelease(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git work tree: %v", err)
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	require.NoError(t, err)
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !fi.IsDir() {
		t.Skip("the go command records the commit only from a .git folder, not from a linked work tree (git worktree)")
	}
	bin := filepath.Join(t.TempDir(), "pan123fs")
	out, err := exec.Command("go", "build", "-buildvcs=true", "-ldflags", "-X main.version=v9.8.7-test", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)

	flag, err := exec.Command(bin, "--version").Output()
	require.NoError(t, err)
	cmd, err := exec.Command(bin, "version").Output()
	require.NoError(t, err)
	assert.Equal(t, string(flag), string(cmd))

	lines := strings.Split(strings.TrimSuffix(string(flag), "\n"), "\n")
	require.Len(t, lines, 4, "%s", flag)
	assert.Equal(t, "pan123fs v9.8.7-test", lines[0])
	assert.Regexp(t, `^commit:  `+strings.TrimSpace(string(head))+`( \(modified\))?$`, lines[1])
	assert.Equal(t, "go:      "+runtime.Version(), lines[2])
	assert.Equal(t, "go-fuse: "+goFuseVersion(t), lines[3])
}

// Without -X, the version is the main module's from the build
// information, never empty.
func TestVersionOfADevelopmentBuild(t *testing.T) {
	out, err := exec.Command(binary, "version").Output()
	require.NoError(t, err)
	first, _, _ := strings.Cut(string(out), "\n")
	assert.Regexp(t, `^pan123fs (\(devel\)|v\S+)$`, first)
	assert.Contains(t, string(out), "go-fuse: "+goFuseVersion(t)+"\n")
}
