package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A state dir on a disk with less free space than the spool keeps free is
// reported at start, with the figures and what will happen, which then does.
func TestMountWarnsOfALowDiskAtStart(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	state := filepath.Join(t.TempDir(), "state")
	require.NoError(t, os.Mkdir(state, 0o700))
	out, err := run("mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", state)
	require.NoError(t, err, "mount tmpfs: %s", out)
	t.Cleanup(func() { run("umount", "-l", state) })

	logs := &logTail{next: testWriter(t, "mount")}
	m := startMountLogging(t, t.TempDir(), logs, "--emulator", "--state-dir", state)
	line := logs.find(regexp.MustCompile(`level=WARN msg="[^"]*less free space[^"]*ENOSPC[^"]*" dir=\S+ free_bytes=(\d+) floor_bytes=(\d+)`))
	require.NotNil(t, line, "a warning with the free space and the floor")
	free, _ := strconv.ParseInt(line[1], 10, 64)
	assert.Positive(t, free)
	assert.LessOrEqual(t, free, int64(64<<20), "free bytes of a 64 MiB tmpfs")
	assert.Equal(t, strconv.Itoa(256<<20), line[2], "the floor")
	assert.Contains(t, shErr(t, m.mnt, "echo hi > f.txt"), "No space left on device", "a write, as the warning said")
}
