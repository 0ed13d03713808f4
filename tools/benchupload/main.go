// Command benchupload measures a large upload through remote.Client against
// the emulator, run as a separate process, and compares it with one curl PUT
// of the same bytes.
//
//	go run ./tools/benchupload -pan123fs bin/pan123fs -size 1GiB
//
// It writes a random file of -size bytes to a temporary directory, times
// its md5, uploads it with Client.Upload (UploadConcurrency -conc, slices of
// 100 MiB, read from the *os.File as an io.ReaderAt), checks the etag the
// emulator reports, and then PUTs the same file with `curl -sS -T` to a
// presigned URL of a second emulator whose slice size holds the whole file.
// It prints a table and exits non-zero if anything fails. Every child
// process is killed on exit.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pan123fs/pan123fs/tools/internal/benchkit"

	"github.com/pan123fs/pan123fs/remote"
)

const benchSlice = 104857600 // the slice size create hands out to the client

func main() {
	os.Exit(run())
}

func run() int {
	bin := flag.String("pan123fs", "bin/pan123fs", "the pan123fs binary whose emulator subcommand serves the API")
	sizeText := flag.String("size", "1GiB", "file size (B, KiB, MiB, GiB, KB, MB, GB)")
	conc := flag.Int("conc", 4, "UploadConcurrency of the client")
	poll := flag.Duration("poll", 100*time.Millisecond, "the client's AsyncPollInterval (the real service forces >= 1s)")
	tmpParent := flag.String("tmp", "", "where to make the temporary directory (default: $TMPDIR)")
	flag.Parse()
	size, err := parseSize(*sizeText)
	if err != nil {
		return fail("-size: %v", err)
	}
	if _, err := os.Stat(*bin); err != nil {
		return fail("-pan123fs: %v (run `make build` first)", err)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		return fail("curl is needed for the baseline: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp(*tmpParent, "benchupload-*")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(tmp)
	var kids children
	defer kids.killAll() // before the directory goes (defers run last-in first-out)

	url1, err := kids.startEmulator(ctx, *bin, filepath.Join(tmp, "emu-client"), benchSlice)
	if err != nil {
		return fail("emulator for the client: %v", err)
	}
	url2, err := kids.startEmulator(ctx, *bin, filepath.Join(tmp, "emu-curl"), max(2<<30, size))
	if err != nil {
		return fail("emulator for curl: %v", err)
	}

	file := filepath.Join(tmp, "payload.bin")
	t0 := time.Now()
	if _, err := benchkit.WriteRandom(file, size); err != nil {
		return fail("writing the file: %v", err)
	}
	writeTime := time.Since(t0)

	t0 = time.Now()
	sum, err := benchkit.MD5File(file)
	if err != nil {
		return fail("md5: %v", err)
	}
	md5Time := time.Since(t0)

	// The client upload.
	c, err := newClient(url1, filepath.Join(tmp, "state-client"), *conc, *poll)
	if err != nil {
		return fail("%v", err)
	}
	f, err := os.Open(file)
	if err != nil {
		return fail("%v", err)
	}
	defer f.Close()
	t0 = time.Now()
	var slicesTime time.Duration // until the last slice was stored; Progress calls are serialized
	progress := func(done int64) {
		if done == size && slicesTime == 0 {
			slicesTime = time.Since(t0)
		}
	}
	res, err := c.Upload(ctx, remote.UploadInput{Name: "payload.bin", Src: f, Size: size, MD5: sum, Progress: progress})
	uploadTime := time.Since(t0)
	if err != nil {
		return fail("client upload: %v", err)
	}
	hwm := vmHWM()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	e, err := c.Detail(ctx, res.FileID)
	if err != nil {
		return fail("detail of the upload: %v", err)
	}
	verified := strings.EqualFold(e.Etag, sum) && e.Size == size

	// The baseline: one PUT of the whole file with curl.
	c2, err := newClient(url2, filepath.Join(tmp, "state-curl"), 1, *poll)
	if err != nil {
		return fail("%v", err)
	}
	curlTime, curlDone, err := curlPut(ctx, c2, file, sum, size)
	if err != nil {
		return fail("curl baseline: %v", err)
	}

	mib := float64(size) / (1 << 20)
	rate := func(d time.Duration) string { return fmt.Sprintf("%.1f", mib/d.Seconds()) }
	fmt.Printf("benchupload: %s (%d bytes), slices of %d MiB, UploadConcurrency %d, AsyncPollInterval %v, GOMAXPROCS %d\n",
		*sizeText, size, benchSlice>>20, *conc, *poll, runtime.GOMAXPROCS(0))
	row := func(step string, d time.Duration) { fmt.Printf("%-26s %8.2fs %9s\n", step, d.Seconds(), rate(d)) }
	part := func(step string, d time.Duration) { fmt.Printf("%-26s %8.2fs\n", step, d.Seconds()) }
	fmt.Printf("%-26s %9s %9s\n", "step", "time", "MiB/s")
	row("write random file", writeTime)
	row("md5 of the file", md5Time)
	row("client Upload, in all", uploadTime)
	row("  slices sent and stored", slicesTime)
	part("  upload_complete, polls", uploadTime-slicesTime)
	row("curl -sS -T, one PUT", curlTime)
	part("  then upload_complete", curlDone)
	fmt.Printf("%-26s %9s %9.2f\n", "speed ratio client/curl", "", curlTime.Seconds()/uploadTime.Seconds())
	fmt.Printf("%-26s %9s %9.2f\n", "  slices only / curl", "", curlTime.Seconds()/slicesTime.Seconds())
	fmt.Printf("client process peak RSS (VmHWM): %s\n", hwm)
	fmt.Printf("Go heap after the upload: HeapInuse %.1f MiB, HeapSys %.1f MiB, TotalAlloc %.1f MiB, Sys %.1f MiB, NumGC %d\n",
		float64(ms.HeapInuse)/(1<<20), float64(ms.HeapSys)/(1<<20), float64(ms.TotalAlloc)/(1<<20), float64(ms.Sys)/(1<<20), ms.NumGC)
	if !verified {
		fmt.Printf("FAIL: the emulator holds etag %s, size %d; the file has md5 %s, size %d\n", e.Etag, e.Size, sum, size)
		return 1
	}
	fmt.Printf("ok: the emulator's etag of the upload equals the file's md5 %s\n", sum)
	return 0
}

func fail(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "benchupload: "+format+"\n", a...)
	return 1
}

// parseSize reads "1GiB", "512MiB", "100MB", "4096".
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive size", s)
	}
	return int64(n * float64(mult)), nil
}

func newClient(url, stateDir string, conc int, poll time.Duration) (*remote.Client, error) {
	return remote.New(remote.Config{BaseURL: url, ClientID: "bench", ClientSecret: "bench-secret",
		StateDir: stateDir, UploadConcurrency: conc, AsyncPollInterval: poll})
}

// writeRandom fills path with size pseudo-random bytes.
// curlPut opens an upload of the file on c's emulator, whose slice size
// holds the whole file, PUTs it with curl as one request (timed), and
// completes the upload so that the emulator checks what curl sent (timed
// apart: the second duration).
func curlPut(ctx context.Context, c *remote.Client, file, sum string, size int64) (put, complete time.Duration, err error) {
	cr, err := c.Create(ctx, "", "payload.bin", sum, size)
	if err != nil {
		return 0, 0, err
	}
	if cr.Reuse || cr.SliceSize < size {
		return 0, 0, fmt.Errorf("create answered reuse=%v, sliceSize %d: want one slice of %d bytes", cr.Reuse, cr.SliceSize, size)
	}
	url, err := c.GetUploadURL(ctx, cr.PreuploadID, 1)
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.CommandContext(ctx, "curl", "-sS", "-T", file, url)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	t0 := time.Now()
	err = cmd.Run()
	put = time.Since(t0)
	if err != nil {
		return 0, 0, fmt.Errorf("curl: %w", err)
	}
	t0 = time.Now()
	done, err := c.UploadComplete(ctx, cr.PreuploadID)
	complete = time.Since(t0)
	if err != nil {
		return 0, 0, fmt.Errorf("completing the curl upload: %w", err)
	}
	if !done.Completed || done.FileID == "" {
		return 0, 0, fmt.Errorf("the curl upload did not complete: %+v", done)
	}
	return put, complete, nil
}

// vmHWM is this process's peak resident set size, from /proc/self/status.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return strings.TrimSpace(v)
			}
			return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
		}
	}
	return "unknown"
}

// children are the emulator processes this program started.
type children struct{ procs []*exec.Cmd }

// startEmulator runs `pan123fs emulator` with its data in dir and slices of
// slice bytes, and returns its URL.
func (k *children) startEmulator(ctx context.Context, bin, dir string, slice int64) (string, error) {
	cmd, url, err := benchkit.StartEmulator(ctx, bin, dir, "--slice-size", strconv.FormatInt(slice, 10), "--async-delay", "0")
	if cmd != nil {
		k.procs = append(k.procs, cmd)
	}
	return url, err
}

// killAll stops every child: SIGTERM to its process group, SIGKILL after 5 s.
func (k *children) killAll() {
	for _, cmd := range k.procs {
		benchkit.Stop(cmd, nil, 5*time.Second)
	}
	k.procs = nil
}
