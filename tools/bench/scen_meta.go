package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pan123fs/pan123fs/tools/internal/benchkit"

	"github.com/pan123fs/pan123fs/remote"
)

// parallel runs fn(i) for i in [0, n) on conc goroutines; the first error wins.
func parallel(n, conc int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  int
	)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i, stop := next, first != nil
				next++
				mu.Unlock()
				if stop || i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// s6: ls -l of a folder of many files, cold then warm.
func (b *bench) s6(ctx context.Context) []row {
	pages := (b.nList + 99) / 100
	title := fmt.Sprintf("ls -l of %d files, cold", b.nList)
	t1 := fmt.Sprintf("%d list (+1 root), 0 detail", pages)
	t2 := "0 calls"
	rows, err := b.s6run(ctx, title, t1, t2, pages)
	if err != nil {
		return []row{failed("6a", title, t1, err), failed("6b", "  warm, within the TTL", t2, err)}
	}
	return rows
}

func (b *bench) s6run(ctx context.Context, title, t1, t2 string, pages int) ([]row, error) {
	if err := b.e.setQPS(ctx, ""); err != nil {
		return nil, err
	}
	// One real upload, then create under every other name with the same
	// md5 and size: the emulator answers reuse at once.
	c := b.e.admin
	dirID, err := c.Mkdir(ctx, "", "s6")
	if err != nil {
		return nil, err
	}
	content := make([]byte, 4096)
	benchkit.NewRNG().Read(content)
	s := md5.Sum(content)
	sum := hex.EncodeToString(s[:])
	t0 := time.Now()
	if _, err := c.Upload(ctx, remote.UploadInput{ParentID: dirID, Name: setName(0), Src: bytes.NewReader(content), Size: int64(len(content)), MD5: sum}); err != nil {
		return nil, err
	}
	err = parallel(b.nList-1, 8, func(i int) error {
		r, err := c.Create(ctx, dirID, setName(i+1), sum, int64(len(content)))
		if err == nil && !r.Reuse {
			err = fmt.Errorf("create of %s did not answer reuse", setName(i+1))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	logf("  %d entries created through the API in %.1f s", b.nList, time.Since(t0).Seconds())

	m, err := b.mount(ctx, "s6")
	if err != nil {
		return nil, err
	}
	defer b.stopMount(m)
	s0, err := b.e.stats(ctx)
	if err != nil {
		return nil, err
	}
	ls := func() (time.Duration, error) {
		t0 := time.Now()
		out, err := sh(ctx, "ls", "-l", filepath.Join(m.dir, "s6"))
		d := time.Since(t0)
		if err != nil {
			return d, err
		}
		if n := strings.Count(out, "\n"); n != b.nList+1 { // "total N" and one line per file
			return d, fmt.Errorf("ls -l printed %d lines, want %d", n, b.nList+1)
		}
		return d, nil
	}
	cold, err := ls()
	if err != nil {
		return nil, err
	}
	s1, err := b.e.stats(ctx)
	if err != nil {
		return nil, err
	}
	warm, err := ls()
	if err != nil {
		return nil, err
	}
	s2, err := b.e.stats(ctx)
	if err != nil {
		return nil, err
	}
	dc, dw := s1.diff(s0), s2.diff(s1)
	lists, details := sumKeys(dc, "/file/list"), sumKeys(dc, "/file/detail")
	det := map[string]any{"cold_seconds": cold.Seconds(), "warm_seconds": warm.Seconds(), "cold_calls": dc.Calls, "warm_calls": dw.Calls}
	return []row{
		{ID: "6a", Scenario: title, Figure: float64(lists), Unit: "list calls", Baseline: fp(float64(pages)), Ratio: fp(float64(lists) / float64(pages)),
			Text: fmt.Sprintf("%d list, %d detail (%.1f s)", lists, details, cold.Seconds()), BaseText: fmt.Sprintf("⌈%d/100⌉ = %d list", b.nList, pages),
			Target: t1, Met: (lists == int64(pages) || lists == int64(pages)+1) && details == 0,
			Measures: fmt.Sprintf("API calls the emulator got (stats diff) during `ls -l MNT/s6` (%d entries made through the API: one upload, then create with the same md5 and size under every other name) on a fresh mount with default flags (list at 4/s, --dir-cache-ttl 30s); ls printed every entry. All calls: %s.",
				b.nList, dc), Details: det},
		{ID: "6b", Scenario: "  warm, within the TTL", Figure: float64(dw.api()), Unit: "API calls", BaseText: "-",
			Text: fmt.Sprintf("%d calls (%.2f s)", dw.api(), warm.Seconds()), Target: t2, Met: dw.api() == 0,
			Measures: fmt.Sprintf("API calls during a second `ls -l MNT/s6` started right after the first, which took %.1f s (--dir-cache-ttl 30 s). Calls: %s.", cold.Seconds(), dw),
			Details:  det},
	}, nil
}

// s7: the first 64 KiB of many 1 MiB files, 8 readers at once.
func (b *bench) s7(ctx context.Context) []row {
	title := fmt.Sprintf("thumbnails: first %s of %d × %s, 8 readers", sizeText(thumbRead), b.nThumb, sizeText(thumbSize))
	target := "≤ 2× requested"
	r, err := b.s7run(ctx, title, target)
	if err != nil {
		return []row{failed("7", title, target, err)}
	}
	return []row{r}
}

func (b *bench) s7run(ctx context.Context, title, target string) (row, error) {
	c := b.e.admin
	dirID, err := c.Mkdir(ctx, "", "s7")
	if err != nil {
		return row{}, err
	}
	heads := make([][]byte, b.nThumb)
	err = parallel(b.nThumb, 4, func(i int) error {
		content := make([]byte, thumbSize)
		benchkit.NewRNG().Read(content)
		heads[i] = content[:thumbRead:thumbRead]
		s := md5.Sum(content)
		_, err := c.Upload(ctx, remote.UploadInput{ParentID: dirID, Name: setName(i), Src: bytes.NewReader(content), Size: thumbSize, MD5: hex.EncodeToString(s[:])})
		return err
	})
	if err != nil {
		return row{}, err
	}
	m, err := b.mount(ctx, "s7")
	if err != nil {
		return row{}, err
	}
	defer b.stopMount(m)
	tr0, err := b.e.traffic(ctx, "s7")
	if err != nil {
		return row{}, err
	}
	s0, err := b.e.stats(ctx)
	if err != nil {
		return row{}, err
	}
	t0 := time.Now()
	err = parallel(b.nThumb, 8, func(i int) error {
		f, err := os.Open(filepath.Join(m.dir, "s7", setName(i)))
		if err != nil {
			return err
		}
		defer f.Close()
		buf := make([]byte, thumbRead)
		if _, err := io.ReadFull(f, buf); err != nil {
			return fmt.Errorf("%s: %w", f.Name(), err)
		}
		if !bytes.Equal(buf, heads[i]) {
			return fmt.Errorf("%s: the first %d bytes differ from what was uploaded", f.Name(), thumbRead)
		}
		return nil
	})
	d := time.Since(t0)
	if err != nil {
		return row{}, err
	}
	s1, err := b.e.stats(ctx)
	if err != nil {
		return row{}, err
	}
	// The mount may still be finishing fetches it started: let them land.
	time.Sleep(time.Second)
	tr1, err := b.e.traffic(ctx, "s7")
	if err != nil {
		return row{}, err
	}
	got, want := tr1-tr0, int64(b.nThumb)*thumbRead
	ds := s1.diff(s0)
	ratio := float64(got) / float64(want)
	return row{ID: "7", Scenario: title, Figure: mib(got), Unit: "MiB", Baseline: fp(mib(want)), Ratio: fp(ratio),
		Text: fmt.Sprintf("%.1f MiB downloaded", mib(got)), BaseText: fmt.Sprintf("%.1f MiB requested", mib(want)),
		Target: target, Met: ratio <= 2,
		Measures: fmt.Sprintf("bytes the emulator sent (sum of totalTraffic over MNT/s7's files, before/after) while 8 goroutines each opened a file, read(2) its first %s with io.ReadFull (content checked) and closed it, for %d files of %s (random content, uploaded through the API), on a fresh mount (%.1f s, %d download GETs).",
			sizeText(thumbRead), b.nThumb, sizeText(thumbSize), d.Seconds(), ds.Calls["GET /__download"]),
		Details: map[string]any{"downloaded_bytes": got, "requested_bytes": want, "seconds": d.Seconds(), "download_gets": ds.Calls["GET /__download"]}}, nil
}
