// Command bench measures a pan123fs mount against baselines taken in the
// same run, on an emulator run as a separate process.
//
//	go run ./tools/bench -pan123fs bin/pan123fs [-quick] [-json bench-results.json]
//
// It starts `pan123fs emulator --data TMP/emu`, then for each scenario a
// fresh `pan123fs mount` (its own --state-dir, so its own empty block
// cache, and its own client ID, so that no token knocks another's out),
// runs what the scenario says, stops the mount (SIGTERM, then SIGKILL and
// `fusermount3 -u -z` if it does not go), and prints a table: scenario,
// figure, baseline, ratio, target, met. Each row's note says exactly what
// was measured. The same rows go to -json. Calls are counted by diffing the
// emulator's GET /__emulator/stats; downloaded bytes by the sum of
// totalTraffic over a folder's files. Rate limits change at run time
// through POST /__emulator/qps on the emulator and --rate-limit on the
// mount. Every child is stopped by its own PID and every mount unmounted
// before the program exits, on failure too. It exits 1 if a target is not
// met or a scenario fails.
//
// Before the scenarios (unless -probe=false) it probes the machine: the
// rate of writes into new page cache, and the time to make a small file
// durable, alone and next to a journal's fdatasync. The probes have no
// target; printed after the table, they tell the limits behind rows that
// miss theirs.
//
// -quick scales the sizes down for a smoke run (64 MiB / 256 MiB instead
// of 1 GiB / 4 GiB, 200 small files instead of 1,000 (scenarios 3-5, 9),
// 1,000 listed instead of 10,000, 100 thumbnails instead of 500).
//
// -backend wechat-cloudbase runs another set against `pan123fs emulator
// --backend wechat-cloudbase` and mounts of that backend (scen_wechat.go,
// scen_wechat_meta.go, emu_wechat.go): 1, 1,000 files of 64 KiB copied in
// (default mode and --write-back) against raw API uploads of the same
// files at the same concurrency; 2, mv of that folder, then of its files
// one by one; 3, rm -r of them; 4, ls -l of 10,000 entries, cold and warm.
// -quick makes it 200 files and 1,000 entries. There is no rclone column.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pan123fs/pan123fs/remote"
)

type bench struct {
	bin, tmp string
	quick    bool
	big      int64 // scenarios 1 and 2
	huge     int64 // scenario 8
	nSmall   int   // scenarios 3, 4, 5: files of smallSize
	nList    int   // scenario 6
	nThumb   int   // scenario 7: files of 1 MiB
	uploads  int   // the mount's --uploads (default 4): scenario 3's baseline concurrency

	kids  *children
	e     *emu   // -backend 123pan
	wx    *wxEmu // -backend wechat-cloudbase
	seq   int
	ran   map[string]bool
	state map[string]string // files kept between scenarios: "big", "big.md5", "setB"

	rclone    string                       // path of rclone, "" if not installed
	rcloneRes map[string]map[string]string // rclone's --vfs-cache-mode -> row ID -> figure
}

const (
	smallSize = 64 << 10
	thumbSize = 1 << 20
	thumbRead = 64 << 10
	secret    = "bench-secret"
)

func main() {
	os.Exit(run())
}

func run() int {
	bin := flag.String("pan123fs", "bin/pan123fs", "the pan123fs binary (its emulator and mount subcommands are run)")
	quick := flag.Bool("quick", false, "smaller sizes for a smoke run")
	jsonPath := flag.String("json", "bench-results.json", "where to write the results as JSON")
	tmpParent := flag.String("tmp", "", "where to make the temporary directory (default: $TMPDIR)")
	backend := flag.String("backend", "123pan", "the service emulated: 123pan, or "+backendWechat+" (its own scenario set, scen_wechat.go)")
	only := flag.String("only", "", "comma-separated scenarios to run (e.g. 3,4,5; 2 needs 1, 5 needs 4; with -backend "+backendWechat+": 2 needs 1, 3 needs 2)")
	keep := flag.Bool("keep", false, "keep the temporary directory (logs) after the run")
	doProbe := flag.Bool("probe", true, "first measure the machine (new page cache writes, durable small-file close), -only or not")
	flag.Parse()

	b := &bench{quick: *quick, big: 1 << 30, huge: 4 << 30, nSmall: 1000, nList: 10000, nThumb: 500, uploads: 4,
		kids: &children{}, ran: map[string]bool{}, state: map[string]string{}, rcloneRes: map[string]map[string]string{}}
	if *quick {
		b.big, b.huge, b.nSmall, b.nList, b.nThumb = 64<<20, 256<<20, 200, 1000, 100
	}
	var err error
	if b.bin, err = filepath.Abs(*bin); err != nil {
		return fail("%v", err)
	}
	if _, err := os.Stat(b.bin); err != nil {
		return fail("-pan123fs: %v (run `make build` first)", err)
	}
	for _, tool := range []string{"curl", "cp", "rm", "ls", "fusermount3"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fail("%s is needed: %v", tool, err)
		}
	}
	if *backend != "123pan" && *backend != backendWechat {
		return fail("-backend %q: want 123pan or %s", *backend, backendWechat)
	}
	if p, err := exec.LookPath("rclone"); err == nil && *backend == "123pan" {
		b.rclone = p
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp(*tmpParent, "pan123fs-bench-*")
	if err != nil {
		return fail("%v", err)
	}
	b.tmp = tmp
	if *keep {
		fmt.Fprintln(os.Stderr, "bench: keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	b.kids.hurry = func() bool { return ctx.Err() != nil }
	defer b.kids.killAll() // before the directory goes (defers run last-in first-out)

	type scenario struct {
		id string
		fn func(context.Context) []row
	}
	var scenarios []scenario
	if *backend == backendWechat {
		if b.wx, err = b.startWechat(ctx); err != nil {
			return fail("emulator: %v", err)
		}
		logf("%s emulator at %s, work in %s", backendWechat, b.wx.url, tmp)
		scenarios = []scenario{{"1", b.w1}, {"2", b.w2}, {"3", b.w3}, {"4", b.w4}}
	} else {
		url, err := b.kids.startEmulator(ctx, b.bin, filepath.Join(tmp, "emu"))
		if err != nil {
			return fail("emulator: %v", err)
		}
		b.e = &emu{url: url, hc: httpClient(), tmp: tmp, pid: b.kids.emu.Process.Pid}
		_, none := unlimited()
		if b.e.admin, err = b.e.newClient("bench-admin", none, 0); err != nil {
			return fail("%v", err)
		}
		logf("emulator at %s, work in %s", url, tmp)
		// Run in the order 1 2 8 3 4 5 6 7 (scenario 8's 4 GiB goes early,
		// while the disk is empty); printed by number.
		scenarios = []scenario{{"1", b.s1}, {"2", b.s2}, {"8", b.s8}, {"3", b.s3}, {"4", b.s4}, {"5", b.s5}, {"6", b.s6}, {"7", b.s7}, {"9", b.s9}}
	}

	rep := &report{Started: time.Now(), Command: strings.TrimSpace("go run ./tools/bench " + strings.Join(os.Args[1:], " ")), Backend: *backend, Quick: *quick, Machine: thisMachine()}
	if *backend == backendWechat {
		rep.Rclone = ""
	} else if b.rclone == "" {
		rep.Rclone = "rclone not installed (no rclone column)"
		logf("rclone not installed")
	} else {
		rep.Rclone = b.rclone
	}
	if *doProbe && ctx.Err() == nil {
		rep.Probes = b.probes(ctx)
	}
	want := func(id string) bool {
		if *only == "" {
			return true
		}
		for _, s := range strings.Split(*only, ",") {
			if strings.TrimSpace(s) == id {
				return true
			}
		}
		return false
	}
	for _, s := range scenarios {
		if !want(s.id) || ctx.Err() != nil {
			continue
		}
		logf("scenario %s", s.id)
		t0 := time.Now()
		rows := s.fn(ctx)
		b.ran[s.id] = true
		for _, r := range rows {
			if r.Error != "" {
				logf("  %s: ERROR %s", r.ID, r.Error)
			} else {
				logf("  %s: %s (baseline %s) target %s met %v", r.ID, r.Text, r.BaseText, r.Target, r.Met)
			}
		}
		logf("scenario %s took %.1f s", s.id, time.Since(t0).Seconds())
		rep.Rows = append(rep.Rows, rows...)
	}
	b.rcloneScenarios(ctx) // fills rcloneRes when rclone is installed
	slices.SortStableFunc(rep.Rows, func(x, y row) int { return cmp.Compare(x.ID[:1], y.ID[:1]) })
	for i := range rep.Rows {
		rep.Rows[i].RcloneOff = b.rcloneRes["off"][rep.Rows[i].ID]
		rep.Rows[i].RcloneWrites = b.rcloneRes["writes"][rep.Rows[i].ID]
		if !rep.Rows[i].Met {
			rep.Failures++
		}
	}
	rep.Seconds = time.Since(rep.Started).Seconds()
	rep.print(os.Stdout)
	if err := rep.writeJSON(*jsonPath); err != nil {
		return fail("-json: %v", err)
	}
	fmt.Printf("results written to %s\n", *jsonPath)
	if ctx.Err() != nil {
		return fail("interrupted")
	}
	if rep.Failures > 0 {
		return 1
	}
	return 0
}

// mount starts a fresh `pan123fs mount` of the emulator with flags.
func (b *bench) mount(ctx context.Context, name string, flags ...string) (*mountProc, error) {
	b.seq++
	id := fmt.Sprintf("%s-%d", name, b.seq)
	dir, state := filepath.Join(b.tmp, "mnt-"+id), filepath.Join(b.tmp, "state-"+id)
	argv := append([]string{b.bin, "mount", "--api-base", b.e.url, "--client-id", "bench-" + id, "--state-dir", state}, flags...)
	argv = append(argv, dir)
	m, err := b.kids.startMount(ctx, name, dir, state, argv, "PAN123_CLIENT_SECRET="+secret)
	if err != nil {
		return nil, err
	}
	logf("  mounted %s (pid %d): %s", dir, m.cmd.Process.Pid, strings.Join(flags, " "))
	return m, nil
}

// stopMount stops a mount and removes its state, logging any trouble.
func (b *bench) stopMount(m *mountProc) {
	if err := b.kids.stop(m, false); err != nil {
		logf("  %v", err)
	}
}

// sh runs a command, returning its stdout; stderr goes into the error.
func sh(ctx context.Context, name string, args ...string) (string, error) {
	out, _, err := shState(ctx, name, args...)
	return out, err
}

// shState is sh that also returns the child's ProcessState, whose rusage
// tells the CPU time the child used (nil if it did not start).
func shState(ctx context.Context, name string, args ...string) (string, *os.ProcessState, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), cmd.ProcessState, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), cmd.ProcessState, nil
}

// timed runs a command and returns how long it took.
func timed(ctx context.Context, name string, args ...string) (time.Duration, error) {
	t0 := time.Now()
	_, err := sh(ctx, name, args...)
	return time.Since(t0), err
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func fail(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	return 1
}

// newUploader is a client whose upload path is the mount's: the defaults,
// or limits.
func (b *bench) newUploader(id string, limits map[string]float64) (*remote.Client, error) {
	return b.e.newClient(id, limits, 0)
}
