package fs

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of issue 16's defects (found by pjdfstest), each through the mount.

// atNameMax is a name of exactly max bytes: unit repeated, padded with n.
func atNameMax(unit string, max int) string {
	name := strings.Repeat(unit, max/len(unit))
	return name + strings.Repeat("n", max-len(name))
}

func TestNameMaxIsTheLimitTheMountEnforces(t *testing.T) {
	env := newTestEnv(t, Options{})
	max := int(env.statfs(t).Namelen)
	require.Positive(t, max, "statfs f_namelen")
	require.NoError(t, os.Mkdir(env.path("dirs"), 0o755))
	// what each name is stored as on 123pan (the mapping of names.go)
	cases := []struct{ unit, remote string }{
		{"n", "n"},
		{"图", "图"},  // 3 bytes, one character
		{":", "："},  // mapped to its full-width look-alike
		{"：", "‛："}, // a look-alike itself: escaped, two characters
		{"é", "é"},  // 2 bytes
		{"😀", "😀"},  // 4 bytes
	}
	for _, c := range cases {
		name := atNameMax(c.unit, max)
		require.Len(t, name, max)
		require.NoError(t, os.WriteFile(env.path(name), []byte(c.unit), 0o644), "create of %d bytes of %q", max, c.unit)
		require.NoError(t, os.Mkdir(env.path("dirs/"+name), 0o755), "mkdir of %d bytes of %q", max, c.unit)
		stored := strings.Repeat(c.remote, max/len(c.unit)) + strings.Repeat("n", max%len(c.unit))
		held := env.remoteEntries(t)
		if assert.Contains(t, held, stored, "123pan holds the file of %d bytes of %q", max, c.unit) {
			assert.Equal(t, []byte(c.unit), download(t, held[stored]))
		}
		require.NoError(t, os.Remove(env.path(name)))
		require.NoError(t, os.Remove(env.path("dirs/"+name)))
	}
}

func TestNamesLongerThanNameMaxAreENAMETOOLONGEverywhere(t *testing.T) {
	env := newTestEnv(t, Options{})
	max := int(env.statfs(t).Namelen)
	require.NoError(t, os.WriteFile(env.path("f"), []byte("x"), 0o644))
	require.NoError(t, os.Mkdir(env.path("d"), 0o755))
	for _, unit := range []string{"n", "图", ":"} {
		long := atNameMax(unit, max) + "n"
		ops := []struct {
			op string
			do func() error
		}{
			{"create", func() error { return os.WriteFile(env.path(long), nil, 0o644) }},
			{"mkdir", func() error { return os.Mkdir(env.path(long), 0o755) }},
			{"stat", func() error { _, err := os.Stat(env.path(long)); return err }},
			{"open", func() error { _, err := os.Open(env.path(long)); return err }},
			{"unlink", func() error { return syscall.Unlink(env.path(long)) }},
			{"rmdir", func() error { return syscall.Rmdir(env.path(long)) }},
			{"truncate", func() error { return os.Truncate(env.path(long), 0) }},
			{"rename from", func() error { return os.Rename(env.path(long), env.path("g")) }},
			{"rename file to", func() error { return os.Rename(env.path("f"), env.path(long)) }},
			{"rename folder to", func() error { return os.Rename(env.path("d"), env.path(long)) }},
			{"stat in a folder", func() error { _, err := os.Stat(env.path("d/" + long)); return err }},
		}
		for _, o := range ops {
			err := o.do()
			assert.ErrorIs(t, err, syscall.ENAMETOOLONG, "%s of %d bytes of %q: got %v, want ENAMETOOLONG", o.op, len(long), unit, err)
		}
	}
	held := env.remoteEntries(t)
	assert.Len(t, held, 2, "nothing made or renamed: %v", held)
	assert.Contains(t, held, "f")
	assert.Contains(t, held, "d")
}
