package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// crashRateLimit keeps the client's own pacing out of the way of the test.
const crashRateLimit = "create=50,mkdir=50,list=50,delete=10,move=10"

// srcFile is a file of random content made to be copied into a mount.
type srcFile struct {
	rel  string // path under the mount, "/"-separated
	path string // local path of the source
	size int64
	md5  string
}

// makeSources writes n files of random content under dir, named
// prefix/NNN.bin. A tenth are at most 1 KiB (some empty), four tenths fit
// in one slice, half span several 64 KiB slices (up to maxSize).
func makeSources(t *testing.T, rng *rand.Rand, dir string, rels []string, maxSize int) []srcFile {
	t.Helper()
	out := make([]srcFile, 0, len(rels))
	for _, rel := range rels {
		var size int
		switch k := rng.IntN(10); {
		case k == 0:
			size = rng.IntN(1025)
			if rng.IntN(3) == 0 {
				size = 0
			}
		case k < 5:
			size = 1024 + rng.IntN(e2eSlice-1024)
		default:
			size = e2eSlice + 1 + rng.IntN(maxSize-e2eSlice)
		}
		size = min(size, maxSize)
		data := make([]byte, size)
		for i := 0; i < len(data); i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && i+j < len(data); j++ {
				data[i+j] = byte(v >> (8 * j))
			}
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
		sum := md5.Sum(data)
		out = append(out, srcFile{rel: rel, path: p, size: int64(size), md5: hex.EncodeToString(sum[:])})
	}
	return out
}

// killMount SIGKILLs a mount process and lazily unmounts the dead mount it
// leaves. It fails the test if the process had already ended.
func killMount(t *testing.T, p *mountProc) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		t.Errorf("pan123fs mount ended before it was killed: %v", err)
	default:
	}
	p.cmd.Process.Kill()
	err := <-p.done
	p.done <- err
	if out, err := run("fusermount3", "-u", "-z", p.mnt); err != nil {
		t.Logf("fusermount3 -u -z %s: %v: %s", p.mnt, err, out)
	}
	require.Eventually(t, func() bool { ok, _ := isMounted(p.mnt); return !ok }, 10*time.Second, 20*time.Millisecond,
		"%s still mounted after fusermount3 -u -z", p.mnt)
}

// syncMount runs `pan123fs sync MNT --timeout D`.
func syncMount(mnt string, timeout time.Duration) (string, time.Duration, error) {
	start := time.Now()
	out, err := run(binary, "sync", mnt, "--timeout", timeout.String())
	return out, time.Since(start), err
}

// statusJSON is `pan123fs status --json`, decoded independently of the
// product's own type, so that the field names are checked too.
type statusJSON struct {
	Items []struct {
		Path  string `json:"path"`
		State string `json:"state"`
		Size  int64  `json:"size"`
		Error string `json:"error"`
	} `json:"items"`
	Recovered []struct {
		Path  string `json:"path"`
		Saved string `json:"saved"`
		Size  int64  `json:"size"`
	} `json:"recovered"`
	DeletesPending int   `json:"deletesPending"`
	SpoolBytes     int64 `json:"spoolBytes"`
}

func mountStatus(t *testing.T, mnt string) statusJSON {
	t.Helper()
	cmd := exec.Command(binary, "status", mnt, "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "pan123fs status --json: %s", stderr.String())
	var st statusJSON
	dec := json.NewDecoder(bytes.NewReader(out))
	require.NoError(t, dec.Decode(&st), "pan123fs status --json output:\n%s", out)
	return st
}

// settledStatus reads `pan123fs status --json` right after a sync that
// exited 0: nothing may be pending then. If something is (a bug, reported
// as a test error), it waits up to two minutes for the mount to finish, so
// that the checks of the remote that follow still mean something.
func settledStatus(t *testing.T, mnt, what string) statusJSON {
	t.Helper()
	st := mountStatus(t, mnt)
	if len(st.Items) == 0 && st.DeletesPending == 0 {
		return st
	}
	t.Errorf("%s: pan123fs sync exited 0, yet status lists %d pending items and %d pending deletes: %+v",
		what, len(st.Items), st.DeletesPending, st.Items)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && (len(st.Items) > 0 || st.DeletesPending > 0) {
		time.Sleep(200 * time.Millisecond)
		st = mountStatus(t, mnt)
	}
	assert.Empty(t, st.Items, "%s: still pending two minutes after sync", what)
	assert.Zero(t, st.DeletesPending, "%s: deletes still pending two minutes after sync", what)
	return st
}

// remoteAll walks the whole remote from the root: path → every entry at
// that path (more than one is a duplicate the service should never hold).
func remoteAll(t *testing.T, rc *remote.Client) map[string][]wire.Entry {
	t.Helper()
	out := map[string][]wire.Entry{}
	var walk func(id, prefix string)
	walk = func(id, prefix string) {
		for e, err := range rc.List(context.Background(), id) {
			require.NoError(t, err, "listing %q", prefix)
			p := prefix + e.Filename
			out[p] = append(out[p], e)
			if e.IsDir() {
				walk(string(e.FileID), p+"/")
			}
		}
	}
	walk("", "")
	return out
}

// contentMD5 downloads a file from the service and returns its md5 and
// size, so that the check does not rest on the listed md5 alone.
func contentMD5(b *backendFixture, e heldFile) (string, int64, error) {
	data, err := b.content(e)
	if err != nil {
		return "", 0, err
	}
	return md5sumOf(data), int64(len(data)), nil
}

// audit is what a walk of the remote found, measured against the sources.
type audit struct {
	confirmed  int      // files whose cp succeeded, found exactly once and whole
	losses     []string // files whose cp succeeded, missing or wrong
	partials   []string // entries whose content is no source file's whole content
	misplaced  []string // whole content of a source file, at a path that is not its own
	duplicates []string // paths holding more than one entry
	temporary  []string // leftover .pan123fs- entries
	extraDirs  []string // folders nobody made
	failedHere int      // files whose cp failed, found whole
	failedGone int      // files whose cp failed, absent
}

func (a audit) bad() bool {
	return len(a.losses)+len(a.partials)+len(a.misplaced)+len(a.duplicates)+len(a.temporary)+len(a.extraDirs) > 0
}

func (a audit) String() string {
	var b strings.Builder
	for _, l := range []struct {
		what string
		list []string
	}{{"lost", a.losses}, {"partial", a.partials}, {"misplaced", a.misplaced}, {"duplicated", a.duplicates},
		{"temporary", a.temporary}, {"unexpected folder", a.extraDirs}} {
		if len(l.list) > 0 {
			fmt.Fprintf(&b, "\n  %s (%d): %s", l.what, len(l.list), strings.Join(l.list, ", "))
		}
	}
	return b.String()
}

// auditRemote checks the whole remote: srcs are every file ever copied
// (path → source), ok says which cp exited 0, dirs are the folders made.
// A file whose cp succeeded must be there once and whole; any other file
// may be absent or whole; nothing may be partial, duplicated or temporary.
func auditRemote(t *testing.T, b *backendFixture, srcs map[string]srcFile, ok map[string]bool, dirs map[string]bool) audit {
	t.Helper()
	tree := map[string][]heldFile{} // a file and a folder of one name are a duplicate too
	for p, es := range b.entries(t) {
		p = strings.TrimSuffix(p, "/")
		tree[p] = append(tree[p], es...)
	}
	byMD5 := map[string]bool{}
	for _, s := range srcs {
		byMD5[fmt.Sprintf("%s/%d", s.md5, s.size)] = true
	}
	var a audit
	paths := make([]string, 0, len(tree))
	for p := range tree {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		entries := tree[p]
		if strings.HasPrefix(filepath.Base(p), tmpPrefixForTest) {
			a.temporary = append(a.temporary, p)
		}
		if len(entries) > 1 {
			a.duplicates = append(a.duplicates, fmt.Sprintf("%s ×%d", p, len(entries)))
		}
		for _, e := range entries {
			if e.Dir {
				if !dirs[p] {
					a.extraDirs = append(a.extraDirs, p)
				}
				continue
			}
			sum, size, err := contentMD5(b, e)
			require.NoError(t, err, "downloading %s", p)
			if sum != e.MD5 || size != e.Size {
				a.partials = append(a.partials, fmt.Sprintf("%s (listed %d B %s, content %d B %s)", p, e.Size, e.MD5, size, sum))
				continue
			}
			s, known := srcs[p]
			switch {
			case known && s.md5 == sum && s.size == size:
			case byMD5[fmt.Sprintf("%s/%d", sum, size)]:
				a.misplaced = append(a.misplaced, fmt.Sprintf("%s (%d B)", p, size))
			case known:
				a.partials = append(a.partials, fmt.Sprintf("%s (%d B of %d)", p, size, s.size))
			default:
				a.partials = append(a.partials, fmt.Sprintf("%s (%d B, no file was copied there)", p, size))
			}
		}
	}
	for rel, s := range srcs {
		entries := tree[rel]
		whole := len(entries) == 1 && !entries[0].Dir && entries[0].MD5 == s.md5 && entries[0].Size == s.size
		switch {
		case ok[rel] && whole:
			a.confirmed++
		case ok[rel]:
			a.losses = append(a.losses, fmt.Sprintf("%s (%d B; %d entries there)", rel, s.size, len(entries)))
		case whole:
			a.failedHere++
		case len(entries) == 0:
			a.failedGone++
		}
	}
	sort.Strings(a.losses)
	return a
}

// startOfSomeSource tells whether data is the start of a source file.
func startOfSomeSource(t *testing.T, data []byte, srcs map[string]srcFile) bool {
	for _, s := range srcs {
		if s.size >= int64(len(data)) && bytes.HasPrefix(mustRead(t, s.path), data) {
			return true
		}
	}
	return false
}

// tmpPrefixForTest is how the names of temporary entries start (SEMANTICS.md).
const tmpPrefixForTest = ".pan123fs-"

// cpResult is the outcome of one `cp SRC DST` into a mount.
type cpResult struct {
	rel string
	ok  bool
	out string
}

// copyUntilStopped runs `writers` goroutines, each copying its share of
// files one `cp` at a time into mnt until it runs out or stop is set.
func copyUntilStopped(mnt string, files []srcFile, writers int, stop *atomic.Bool) (wait func() []cpResult) {
	var mu sync.Mutex
	var results []cpResult
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(files); i += writers {
				if stop.Load() {
					return
				}
				f := files[i]
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				out, err := exec.CommandContext(ctx, "cp", f.path, filepath.Join(mnt, filepath.FromSlash(f.rel))).CombinedOutput()
				cancel()
				mu.Lock()
				results = append(results, cpResult{rel: f.rel, ok: err == nil, out: strings.TrimSpace(string(out))})
				mu.Unlock()
			}
		}()
	}
	return func() []cpResult {
		wg.Wait()
		return results
	}
}

// TestCrashLosesNothing SIGKILLs a mount while cp processes write into it,
// remounts with the same state directory, syncs, and checks through the API
// that every file whose cp succeeded is on the service once and whole, and
// that nothing partial or temporary is left there; on each backend. The
// emulator is a process of its own and lives on across the crash (the
// WeChat one keeps everything in memory).
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and remounts mounts")
	}
	// The longest tests here, mostly waiting on emulators' rate limits and
	// retries, not on the CPU: they run alongside each other once the
	// sequential tests are done. What they check is the end state, which
	// load does not change.
	t.Parallel()
	seed := time.Now().UnixNano()
	if s := os.Getenv("PAN123FS_CRASH_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (PAN123FS_CRASH_SEED to repeat)", seed)
	eachBackend(t, emuArgs{pan123: []string{"--slice-size", fmt.Sprint(e2eSlice)}}, func(t *testing.T, b *backendFixture) {
		testCrashLosesNothing(t, b, rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)))
	})
}

func testCrashLosesNothing(t *testing.T, b *backendFixture, rng *rand.Rand) {
	srcDir := t.TempDir()

	const writers, perWriter = 4, 30
	type mode struct {
		name string
		args []string
	}
	modes := []mode{{"close", nil}, {"close", nil}, {"close", nil},
		{"write-back", []string{"--write-back=200ms"}}, {"write-back", []string{"--write-back=200ms"}}, {"write-back", []string{"--write-back=200ms"}}}

	allSrcs := map[string]srcFile{}
	allOK := map[string]bool{}
	dirs := map[string]bool{}
	var totConfirmed, totLosses, totPartials, totRecovered, totFailed, totFailedHere int
	start := time.Now()
	for round, m := range modes {
		roundStart := time.Now()
		state := t.TempDir() // this round's state dir, kept across the crash
		mnt := t.TempDir()
		args := append(b.rateLimit(crashRateLimit), m.args...)
		p := b.mountAt(t, mnt, state, args...)

		top := fmt.Sprintf("r%d", round)
		var rels []string
		require.NoError(t, os.Mkdir(filepath.Join(mnt, top), 0o755))
		dirs[top] = true
		for w := 0; w < writers; w++ {
			d := fmt.Sprintf("%s/w%d", top, w)
			require.NoError(t, os.Mkdir(filepath.Join(mnt, d), 0o755))
			dirs[d] = true
		}
		for i := 0; i < writers*perWriter; i++ {
			rels = append(rels, fmt.Sprintf("%s/w%d/%03d.bin", top, i%writers, i))
		}
		files := makeSources(t, rng, srcDir, rels, 400<<10)
		for _, f := range files {
			allSrcs[f.rel] = f
		}

		var stop atomic.Bool
		wait := copyUntilStopped(mnt, files, writers, &stop)
		delay := 300*time.Millisecond + time.Duration(rng.Int64N(int64(1700*time.Millisecond)))
		time.Sleep(delay)
		stop.Store(true) // no cp starts after the kill: those in flight are the interesting ones
		killMount(t, p)
		results := wait()

		var ok, failed int
		for _, r := range results {
			allOK[r.rel] = r.ok
			if r.ok {
				ok++
			} else {
				failed++
			}
		}

		// The same state dir, the same mount point.
		p2 := b.mountAt(t, mnt, state, args...)
		out, took, err := syncMount(mnt, 2*time.Minute)
		require.NoError(t, err, "round %d: pan123fs sync after the crash: %s", round, out)
		st := settledStatus(t, mnt, fmt.Sprintf("round %d", round))
		for _, r := range st.Recovered {
			assert.False(t, allOK[r.Path], "round %d: %s was recovered as cut short, yet its cp succeeded", round, r.Path)
			saved, err := os.ReadFile(r.Saved)
			if !assert.NoError(t, err, "round %d: the data of %s kept aside", round, r.Path) {
				continue
			}
			if r.Path == "" {
				// A spool file no journal record names (fs keepOrphans): the
				// kill came between its record's removal and its own, or
				// before its record was written. Its data must still be
				// what some cp wrote.
				assert.True(t, startOfSomeSource(t, saved, allSrcs),
					"round %d: the %d bytes kept of an unnamed file (%s) are not the start of any file copied", round, len(saved), r.Saved)
				continue
			}
			src, known := allSrcs[r.Path]
			if assert.True(t, known, "round %d: recovered %s was never copied", round, r.Path) {
				whole := mustRead(t, src.path)
				assert.True(t, len(saved) <= len(whole) && bytes.Equal(saved, whole[:len(saved)]),
					"round %d: the %d bytes kept of %s are not the start of what cp wrote", round, len(saved), r.Path)
			}
		}

		a := auditRemote(t, b, allSrcs, allOK, dirs)
		assert.False(t, a.bad(), "round %d:%s", round, a)
		require.NoError(t, p2.stop(t), "round %d: SIGTERM after sync: exit 0", round)

		roundConfirmed := 0
		for _, r := range results {
			if r.ok {
				roundConfirmed++
			}
		}
		t.Logf("round %d (%s): killed after %v; cp ok %d, cp failed %d, not started %d; recovered %d; sync %v; "+
			"whole remote: confirmed %d, losses %d, partials %d, failed-but-whole %d, failed-and-absent %d; round took %v",
			round, m.name, delay.Round(time.Millisecond), ok, failed, len(files)-len(results), len(st.Recovered),
			took.Round(time.Millisecond), a.confirmed, len(a.losses), len(a.partials), a.failedHere, a.failedGone,
			time.Since(roundStart).Round(time.Millisecond))
		totConfirmed += roundConfirmed
		totLosses, totPartials = len(a.losses), len(a.partials) // the audit covers every round so far
		totRecovered += len(st.Recovered)
		totFailed += failed
		totFailedHere = a.failedHere
		if a.bad() {
			for _, r := range results {
				if !r.ok {
					t.Logf("  cp %s failed: %s", r.rel, r.out)
				}
			}
		}
	}
	assert.Positive(t, totConfirmed, "some cp succeeded and its file is on %s", b.kind)
	t.Logf("total: %d rounds in %v; files confirmed %d, losses %d, partials %d, recovered %d; cp failed %d (of which whole on %s after sync %d)",
		len(modes), time.Since(start).Round(time.Millisecond), totConfirmed, totLosses, totPartials, totRecovered, totFailed, b.kind, totFailedHere)
}
