package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultList makes about one API call or slice PUT in five fail somehow.
const faultList = "5xx=0.05,reset=0.05,slow=0.03,429=0.04,verifying=0.05"

// faultRateLimit paces nothing that matters: the faults are the test.
const faultRateLimit = crashRateLimit + ",get_upload_url=50,upload_complete=50,upload_async_result=50,detail=50"

// emuStats is GET /__emulator/stats.
type emuStats struct {
	Calls       map[string]int64 `json:"calls"`
	Faults      int64            `json:"faults"`
	RateLimited int64            `json:"rate_limited"`
}

func (s emuStats) total() (n int64) {
	for _, c := range s.Calls {
		n += c
	}
	return n
}

// emulatorStats reads the emulator's call, fault and rate-limit counters.
func emulatorStats(t *testing.T, url string) emuStats {
	t.Helper()
	st, err := statsOf(url)
	require.NoError(t, err)
	return st
}

// setEmulatorFaults replaces the emulator's faults ("" = none).
func setEmulatorFaults(t *testing.T, url, list string) {
	t.Helper()
	resp, err := http.Post(url+"/__emulator/faults", "text/plain", strings.NewReader(list))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "POST /__emulator/faults")
}

// TestFaultsEveryFileLandsOnce copies files into mounts of an emulator that
// fails about one call in five (startFaults: 5xx, resets, slow answers,
// and each service's own: 429 and "verifying" on 123pan, errcodes -1 and
// -501002 on WeChat) and checks through the API that every file lands
// exactly once and whole; on each backend.
func TestFaultsEveryFileLandsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("copies hundreds of files through a faulty emulator")
	}
	// The longest tests here, mostly waiting on emulators' rate limits and
	// retries, not on the CPU: they run alongside each other once the
	// sequential tests are done. What they check is the end state, which
	// load does not change.
	t.Parallel()
	seed := time.Now().UnixNano()
	if s := os.Getenv("PAN123FS_FAULTS_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (PAN123FS_FAULTS_SEED to repeat the file sizes)", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x2545f4914f6cdd1d))
	args := emuArgs{pan123: []string{"--slow-delay", "200ms", "--slice-size", fmt.Sprint(e2eSlice)}}

	// Write-back: close returns once the data is in the spool, so cp sees
	// no error whatever the remote does; sync then waits for every upload.
	t.Run("write-back/300", func(t *testing.T) {
		eachBackend(t, args, func(t *testing.T, b *backendFixture) {
			stopFaults := b.startFaults(t, rng)
			m := b.mount(t, append([]string{"--write-back=100ms"}, b.rateLimit(faultRateLimit)...)...)
			src := t.TempDir()
			folders := []string{"tree", "tree/a", "tree/a/b", "tree/a/b/c", "tree/d", "tree/e", "tree/e/f"}
			dirs := map[string]bool{}
			for _, d := range folders {
				dirs[d] = true
			}
			var rels []string
			for i := 0; i < 300; i++ {
				rels = append(rels, fmt.Sprintf("%s/%03d.png", folders[rng.IntN(len(folders))], i))
			}
			files := makeSources(t, rng, src, rels, 200<<10)
			srcs, ok := map[string]srcFile{}, map[string]bool{}
			var bytes int64
			for _, f := range files {
				srcs[f.rel], ok[f.rel] = f, true
				bytes += f.size
			}

			start := time.Now()
			out, err := run("cp", "-r", filepath.Join(src, "tree"), m.mnt+"/")
			cpTook := time.Since(start)
			require.NoError(t, err, "cp -r in write-back mode: %s", out)
			out, syncTook, err := syncMount(m.mnt, 4*time.Minute)
			require.NoError(t, err, "pan123fs sync: %s", out)
			settledStatus(t, m.mnt, "after sync")

			st := emulatorStats(t, b.url)
			assert.Positive(t, st.Faults, "the emulator injected faults")
			stopFaults() // the checks below list without faults
			a := auditRemote(t, b, srcs, ok, dirs)
			assert.False(t, a.bad(), "%s", a)
			assert.Equal(t, len(files), a.confirmed, "files on %s once and whole", b.kind)
			require.NoError(t, m.stop(t), "SIGTERM: exit 0")
			t.Logf("write-back: %d files, %.1f MiB in %d folders: cp -r %v, sync %v; emulator: %d calls, %d faults injected, %d rate-limited; confirmed %d, partials %d, duplicates %d",
				len(files), float64(bytes)/(1<<20), len(folders), cpTook.Round(time.Millisecond), syncTook.Round(time.Millisecond),
				st.total(), st.Faults, st.RateLimited, a.confirmed, len(a.partials), len(a.duplicates))
		})
	})

	// Default mode: close waits for the upload, so a cp fails only when the
	// client's retries are exhausted. What cp reported done must be there
	// once; what it reported failed may be absent or whole, never partial.
	t.Run("close/40", func(t *testing.T) {
		eachBackend(t, args, func(t *testing.T, b *backendFixture) {
			stopFaults := b.startFaults(t, rng)
			m := b.mount(t, b.rateLimit(faultRateLimit)...)
			src := t.TempDir()
			const writers = 4
			dirs := map[string]bool{"set": true}
			require.NoError(t, os.Mkdir(m.path("set"), 0o755))
			var rels []string
			for i := 0; i < 40; i++ {
				rels = append(rels, path.Join("set", fmt.Sprintf("%03d.jpg", i)))
			}
			files := makeSources(t, rng, src, rels, 200<<10)
			srcs := map[string]srcFile{}
			for _, f := range files {
				srcs[f.rel] = f
			}

			start := time.Now()
			var never atomic.Bool
			results := copyUntilStopped(m.mnt, files, writers, &never)()
			cpTook := time.Since(start)
			ok := map[string]bool{}
			var failed []string
			for _, r := range results {
				ok[r.rel] = r.ok
				if !r.ok {
					failed = append(failed, fmt.Sprintf("%s: %s", r.rel, r.out))
				}
			}
			require.Len(t, results, len(files))
			out, syncTook, err := syncMount(m.mnt, 4*time.Minute)
			assert.NoError(t, err, "pan123fs sync: %s", out)
			settledStatus(t, m.mnt, "after sync")

			st := emulatorStats(t, b.url)
			assert.Positive(t, st.Faults, "the emulator injected faults")
			stopFaults()
			a := auditRemote(t, b, srcs, ok, dirs)
			assert.False(t, a.bad(), "%s", a)
			assert.Positive(t, a.confirmed, "some cp succeeded despite the faults and its file is on %s", b.kind)
			require.NoError(t, m.stop(t), "SIGTERM: exit 0")
			t.Logf("close: %d files by %d concurrent cp: %v, sync %v; cp failed %d (whole on %s after sync %d, absent %d); emulator: %d calls, %d faults injected, %d rate-limited; confirmed %d, partials %d, duplicates %d",
				len(files), writers, cpTook.Round(time.Millisecond), syncTook.Round(time.Millisecond), len(failed), b.kind, a.failedHere, a.failedGone,
				st.total(), st.Faults, st.RateLimited, a.confirmed, len(a.partials), len(a.duplicates))
			for _, f := range failed {
				t.Logf("  cp failed: %s", f)
			}
		})
	})
}
