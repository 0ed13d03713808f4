package fs

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pan123fs/pan123fs/store"
	"github.com/pan123fs/pan123fs/store/memstore"
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

func TestRemoteNamesLongerThanNameMaxAreHidden(t *testing.T) {
	env := newTestEnv(t, Options{})
	max := int(env.statfs(t).Namelen)
	long := strings.Repeat("图", (max+3)/3) // more than max bytes, fewer than 255 characters: 123pan takes it
	_, err := env.check.Upload(t.Context(), uploadOf("", long, []byte("elsewhere")))
	require.NoError(t, err)
	ents, err := os.ReadDir(env.mnt)
	require.NoError(t, err)
	assert.Empty(t, ents, "a name the mount could not look up is not listed")
	_, err = os.Stat(env.path(long))
	assert.ErrorIs(t, err, syscall.ENAMETOOLONG, "stat of the hidden name: got %v", err)
	assert.Contains(t, env.remoteEntries(t), long, "123pan still holds it")
}

func TestTruncateBeyondTheLargestFileIsEFBIGAndChangesNothing(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, os.WriteFile(env.path("f"), []byte("hello"), 0o644))
	before := env.remoteEntries(t)["f"]
	creates := env.calls("POST /upload/v1/oss/file/create")
	for _, size := range []int64{env.fsys.limits.MaxFileSize + 1, 999999999999999} {
		err := os.Truncate(env.path("f"), size)
		assert.ErrorIs(t, err, syscall.EFBIG, "truncate to %d: got %v, want EFBIG", size, err)
	}
	st, err := os.Stat(env.path("f"))
	require.NoError(t, err)
	assert.EqualValues(t, 5, st.Size(), "size after the refused truncates")
	got, err := os.ReadFile(env.path("f"))
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))
	after := env.remoteEntries(t)["f"]
	assert.Equal(t, before.FileID, after.FileID, "the file on 123pan is the same one")
	assert.Equal(t, "hello", string(download(t, after)))
	assert.Equal(t, creates, env.calls("POST /upload/v1/oss/file/create"), "nothing uploaded")
}

func TestRefusedFtruncateKeepsWhatWasWritten(t *testing.T) {
	env := newTestEnv(t, Options{})
	f, err := os.OpenFile(env.path("new.txt"), os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() }) // a file left open would hold the unmount
	_, err = f.WriteString("hello")
	require.NoError(t, err)
	err = f.Truncate(999999999999999)
	assert.ErrorIs(t, err, syscall.EFBIG, "ftruncate to 999999999999999: got %v, want EFBIG", err)
	require.NoError(t, f.Close(), "close after a refused ftruncate uploads what was written")
	held := env.remoteEntries(t)
	require.Contains(t, held, "new.txt", "the file is on 123pan")
	assert.Equal(t, "hello", string(download(t, held["new.txt"])))
	got, err := os.ReadFile(env.path("new.txt"))
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))
}

func TestWritePastTheLargestFileIsCutShortThenEFBIG(t *testing.T) {
	const largest = 1 << 20
	env := newMemEnvWith(t, memstore.Options{Limits: store.Limits{MaxFileSize: largest}}, 0, Options{})
	f, err := os.OpenFile(env.path("big"), os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() }) // a file left open would hold the unmount
	n, err := unix.Pwrite(int(f.Fd()), []byte("abcde"), largest-2)
	assert.Equal(t, 2, n, "a write across the largest size is cut short there (err %v)", err)
	n, err = unix.Pwrite(int(f.Fd()), []byte("x"), largest)
	assert.Equal(t, -1, n)
	assert.ErrorIs(t, err, syscall.EFBIG, "a write at the largest size: got %v, want EFBIG", err)
	require.NoError(t, f.Close(), "close uploads what was written")
	want := make([]byte, largest)
	copy(want[largest-2:], "ab")
	assert.Equal(t, string(want), env.held(t, "")["big"], "the store holds the file up to the largest size")
}

func TestTruncateMakesAHoleThatTakesNoSpool(t *testing.T) {
	const spoolMax = 1 << 20
	env := newMemEnvWith(t, memstore.Options{}, spoolMax, Options{})
	f, err := os.OpenFile(env.path("sparse"), os.O_CREATE|os.O_RDWR, 0o644)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() }) // a file left open would hold the unmount
	_, err = f.WriteString("hello")
	require.NoError(t, err)
	require.NoError(t, f.Truncate(1<<40), "ftruncate to 1 TiB with a spool of %d bytes", spoolMax)
	st, err := f.Stat()
	require.NoError(t, err)
	assert.EqualValues(t, int64(1)<<40, st.Size())
	assert.Less(t, spoolOnDisk(t, env.fsys.spool.Dir()), int64(spoolMax), "the hole takes no disk")
	tail := make([]byte, 3)
	_, err = f.ReadAt(tail, 1<<40-3)
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0, 0}, tail, "the hole reads as zeros")
	const at = 4 << 20 // past the spool's limit: only written bytes count
	_, err = f.WriteAt([]byte("end"), at)
	require.NoError(t, err, "a write into the hole")
	require.NoError(t, f.Truncate(at+3))
	require.NoError(t, f.Close())
	want := make([]byte, at+3)
	copy(want, "hello")
	copy(want[at:], "end")
	assert.Equal(t, string(want), env.held(t, "")["sparse"], "the store holds the file at its final size")
}

// spoolOnDisk is the disk space the files in dir take.
func spoolOnDisk(t *testing.T, dir string) int64 {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var sum int64
	for _, e := range ents {
		var st unix.Stat_t
		require.NoError(t, unix.Stat(filepath.Join(dir, e.Name()), &st))
		sum += st.Blocks * 512
	}
	return sum
}
