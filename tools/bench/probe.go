package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pan123fs/pan123fs/tools/internal/benchkit"
)

// probe is a measurement of the machine itself, taken once before the
// scenarios. It has no target: it tells the limits that explain rows that
// miss theirs (the mount pays them where its baseline does not).
type probe struct {
	ID      string         `json:"id"`   // "page-cache", "durable-close"
	Name    string         `json:"name"` // what it measures
	Text    string         `json:"text"` // the figures, as printed
	Error   string         `json:"error,omitempty"`
	Details map[string]any `json:"details,omitempty"`
}

const (
	probeBudget   = 15 * time.Second // per probe, at full size
	cacheFiles    = 3                // files of the page-cache probe
	durableFiles  = 300              // files of each variant of the durable-close probe
	journalRecord = 200              // bytes appended to the journal per file
)

// probes runs every probe; one that fails is reported, not fatal.
func (b *bench) probes(ctx context.Context) []probe {
	list := []struct {
		id, name string
		fn       func(context.Context) (probe, error)
	}{
		{"page-cache", "new page cache writes", b.probePageCache},
		{"durable-close", "durable small-file close", b.probeDurableClose},
	}
	var out []probe
	for _, p := range list {
		if ctx.Err() != nil {
			break
		}
		logf("probe %s", p.id)
		r, err := p.fn(ctx)
		r.ID, r.Name = p.id, p.name
		if err != nil {
			r.Error, r.Text = err.Error(), "ERROR "+err.Error()
		}
		logf("  %s", r.Text)
		out = append(out, r)
	}
	return out
}

// probePageCache writes cacheFiles files of b.big bytes, one after the
// other, without fsync, and times each. Written pages stay in the page
// cache; once the guest's memory already in use runs out, every new page
// has to be faulted in from the host first: what scenario 1's spool pays
// for each byte cp writes and its baseline (which reads a file already
// cached) does not. The files stay until all are written, so that the
// later ones cannot reuse the earlier ones' pages.
func (b *bench) probePageCache(ctx context.Context) (probe, error) {
	dir, err := os.MkdirTemp(b.tmp, "probe-page-cache-")
	if err != nil {
		return probe{}, err
	}
	defer os.RemoveAll(dir)
	buf := make([]byte, 1<<20) // non-zero: nothing may take a shortcut for zeroes
	benchkit.NewRNG().Read(buf)
	quiesce()
	t0 := time.Now()
	var rates, secs []float64
	var last time.Duration // the last file's, to foresee the next one's
	for i := range cacheFiles {
		if err := ctx.Err(); err != nil {
			return probe{}, err
		}
		// Stop early rather than run far past the budget on a slow disk.
		if i > 0 && time.Since(t0)+last > probeBudget {
			break
		}
		d, err := writeUnsynced(filepath.Join(dir, fmt.Sprintf("p%d.bin", i)), buf, b.big)
		if err != nil {
			return probe{}, err
		}
		last = d
		secs = append(secs, round3(d.Seconds()))
		rates = append(rates, round3(mib(b.big)/d.Seconds()))
	}
	parts := make([]string, len(rates))
	for i, r := range rates {
		parts[i] = fmt.Sprintf("%.0f", r)
	}
	return probe{
		Text:    fmt.Sprintf("%d × %s written: %s MiB/s", len(rates), sizeText(b.big), strings.Join(parts, ", ")),
		Details: map[string]any{"file_bytes": b.big, "write_bytes": len(buf), "seconds": secs, "mib_per_s": rates},
	}, nil
}

// writeUnsynced creates path and writes size bytes to it in len(buf)
// writes of buf, without fsync; it returns how long that took, close
// included.
func writeUnsynced(path string, buf []byte, size int64) (time.Duration, error) {
	t0 := time.Now()
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return 0, err
		}
		left -= n
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// probeDurableClose times a small file made durable (create, write 64
// KiB, fsync, close), alone and with an fdatasync of an append-only
// journal running at the same time as the file's fsync: the two a
// write-back close of pan123fs waits for. Each variant runs in a fresh
// directory, up to durableFiles files or half the budget.
func (b *bench) probeDurableClose(ctx context.Context) (probe, error) {
	data := make([]byte, smallSize)
	benchkit.NewRNG().Read(data)
	plain, err := b.durableRun(ctx, data, false)
	if err != nil {
		return probe{}, err
	}
	withJournal, err := b.durableRun(ctx, data, true)
	if err != nil {
		return probe{}, fmt.Errorf("with a journal: %w", err)
	}
	mp, mj := meanMS(plain), meanMS(withJournal)
	count := fmt.Sprintf("means of %d files each", len(plain))
	if len(plain) != len(withJournal) {
		count = fmt.Sprintf("means of %d and %d files: time budget", len(plain), len(withJournal))
	}
	return probe{
		Text: fmt.Sprintf("%s file + fsync %.2f ms; with a journal fdatasync in parallel %.2f ms (%s)",
			sizeText(smallSize), mp, mj, count),
		Details: map[string]any{"file_bytes": smallSize, "journal_record_bytes": journalRecord,
			"files": len(plain), "mean_ms": mp, "median_ms": medianMS(plain),
			"journal_files": len(withJournal), "journal_mean_ms": mj, "journal_median_ms": medianMS(withJournal)},
	}, nil
}

// durableRun makes up to durableFiles durable files of data in a fresh
// directory and returns the time each took; with journal, an append-only
// journal in the same directory gets a record and an fdatasync per file.
func (b *bench) durableRun(ctx context.Context, data []byte, journal bool) ([]time.Duration, error) {
	dir, err := os.MkdirTemp(b.tmp, "probe-durable-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var j *os.File
	if journal {
		if j, err = os.OpenFile(filepath.Join(dir, "journal"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
			return nil, err
		}
		defer j.Close()
	}
	rec := []byte(strings.Repeat("r", journalRecord-1) + "\n")
	quiesce()
	t0 := time.Now()
	per := make([]time.Duration, 0, durableFiles)
	for i := range durableFiles {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if time.Since(t0) > probeBudget/2 {
			break
		}
		t := time.Now()
		if err := durableFile(filepath.Join(dir, setName(i)), data, j, rec); err != nil {
			return nil, err
		}
		per = append(per, time.Since(t))
	}
	return per, nil
}

// durableFile creates path, writes data, fsyncs and closes it. With a
// journal j, rec is appended to j and j fdatasynced in a goroutine of its
// own while the file's fsync runs, and both are waited for.
func durableFile(path string, data []byte, j *os.File, rec []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	var jerr error
	var wg sync.WaitGroup
	if j != nil {
		wg.Go(func() { jerr = appendSync(j, rec) })
	}
	serr := f.Sync()
	wg.Wait()
	return errors.Join(serr, jerr, f.Close())
}

// appendSync appends rec to f and waits for it to be on the disk.
func appendSync(f *os.File, rec []byte) error {
	if _, err := f.Write(rec); err != nil {
		return err
	}
	return syscall.Fdatasync(int(f.Fd()))
}

func meanMS(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return round3(sum.Seconds() / float64(len(ds)) * 1000)
}

func medianMS(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	return round3(s[len(s)/2].Seconds() * 1000)
}
