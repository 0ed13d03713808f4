package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sharedTTL is the --dir-cache-ttl of the two-machine test: how long a
// mount trusts a folder listing before it asks the service again.
const sharedTTL = time.Second

// TestSecondMachineSeesChangesAfterTTL mounts one account (one CloudBase
// environment) twice, each mount with its own state directory as two
// machines would, and checks that files made, a file renamed, a folder
// renamed, and files and a folder deleted through mount A show through
// mount B once B's listings are older than --dir-cache-ttl, with the bytes
// B reads being the ones A wrote.
func TestSecondMachineSeesChangesAfterTTL(t *testing.T) {
	eachBackend(t, emuArgs{}, func(t *testing.T, b *backendFixture) {
		ttl := []string{"--dir-cache-ttl", sharedTTL.String()}
		mountA := b.mount(t, append(ttl, b.rateLimit(crashRateLimit)...)...)
		mountB := b.mount(t, append(ttl, b.rateLimit(crashRateLimit)...)...)

		src := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(src, "album/sub"), 0o755))
		for i, rel := range []string{"top.jpg", "album/a.png", "album/b.png", "album/sub/c.gif", "album/sub/d.gif"} {
			data := []byte(strings.Repeat(fmt.Sprintf("%s %d\n", rel, i), 1000*(i+1)))
			require.NoError(t, os.WriteFile(filepath.Join(src, rel), data, 0o644))
		}
		sh(t, mountB.mnt, "ls -R") // B lists the empty root first: what follows must outlive that listing
		sh(t, mountA.mnt, "cp -r "+filepath.Join(src, "*")+" .")

		tree := "find . | sort"
		sums := "find . -type f | sort | xargs md5sum"
		seenAfterTTL(t, mountB, tree, sh(t, src, tree), "the files A made")
		assert.Equal(t, sh(t, src, sums), sh(t, mountB.mnt, sums), "the bytes B reads of what A wrote")

		// A renames a file and a folder; B has listed both folders.
		sh(t, mountB.mnt, "ls -R")
		sh(t, mountA.mnt, "mv top.jpg album/top.jpg && mv album/sub album/renamed")
		sh(t, src, "mv top.jpg album/top.jpg && mv album/sub album/renamed")
		seenAfterTTL(t, mountB, tree, sh(t, src, tree), "a file and a folder A renamed")
		assert.Equal(t, sh(t, src, sums), sh(t, mountB.mnt, sums), "the bytes B reads after the renames")

		// A deletes a file, then a folder with what it holds.
		sh(t, mountB.mnt, "ls -R")
		sh(t, mountA.mnt, "rm album/a.png && rm -r album/renamed")
		sh(t, src, "rm album/a.png && rm -r album/renamed")
		seenAfterTTL(t, mountB, tree, sh(t, src, tree), "what A deleted")
		assert.Equal(t, sh(t, src, sums), sh(t, mountB.mnt, sums), "the bytes B reads after the deletes")
	})
}

// seenAfterTTL runs line in B's mount until it prints want: the first try
// comes once sharedTTL has passed, and it must succeed within a few
// seconds more (a listing in flight, a delete queued for its window).
func seenAfterTTL(t *testing.T, mountB *mountProc, line, want, what string) {
	t.Helper()
	time.Sleep(sharedTTL)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := sh(t, mountB.mnt, line)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			assert.Equal(t, want, got, "%s, through the second mount, %v after the change", what, sharedTTL+5*time.Second)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRmOf51FilesIsTwoDeleteCalls removes 51 files of one folder with rm
// and counts the service's delete calls: WeChat's batchdeletefile takes at
// most 50 file IDs, so 51 files are 2 calls; 123pan's delete takes 100
// IDs, so 1. The service holds none of them afterwards.
func TestRmOf51FilesIsTwoDeleteCalls(t *testing.T) {
	want := map[string]int64{backendWechat: 2, backend123pan: 1}
	eachBackend(t, emuArgs{}, func(t *testing.T, b *backendFixture) {
		m := b.mount(t, b.rateLimit(crashRateLimit)...)
		src := t.TempDir()
		for i := range 51 {
			require.NoError(t, os.WriteFile(filepath.Join(src, fmt.Sprintf("%02d.png", i)), []byte(fmt.Sprintf("file %d", i)), 0o644))
		}
		sh(t, m.mnt, "mkdir set && cp "+filepath.Join(src, "*")+" set/")
		held := b.held(t)
		var files []heldFile
		for p, e := range held {
			if strings.HasPrefix(p, "set/") && !e.Dir {
				files = append(files, e)
			}
		}
		require.Len(t, files, 51, "the files on %s before rm", b.kind)

		before := emulatorCalls(t, b.url)[b.deleteCall]
		sh(t, m.mnt, "rm set/*")
		require.NoError(t, m.stop(t), "SIGTERM: pending deletes sent, exit 0")
		calls := emulatorCalls(t, b.url)[b.deleteCall] - before
		assert.Equal(t, want[b.kind], calls, "%s calls for rm of 51 files", b.deleteCall)

		held = b.held(t)
		assert.Equal(t, []string{"set/"}, sortedPaths(held), "what %s holds after rm of the 51 files", b.kind)
		if b.kind == backendWechat {
			assert.Zero(t, b.objects(t), "storage objects left")
			for _, e := range files {
				_, err := b.content(e)
				assert.ErrorContains(t, err, "STORAGE_FILE_NONEXIST", "batchdownloadfile of a deleted file's ID")
			}
		}
	})
}

// TestRmdirOnSecondMachineKeepsFilesItHasNotSeen: mount B removes a folder
// its listing (younger than --dir-cache-ttl) shows empty, while mount A
// has put a file in it meanwhile. The file must survive: B's rmdir returns
// at once, as an unlink does, but the folder's delete goes out only once
// the service says the folder is empty (fs/rmdircheck.go); here it is not,
// so the folder shows again on B, with A's file.
func TestRmdirOnSecondMachineKeepsFilesItHasNotSeen(t *testing.T) {
	eachBackend(t, emuArgs{}, func(t *testing.T, b *backendFixture) {
		mountA := b.mount(t, b.rateLimit(crashRateLimit)...)
		mountB := b.mount(t, append([]string{"--dir-cache-ttl", "1h"}, b.rateLimit(crashRateLimit)...)...)
		sh(t, mountA.mnt, "mkdir shared")
		sh(t, mountB.mnt, "ls shared") // B lists it empty, and trusts that for an hour
		sh(t, mountA.mnt, "echo precious > shared/f.txt")
		sh(t, mountB.mnt, "rmdir shared && "+binary+" sync --timeout 1m .")
		assert.Equal(t, "f.txt\n", sh(t, mountB.mnt, "ls shared"), "the folder shows again on B, with A's file")
		require.NoError(t, mountB.stop(t), "SIGTERM: pending deletes sent, exit 0")
		assert.Equal(t, []byte("precious\n"), b.bytesOf(t, "shared/f.txt"), "the file A put there")
	})
}
