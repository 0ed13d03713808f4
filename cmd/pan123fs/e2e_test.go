package main

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const e2eSlice = 65536

func md5File(t *testing.T, path string) string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := md5.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// TestShellTools copies, lists, reads, moves and removes with the usual
// tools through a mount served by a separate pan123fs process, on each
// backend.
func TestShellTools(t *testing.T) {
	eachBackend(t, emuArgs{pan123: []string{"--slice-size", fmt.Sprint(e2eSlice)}}, testShellTools)
}

func testShellTools(t *testing.T, b *backendFixture) {
	m := b.mount(t, b.rateLimit("create=20,mkdir=20,list=20,delete=5,move=5")...)

	src := t.TempDir()
	sizes := map[string]int{"empty.png": 0, "one.png": 1, "slice.jpg": e2eSlice, "several.jpg": 3*e2eSlice + 17}
	for name, size := range sizes {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + len(name))
		}
		require.NoError(t, os.WriteFile(filepath.Join(src, name), data, 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(src, "tree/a/b"), 0o755))
	for i := 0; i < 5; i++ {
		require.NoError(t, os.WriteFile(filepath.Join(src, fmt.Sprintf("tree/a/b/%d.gif", i)), []byte(strings.Repeat("x", i*1000)), 0o644))
	}

	// cp of each size, cp -r of a tree, mkdir -p
	for name := range sizes {
		sh(t, m.mnt, "cp "+filepath.Join(src, name)+" .")
	}
	sh(t, m.mnt, "cp -r "+filepath.Join(src, "tree")+" . && mkdir -p deep/er/est")

	tree := b.held(t)
	for name := range sizes {
		e, ok := tree[name]
		require.True(t, ok, "%s on %s", name, b.kind)
		want := md5File(t, filepath.Join(src, name))
		assert.Equal(t, want, e.MD5, "md5 of %s on %s", name, b.kind)
		got := b.bytesOf(t, name)
		assert.Equal(t, int64(len(got)), e.Size)
		assert.Equal(t, want, md5sumOf(got), "content of %s on %s", name, b.kind)
	}
	for i := 0; i < 5; i++ {
		assert.Contains(t, tree, fmt.Sprintf("tree/a/b/%d.gif", i))
	}
	assert.Contains(t, tree, "deep/er/est/", "a folder")

	// ls -l and md5sum of every file read back
	ls := sh(t, m.mnt, "ls -l")
	assert.Contains(t, ls, fmt.Sprintf(" %d ", 3*e2eSlice+17))
	assert.Contains(t, ls, "several.jpg")
	sums := sh(t, m.mnt, "find . -type f | sort | xargs md5sum")
	local := sh(t, src, "find . -type f | sort | xargs md5sum")
	assert.Equal(t, local, sums, "md5sum of every file read back through the mount")

	// mv within and across folders, rename over an existing file
	before := tree["slice.jpg"]
	sh(t, m.mnt, "mv slice.jpg deep/slice.jpg && mv one.png uno.png && mv several.jpg uno.png")
	tree = b.held(t)
	assert.Equal(t, before.ID, tree["deep/slice.jpg"].ID, "mv across folders keeps the ID")
	assert.NotContains(t, tree, "slice.jpg")
	assert.Eventually(t, func() bool { _, ok := b.held(t)["several.jpg"]; return !ok },
		5*time.Second, 100*time.Millisecond, "the renamed file's old entry is deleted (the delete is queued)")
	assert.Equal(t, md5File(t, filepath.Join(src, "several.jpg")), tree["uno.png"].MD5, "rename over replaced the target")

	// append to an existing file
	sh(t, m.mnt, "printf tail >> uno.png")
	want := md5sumOf(append(mustRead(t, filepath.Join(src, "several.jpg")), "tail"...))
	assert.Equal(t, want, b.held(t)["uno.png"].MD5)
	assert.Equal(t, want, md5sumOf(b.bytesOf(t, "uno.png")), "content after the append on %s", b.kind)
	assert.Equal(t, want, md5File(t, m.path("uno.png")))

	// errors: non-empty rmdir, clash, bad name
	assert.Contains(t, shErr(t, m.mnt, "rmdir tree"), "not empty")
	assert.Contains(t, shErr(t, m.mnt, "mkdir tree"), "exists")
	long := strings.Repeat("n", 255)
	if b.kind == backend123pan {
		// 123pan's own limit is under Linux's NAME_MAX
		assert.Contains(t, shErr(t, m.mnt, "touch '"+long+"'"), "too long")
	} else {
		// the name is a database field: any name Linux can make fits
		sh(t, m.mnt, "touch '"+long+"' && rm '"+long+"'")
	}

	// rm -r
	sh(t, m.mnt, "rm -r tree deep")
	require.NoError(t, m.stop(t), "SIGTERM: pending deletes sent, exit 0")
	tree = b.held(t)
	for p := range tree {
		assert.False(t, strings.HasPrefix(p, "tree") || strings.HasPrefix(p, "deep"), "%s left after rm -r", p)
	}
	if b.kind == backendWechat {
		files := 0
		for _, e := range tree {
			if !e.Dir {
				files++
			}
		}
		assert.Equal(t, files, b.objects(t), "storage objects: one per file held, none left by overwrites and deletes")
	}
}

// TestRmRecursiveCoalescesDeletes removes a folder of 1,000 files with
// rm -r and counts the delete calls, on each backend. The files are made
// through the service's API, as another client would, and the mount is
// told to look again with pan123fs refresh.
func TestRmRecursiveCoalescesDeletes(t *testing.T) {
	// 1,000 files and the folder are 1,001 IDs. 123pan takes at most 100
	// IDs a call: 11 calls is the least possible without assuming that
	// 123pan deletes a folder's content with it, which is undocumented.
	// WeChat's batchdeletefile takes at most 50 file IDs and the folder
	// has no object: 20 calls at best, 21 when the folder's ID takes a
	// file's place in a call.
	most := map[string]int64{backend123pan: 11, backendWechat: 21}
	eachBackend(t, emuArgs{pan123: []string{"--qps", "delete=1"}}, func(t *testing.T, b *backendFixture) {
		m := b.mount(t)
		sh(t, m.mnt, "ls") // the first listing makes WeChat's namespace collection
		b.fill(t, "many", 1000, []byte("same"))
		out, err := run(binary, "refresh", m.mnt)
		require.NoError(t, err, "pan123fs refresh: %s", out)

		before := emulatorCalls(t, b.url)[b.deleteCall]
		sh(t, m.mnt, "ls many | wc -l | grep -qx 1000 && rm -r many")
		require.NoError(t, m.stop(t))
		deletes := emulatorCalls(t, b.url)[b.deleteCall] - before
		t.Logf("rm -r of 1,000 files: %d delete calls", deletes)
		assert.LessOrEqual(t, deletes, most[b.kind], "delete calls for rm -r of 1,000 files")
		assert.Empty(t, b.held(t))
		if b.kind == backendWechat {
			assert.Zero(t, b.objects(t), "storage objects left")
		}
	})
}

func TestMountRefusesBadMountPoints(t *testing.T) {
	eachBackend(t, emuArgs{}, func(t *testing.T, b *backendFixture) {
		full := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(full, "x"), nil, 0o644))
		for what, mnt := range map[string]string{"not empty": full, "does not exist": filepath.Join(t.TempDir(), "missing")} {
			out, err := b.run("mount", mnt, "--state-dir", t.TempDir())
			require.Error(t, err, what)
			assert.Contains(t, out, what)
		}
		m := b.mount(t)
		out, err := b.run("mount", m.mnt, "--state-dir", t.TempDir())
		require.Error(t, err)
		assert.Contains(t, out, "already mounted")
	})
}

// Flags with values that cannot work are refused before anything is mounted,
// with a message that names the flag.
func TestMountRefusesBadFlagValues(t *testing.T) {
	for _, kind := range []string{backend123pan, backendWechat} {
		t.Run(kind, func(t *testing.T) {
			mnt := t.TempDir()
			for _, bad := range [][]string{{"--read-ahead", "0"}, {"--umask", "9x"}, {"--write-back=soon"},
				{"--file-mode", "0"}, {"--file-mode", "4755"}, {"--dir-mode", "1777"}, {"--umask", "1000"}} {
				args := append([]string{"mount", mnt, "--backend", kind, "--emulator", "--state-dir", t.TempDir()}, bad...)
				out, err := run(binary, args...)
				require.Error(t, err, "%v", bad)
				assert.Contains(t, out, strings.SplitN(bad[0], "=", 2)[0], "%v", bad)
				info, err := os.ReadFile("/proc/self/mountinfo")
				require.NoError(t, err)
				assert.NotContains(t, string(info), mnt, "nothing mounted for %v", bad)
			}
		})
	}
}

func TestFusermountUnmountEndsCleanly(t *testing.T) {
	eachBackend(t, emuArgs{}, func(t *testing.T, b *backendFixture) {
		m := b.mount(t)
		sh(t, m.mnt, "echo hi > hello.txt")
		_, err := run("fusermount3", "-u", m.mnt)
		require.NoError(t, err)
		err = <-m.done
		m.done <- err
		assert.NoError(t, err, "exit status after fusermount3 -u")
		assert.Equal(t, []byte("hi\n"), b.bytesOf(t, "hello.txt"))
	})
}

// The embedded 123pan emulator keeps its files in the state directory.
// Only 123pan: the embedded WeChat emulator keeps everything in memory, so
// a remount of it starts empty (cmd/pan123fs/embedded.go).
func TestEmbeddedEmulatorKeepsFilesAcrossRemounts(t *testing.T) {
	state := t.TempDir()
	for round := 0; round < 2; round++ {
		mnt := t.TempDir()
		p := startMountArgs(t, mnt, "--emulator", "--state-dir", state)
		if round == 0 {
			sh(t, mnt, "echo kept > kept.txt")
		} else {
			assert.Equal(t, "kept\n", sh(t, mnt, "cat kept.txt"))
		}
		require.NoError(t, p.stop(t))
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func md5sumOf(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}
