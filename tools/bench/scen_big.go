package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pan123fs/pan123fs/tools/internal/benchkit"

	"github.com/pan123fs/pan123fs/remote"
)

// s1: cp of a big file into the mount (default mode) against the client's
// own upload of a same-size file.
func (b *bench) s1(ctx context.Context) []row {
	title := fmt.Sprintf("cp %s into the mount (default mode)", sizeText(b.big))
	target := "≤ 1.15× baseline"
	r, err := b.s1run(ctx, title, target)
	if err != nil {
		return []row{failed("1", title, target, err)}
	}
	return []row{r}
}

func (b *bench) s1run(ctx context.Context, title, target string) (row, error) {
	// Baseline: md5 + remote.Client.Upload with the client's defaults (as
	// the mount's client: 4 slices at once, default rate limits). Its own
	// random content: the same bytes would make the mount's create "reuse".
	srcA := filepath.Join(b.tmp, "s1-baseline.bin")
	sumA, err := benchkit.WriteRandom(srcA, b.big)
	if err != nil {
		return row{}, err
	}
	c, err := b.newUploader("bench-s1-baseline", nil)
	if err != nil {
		return row{}, err
	}
	dirID, err := b.e.admin.Mkdir(ctx, "", "s1-baseline")
	if err != nil {
		return row{}, err
	}
	quiesce()
	t0 := time.Now()
	sum, err := benchkit.MD5File(srcA)
	if err != nil {
		return row{}, err
	}
	f, err := os.Open(srcA)
	if err != nil {
		return row{}, err
	}
	res, err := c.Upload(ctx, remote.UploadInput{ParentID: dirID, Name: "big.bin", Src: f, Size: b.big, MD5: sum})
	base := time.Since(t0)
	f.Close()
	os.Remove(srcA)
	if err != nil {
		return row{}, fmt.Errorf("baseline upload: %w", err)
	}
	if sum != sumA || res.Reused {
		return row{}, fmt.Errorf("baseline: md5 %s (written %s), reused %v", sum, sumA, res.Reused)
	}

	srcB := filepath.Join(b.tmp, "s1-big.bin")
	sumB, err := benchkit.WriteRandom(srcB, b.big)
	if err != nil {
		return row{}, err
	}
	b.state["big"], b.state["big.md5"] = srcB, sumB
	m, err := b.mount(ctx, "s1")
	if err != nil {
		return row{}, err
	}
	defer b.stopMount(m)
	if err := os.Mkdir(filepath.Join(m.dir, "s1"), 0o755); err != nil {
		return row{}, err
	}
	quiesce()
	d, err := timed(ctx, "cp", srcB, filepath.Join(m.dir, "s1", "big.bin"))
	if err != nil {
		return row{}, err
	}
	hwm := m.hwm.Peak(m.cmd.Process.Pid)
	if err := b.e.checkFolder(ctx, "s1", map[string]string{"big.bin": sumB}, b.big); err != nil {
		return row{}, err
	}
	ratio := d.Seconds() / base.Seconds()
	return row{ID: "1", Scenario: title, Figure: d.Seconds(), Unit: "s", Baseline: fp(base.Seconds()), Ratio: fp(ratio),
		Text:     fmt.Sprintf("%.2f s (%.0f MiB/s)", d.Seconds(), mib(b.big)/d.Seconds()),
		BaseText: fmt.Sprintf("%.2f s (%.0f MiB/s)", base.Seconds(), mib(b.big)/base.Seconds()),
		Target:   target, Met: ratio <= 1.15,
		Measures: fmt.Sprintf("wall time of `cp SRC MNT/s1/big.bin` (%s of random data, default mode: cp exits once the file is on the emulator; checked by its etag afterwards) against md5 of another %s file + remote.Client.Upload of it with the client's defaults (4 slices at once, default rate limits) to the same emulator; ratio = mount time / baseline time. Mount peak RSS during the cp: %.1f MiB.",
			sizeText(b.big), sizeText(b.big), mib(hwm)),
		Details: map[string]any{"cp_seconds": d.Seconds(), "baseline_seconds": base.Seconds(), "mount_vmhwm_bytes": hwm}}, nil
}

// s2: sequential read of scenario 1's file through a fresh mount (cold),
// then again (warm), against curl of its download link.
func (b *bench) s2(ctx context.Context) []row {
	tc, tw := "≥ 0.8× curl", "≥ 3× cold"
	titleC := fmt.Sprintf("read %s through the mount, cold", sizeText(b.big))
	titleW := fmt.Sprintf("read %s through the mount, warm", sizeText(b.big))
	rows, err := b.s2run(ctx, titleC, titleW, tc, tw)
	if err != nil {
		return []row{failed("2a", titleC, tc, err), failed("2b", titleW, tw, err)}
	}
	return rows
}

func (b *bench) s2run(ctx context.Context, titleC, titleW, tc, tw string) ([]row, error) {
	if b.state["big"] == "" {
		return nil, errors.New("scenario 2 reads scenario 1's file: run scenario 1 too")
	}
	m, err := b.mount(ctx, "s2")
	if err != nil {
		return nil, err
	}
	defer b.stopMount(m)
	path := filepath.Join(m.dir, "s1", "big.bin")
	buf := make([]byte, 4096)
	n, err := syscall.Getxattr(path, "user.pan123.url", buf)
	if err != nil {
		return nil, fmt.Errorf("getxattr user.pan123.url: %w", err)
	}
	url := string(buf[:n])

	quiesce()
	out, curl, cpuCurl, err := b.curlCPU(ctx, url)
	if err != nil {
		return nil, err
	}
	if got, _ := strconv.ParseInt(strings.TrimSpace(out), 10, 64); got != b.big {
		return nil, fmt.Errorf("curl downloaded %s bytes, want %d", out, b.big)
	}
	tr0, err := b.e.traffic(ctx, "s1")
	if err != nil {
		return nil, err
	}
	quiesce()
	cold, cpuCold, err := b.readCPU(path, m)
	if err != nil {
		return nil, fmt.Errorf("cold read: %w", err)
	}
	tr1, err := b.e.traffic(ctx, "s1")
	if err != nil {
		return nil, err
	}
	warm, err := readAll(path, b.big, nil)
	if err != nil {
		return nil, fmt.Errorf("warm read: %w", err)
	}
	tr2, err := b.e.traffic(ctx, "s1")
	if err != nil {
		return nil, err
	}
	h := md5.New() // a third, untimed read checks the content
	if _, err := readAll(path, b.big, h); err != nil {
		return nil, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != b.state["big.md5"] {
		return nil, fmt.Errorf("read through the mount: md5 %s, want %s", got, b.state["big.md5"])
	}
	// 2c, no target: a new mount process on the same state directory. Its
	// block cache holds the file (the index is written at the clean
	// unmount), the kernel's page cache of the new mount is empty, so every
	// byte crosses FUSE and none is downloaded: the ceiling of a cold read.
	if err := b.kids.stop(m, true); err != nil {
		return nil, err
	}
	again, err := b.kids.startMount(ctx, "s2-again", m.dir, m.state, m.cmd.Args, "PAN123_CLIENT_SECRET="+secret)
	if err != nil {
		return nil, err
	}
	defer b.stopMount(again)
	quiesce()
	hot, cpuHot, err := b.readCPU(path, again)
	if err != nil {
		return nil, fmt.Errorf("read after remount: %w", err)
	}
	tr3, err := b.e.traffic(ctx, "s1")
	if err != nil {
		return nil, err
	}
	rate := func(d time.Duration) float64 { return mib(b.big) / d.Seconds() }
	rc, rw, rh, rcurl := rate(cold), rate(warm), rate(hot), rate(curl)
	det := map[string]any{"curl_seconds": curl.Seconds(), "cold_seconds": cold.Seconds(), "warm_seconds": warm.Seconds(),
		"cold_downloaded_bytes": tr1 - tr0, "warm_downloaded_bytes": tr2 - tr1,
		"cpu_seconds_curl": cpuCurl, "cpu_seconds_cold": cpuCold, "cpu_seconds_remount": cpuHot}
	// CPU seconds next to wall seconds tell whether a read was short of
	// CPUs: the emulator, the mount and the reader share runtime.NumCPU().
	cpus := runtime.NumCPU()
	readers := []string{"emulator", "mount", "reader"}
	return []row{
		{ID: "2a", Scenario: titleC, Figure: rc, Unit: "MiB/s", Baseline: fp(rcurl), Ratio: fp(rc / rcurl),
			Text: fmt.Sprintf("%.0f MiB/s", rc), BaseText: fmt.Sprintf("curl %.0f MiB/s", rcurl), Target: tc, Met: rc >= 0.8*rcurl,
			Measures: fmt.Sprintf("throughput of reading MNT/s1/big.bin (%s) start to end in 1 MiB read(2)s on a fresh mount (own state dir: empty block cache; cold page cache for the mount) against `curl -sS -o /dev/null` of its user.pan123.url; the mount downloaded %.0f MiB for it. CPU seconds (user+system, %d CPUs): curl run %s; cold read %s (reader: the reading process, this program).",
				sizeText(b.big), mib(tr1-tr0), cpus, cpuText(cpuCurl, "emulator", "curl"), cpuText(cpuCold, readers...)), Details: det},
		{ID: "2b", Scenario: titleW, Figure: rw, Unit: "MiB/s", Baseline: fp(rc), Ratio: fp(rw / rc),
			Text: fmt.Sprintf("%.0f MiB/s", rw), BaseText: fmt.Sprintf("cold %.0f MiB/s", rc), Target: tw, Met: rw >= 3*rc,
			Measures: fmt.Sprintf("the same read again right after, same mount (block cache and kernel page cache as the cold read left them; default --cache-max-size 1 GiB); the mount downloaded %.0f MiB for it. A third read checked the md5.",
				mib(tr2-tr1)), Details: det},
		{ID: "2c", Scenario: fmt.Sprintf("read %s again, new mount, same block cache", sizeText(b.big)), Figure: rh, Unit: "MiB/s",
			Baseline: fp(rcurl), Ratio: fp(rh / rcurl), Met: true, Info: true,
			Text: fmt.Sprintf("%.0f MiB/s", rh), BaseText: fmt.Sprintf("curl %.0f MiB/s", rcurl), Target: "none: FUSE's ceiling",
			Measures: fmt.Sprintf("the same read through a new `pan123fs mount` process on the same state directory, after a clean unmount: the block cache holds the file, the kernel's page cache of the new mount is empty, so every byte crosses FUSE from the block cache (%.0f MiB downloaded). No target: it is the ceiling a cold read could reach. CPU seconds (user+system, %d CPUs): %s (reader: the reading process).",
				mib(tr3-tr2), cpus, cpuText(cpuHot, readers...)), Details: det},
	}, nil
}

// curlCPU downloads url with curl to /dev/null and returns what curl
// printed (the size downloaded), how long it took, and the CPU seconds the
// emulator and curl used meanwhile.
func (b *bench) curlCPU(ctx context.Context, url string) (string, time.Duration, map[string]float64, error) {
	end, err := startCPU(procSource("emulator", b.e.pid))
	if err != nil {
		return "", 0, nil, err
	}
	t0 := time.Now()
	out, ps, err := shState(ctx, "curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}", url)
	d := time.Since(t0)
	if err != nil {
		return out, d, nil, err
	}
	used, err := end()
	if err != nil {
		return out, d, nil, err
	}
	used["curl"] = round3(psCPU(ps))
	return out, d, used, nil
}

// readCPU is readAll of the whole big file with the CPU seconds the
// emulator, the mount m and the reader (this process: readAll runs in it)
// used meanwhile.
func (b *bench) readCPU(path string, m *mountProc) (time.Duration, map[string]float64, error) {
	end, err := startCPU(procSource("emulator", b.e.pid), procSource("mount", m.cmd.Process.Pid), selfSource("reader"))
	if err != nil {
		return 0, nil, err
	}
	d, err := readAll(path, b.big, nil)
	if err != nil {
		return d, nil, err
	}
	used, err := end()
	return d, used, err
}

// s8: peak RSS of the mount process while a huge file is copied in.
func (b *bench) s8(ctx context.Context) []row {
	title := fmt.Sprintf("mount peak RSS during cp of %s", sizeText(b.huge))
	target := "≤ 100 MiB"
	r, err := b.s8run(ctx, title, target)
	if err != nil {
		return []row{failed("8", title, target, err)}
	}
	return []row{r}
}

func (b *bench) s8run(ctx context.Context, title, target string) (row, error) {
	src := filepath.Join(b.tmp, "s8-huge.bin")
	sum, err := benchkit.WriteRandom(src, b.huge)
	if err != nil {
		return row{}, err
	}
	defer os.Remove(src)
	m, err := b.mount(ctx, "s8")
	if err != nil {
		return row{}, err
	}
	defer b.stopMount(m)
	if err := os.Mkdir(filepath.Join(m.dir, "s8"), 0o755); err != nil {
		return row{}, err
	}
	start := m.hwm.Peak(m.cmd.Process.Pid)
	d, err := timed(ctx, "cp", src, filepath.Join(m.dir, "s8", "huge.bin"))
	if err != nil {
		return row{}, err
	}
	hwm := m.hwm.Peak(m.cmd.Process.Pid)
	if err := b.e.checkFolder(ctx, "s8", map[string]string{"huge.bin": sum}, b.huge); err != nil {
		return row{}, err
	}
	return row{ID: "8", Scenario: title, Figure: mib(hwm), Unit: "MiB", BaseText: "-",
		Text: fmt.Sprintf("%.1f MiB", mib(hwm)), Target: target, Met: hwm <= 100<<20,
		Measures: fmt.Sprintf("VmHWM of the fresh `pan123fs mount` process (from /proc/PID/status, sampled every 100 ms and at the end) across `cp` of %s of random data, default mode (cp took %.1f s, %.0f MiB/s, file checked by its etag); %.1f MiB before the cp.",
			sizeText(b.huge), d.Seconds(), mib(b.huge)/d.Seconds(), mib(start)),
		Details: map[string]any{"vmhwm_bytes": hwm, "vmhwm_before_bytes": start, "cp_seconds": d.Seconds()}}, nil
}
