package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// s9: limits the mount is not told. The emulator refuses above its own
// rates; the mount keeps to its --rate-profile table and learns create's
// (undocumented) limit. Small files are copied in with --write-back, moved
// one by one into another folder, then removed; each phase's files/s is
// set against the emulator's limit for the call it needs once per file,
// and the 429s it provoked against all the API calls of the run. Run once
// with member-like limits (create 5/s, move and delete 10/s) and once at
// the free table's rates.
func (b *bench) s9(ctx context.Context) []row {
	var rows []row
	for _, r := range []struct {
		ids, profile, qps string
		create, move      float64
	}{
		{"9a", "member", "create=5,delete=10,move=10", 5, 10},
		{"9b", "free", "create=5,delete=1,move=3,list=5,mkdir=5,access_token=8,info=10", 5, 3},
	} {
		rows = append(rows, b.s9run(ctx, r.ids, r.profile, r.qps, r.create, r.move)...)
	}
	return rows
}

func (b *bench) s9run(ctx context.Context, id, profile, qps string, createLim, moveLim float64) []row {
	title := fmt.Sprintf("%d × %s, limits untold (emulator %s; --rate-profile %s)", b.nSmall, sizeText(smallSize), qps, profile)
	ids := []string{id + "1", id + "2", id + "3", id + "4"}
	targets := []string{"≥ 0.85× create limit", "≥ 0.85× move limit", "-", "≤ 0.5 % of calls"}
	rows, err := b.s9phases(ctx, id, profile, qps, createLim, moveLim, title, ids, targets)
	if err != nil {
		return []row{failed(ids[0], title, targets[0], err)}
	}
	return rows
}

func (b *bench) s9phases(ctx context.Context, id, profile, qps string, createLim, moveLim float64, title string, ids, targets []string) ([]row, error) {
	src := filepath.Join(b.tmp, "s9-"+id)
	sums, err := writeSet(src, b.nSmall, smallSize)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(src)
	if err := b.e.setQPS(ctx, qps); err != nil {
		return nil, err
	}
	defer b.e.setQPS(context.Background(), "")
	m, err := b.mount(ctx, "s9"+id, "--write-back", "--rate-profile", profile)
	if err != nil {
		return nil, err
	}
	defer b.stopMount(m)
	from, to := "s9-"+id, "s9-"+id+"-moved"
	n := float64(b.nSmall)

	// Copy in.
	_, copyAll, dCopy, err := b.copyIn(ctx, m, src, from)
	if err != nil {
		return nil, err
	}
	if err := b.e.checkFolder(ctx, from, sums, smallSize); err != nil {
		return nil, err
	}

	// Move every file, one rename each, into a new folder.
	if err := os.Mkdir(filepath.Join(m.dir, to), 0o755); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(m.dir, from))
	if err != nil {
		return nil, err
	}
	args := make([]string, 0, len(ents)+1)
	for _, e := range ents {
		args = append(args, filepath.Join(m.dir, from, e.Name()))
	}
	args = append(args, filepath.Join(m.dir, to))
	before, err := b.e.stats(ctx)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if _, err := sh(ctx, "mv", args...); err != nil {
		return nil, err
	}
	moveAll := time.Since(t0)
	afterMove, err := b.e.stats(ctx)
	if err != nil {
		return nil, err
	}
	dMove := afterMove.diff(before)
	if err := b.e.checkFolder(ctx, to, sums, smallSize); err != nil {
		return nil, err
	}

	// Remove both folders.
	beforeRm, err := b.e.stats(ctx)
	if err != nil {
		return nil, err
	}
	t0 = time.Now()
	if _, err := sh(ctx, "rm", "-r", filepath.Join(m.dir, from), filepath.Join(m.dir, to)); err != nil {
		return nil, err
	}
	if _, err := sh(ctx, b.bin, "sync", m.dir); err != nil {
		return nil, err
	}
	rmAll := time.Since(t0)
	end, err := b.e.stats(ctx)
	if err != nil {
		return nil, err
	}
	dRm := end.diff(beforeRm)
	if e, err := b.e.child(ctx, "", to); err != nil || e != nil {
		return nil, fmt.Errorf("%s is still listed in the root after rm -r and sync (%v)", to, err)
	}
	// The bench's own checks (listings by an unlimited client, which the
	// emulator's limits refuse too) fall between the phases: only the
	// phases count.
	refused := dCopy.RateLimited + dMove.RateLimited + dRm.RateLimited
	calls := dCopy.api() + dMove.api() + dRm.api()

	cFig, mFig, rFig := n/copyAll.Seconds(), n/moveAll.Seconds(), n/rmAll.Seconds()
	share := float64(refused) / float64(max(calls, 1))
	det := map[string]any{"copy_seconds": copyAll.Seconds(), "move_seconds": moveAll.Seconds(), "rm_seconds": rmAll.Seconds(),
		"calls_copy": dCopy.Calls, "calls_move": dMove.Calls, "calls_rm": dRm.Calls, "rate_limited": refused}
	mount := fmt.Sprintf("one mount --write-back --rate-profile %s, no --rate-limit; emulator limited to %s (burst = rate) by POST /__emulator/qps", profile, qps)
	return []row{
		{ID: ids[0], Scenario: title, Figure: cFig, Unit: "files/s", Baseline: fp(createLim), Ratio: fp(cFig / createLim),
			Text: fmt.Sprintf("copy %.2f files/s (%.1f s)", cFig, copyAll.Seconds()), BaseText: fmt.Sprintf("%g files/s (create limit)", createLim),
			Target: targets[0], Met: cFig >= 0.85*createLim,
			Measures: fmt.Sprintf("%d files of fresh random content (one create each) / wall time from the start of `cp -r SRC MNT/%s` to the return of `pan123fs sync MNT`; %s; checked by listing. Calls: %s.", b.nSmall, from, mount, dCopy),
			Details:  det},
		{ID: ids[1], Scenario: "  mv one by one", Figure: mFig, Unit: "files/s", Baseline: fp(moveLim), Ratio: fp(mFig / moveLim),
			Text: fmt.Sprintf("move %.2f files/s (%.1f s)", mFig, moveAll.Seconds()), BaseText: fmt.Sprintf("%g files/s (move limit)", moveLim),
			Target: targets[1], Met: mFig >= 0.85*moveLim,
			Measures: fmt.Sprintf("%d files / wall time of `mv MNT/%s/* MNT/%s/` (one rename each, same mount); checked by listing. Calls: %s.", b.nSmall, from, to, dMove),
			Details:  det},
		{ID: ids[2], Scenario: "  rm -r both folders", Figure: rFig, Unit: "files/s", BaseText: "-",
			Text: fmt.Sprintf("rm %.0f files/s (%.1f s)", rFig, rmAll.Seconds()), Target: targets[2], Met: true, Info: true,
			Measures: fmt.Sprintf("%d files / wall time from the start of `rm -r MNT/%s MNT/%s` to the return of `pan123fs sync MNT` (deletes go 100 IDs a call, so the delete limit is not what bounds this). Calls: %s.", b.nSmall, from, to, dRm),
			Details:  det},
		{ID: ids[3], Scenario: "  calls refused with 429", Figure: 100 * share, Unit: "% of calls", BaseText: "-",
			Text: fmt.Sprintf("%d of %d calls (%.2f %%)", refused, calls, 100*share), Target: targets[3], Met: share <= 0.005,
			Measures: "the emulator's rate_limited counter over its API calls (stats diffs over the three phases, not the bench's checks between them).", Details: det},
	}, nil
}
