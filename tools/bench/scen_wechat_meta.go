package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// w2: renames on a fresh mount: mv of the folder 1b wrote (nSmall files)
// to another name, then mv of its files one by one into another folder.
// Each must be one databaseupdate, with nothing uploaded or deleted.
func (b *bench) w2(ctx context.Context) []row {
	titles := []string{fmt.Sprintf("mv of a folder of %d files", b.nSmall), fmt.Sprintf("mv of %d files one by one to another folder", b.nSmall)}
	targets := []string{"1 update, 0 COS POST", fmt.Sprintf("%d updates, 0 COS POST", b.nSmall)}
	rows, err := b.w2run(ctx, titles, targets)
	if err != nil {
		return []row{failed("2a", titles[0], targets[0], err), failed("2b", titles[1], targets[1], err)}
	}
	return rows
}

func (b *bench) w2run(ctx context.Context, titles, targets []string) ([]row, error) {
	if !b.ran["1"] {
		return nil, fmt.Errorf("scenario 2 renames scenario 1's folder: run scenario 1 too")
	}
	m, err := b.mountWechat(ctx, "w2")
	if err != nil {
		return nil, err
	}
	defer b.stopMount(m)
	mvFolder, dFolder, err := b.wxTimed(ctx, func() error {
		_, err := sh(ctx, "mv", filepath.Join(m.dir, "w1b"), filepath.Join(m.dir, "w2"))
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := b.wxHolds(ctx, "w2", b.nSmall); err != nil {
		return nil, err
	}
	if _, err := sh(ctx, "mkdir", filepath.Join(m.dir, "w2dst")); err != nil {
		return nil, err
	}
	args := make([]string, 0, b.nSmall+1)
	for i := range b.nSmall {
		args = append(args, filepath.Join(m.dir, "w2", setName(i)))
	}
	args = append(args, filepath.Join(m.dir, "w2dst"))
	mvFiles, dFiles, err := b.wxTimed(ctx, func() error {
		_, err := sh(ctx, "mv", args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := b.wxHolds(ctx, "w2dst", b.nSmall); err != nil {
		return nil, err
	}
	if err := b.wxHolds(ctx, "w2", 0); err != nil {
		return nil, err
	}
	mk := func(id, title, target string, n int64, t time.Duration, d wxStats, what string) row {
		upd, cos := d.Calls[wxDBUpdate], d.Calls[wxCOS]
		return row{ID: id, Scenario: title, Figure: float64(upd), Unit: "databaseupdate calls", Baseline: fp(float64(n)), Ratio: fp(float64(upd) / float64(n)),
			Text:     fmt.Sprintf("%d update, %d COS, %d db calls (%.2f s)", upd, cos, d.db(), t.Seconds()),
			BaseText: fmt.Sprintf("%d rename(2)", n), Target: target,
			Met: upd == n && cos == 0 && d.Calls[wxUpload] == 0 && d.Calls[wxBatchDelete] == 0 && d.Objects == 0,
			Measures: fmt.Sprintf("%s on a fresh mount (default flags), wall time and the emulator's calls (stats diff); the documents are checked where they should be afterwards. Calls: %s; objects %+d.",
				what, d, d.Objects),
			Details: map[string]any{"seconds": t.Seconds(), "calls": d.Calls, "database_calls": d.db()}}
	}
	return []row{
		mk("2a", titles[0], targets[0], 1, mvFolder, dFolder, "`mv MNT/w1b MNT/w2`, the folder 1b wrote, in the root"),
		mk("2b", titles[1], targets[1], int64(b.nSmall), mvFiles, dFiles,
			fmt.Sprintf("one `mv MNT/w2/f00000.bin ... MNT/w2dst` of %d files (one rename(2) each) into a folder made just before; the design's other database call per file is the query that checks the destination folder is still there (Rename's checkFolder when the parent changes)", b.nSmall)),
	}, nil
}

// wxHolds checks that the mount's root folder name holds n documents.
func (b *bench) wxHolds(ctx context.Context, name string, n int) error {
	docs, err := b.wx.folderDocs(ctx, name)
	if err != nil {
		return err
	}
	if docs == nil || len(docs) != n {
		return fmt.Errorf("folder %s: %d documents (found %v), want %d", name, len(docs), docs != nil, n)
	}
	return nil
}

// w3: rm -r of the folder 2b filled, on a fresh mount, until `pan123fs
// sync` says the queued deletes are done.
func (b *bench) w3(ctx context.Context) []row {
	batches := (b.nSmall + wire.MaxBatch - 1) / wire.MaxBatch
	titles := []string{fmt.Sprintf("rm -r of %d files: batchdeletefile calls", b.nSmall), "  database calls"}
	targets := []string{fmt.Sprintf("⌈%d/%d⌉ = %d", b.nSmall, wire.MaxBatch, batches), fmt.Sprintf("≤ 2 per %d files + 8 = %d", wire.MaxBatch, 2*batches+8)}
	rows, err := b.w3run(ctx, titles, targets, batches)
	if err != nil {
		return []row{failed("3a", titles[0], targets[0], err), failed("3b", titles[1], targets[1], err)}
	}
	return rows
}

func (b *bench) w3run(ctx context.Context, titles, targets []string, batches int) ([]row, error) {
	if !b.ran["2"] {
		return nil, fmt.Errorf("scenario 3 removes scenario 2's folder: run scenario 2 too")
	}
	m, err := b.mountWechat(ctx, "w3")
	if err != nil {
		return nil, err
	}
	defer b.stopMount(m)
	var rm time.Duration
	all, d, err := b.wxTimed(ctx, func() error {
		t0 := time.Now()
		if _, err := sh(ctx, "rm", "-r", filepath.Join(m.dir, "w2dst")); err != nil {
			return err
		}
		rm = time.Since(t0)
		_, err := sh(ctx, b.bin, "sync", m.dir)
		return err
	})
	if err != nil {
		return nil, err
	}
	if docs, err := b.wx.folderDocs(ctx, "w2dst"); err != nil || docs != nil {
		return nil, fmt.Errorf("w2dst is still in the root after rm -r and sync (%v)", err)
	}
	if d.Objects != -int64(b.nSmall) {
		return nil, fmt.Errorf("rm -r of %d files removed %d objects", b.nSmall, -d.Objects)
	}
	calls, db := d.Calls[wxBatchDelete], d.db()
	n := float64(b.nSmall)
	det := map[string]any{"rm_seconds": rm.Seconds(), "total_seconds": all.Seconds(), "calls": d.Calls, "database_calls": db}
	what := fmt.Sprintf("from the start of `rm -r MNT/w2dst` (%d files) on a fresh mount (default flags) to the return of `pan123fs sync MNT`, which waits for the queued deletes (rm -r %.1f s, all %.1f s); the folder's document is checked gone and the objects counted. Calls: %s; documents %+d, objects %+d.",
		b.nSmall, rm.Seconds(), all.Seconds(), d, d.Documents, d.Objects)
	return []row{
		{ID: "3a", Scenario: titles[0], Figure: float64(calls), Unit: "batchdeletefile calls", Baseline: fp(n), Ratio: fp(float64(calls) / n),
			Text: fmt.Sprintf("%d calls (%.1f s, rm -r %.1f s)", calls, all.Seconds(), rm.Seconds()), BaseText: fmt.Sprintf("%d calls (one per file)", b.nSmall),
			Target: targets[0], Met: calls == int64(batches), Measures: "tcb/batchdeletefile calls " + what, Details: det},
		{ID: "3b", Scenario: titles[1], Figure: float64(db), Unit: "database calls", Baseline: fp(n), Ratio: fp(float64(db) / n),
			Text: fmt.Sprintf("%d (%s)", db, dbSplit(d)), BaseText: fmt.Sprintf("%d files", b.nSmall),
			Target: targets[1], Met: db <= int64(2*batches+8),
			Measures: "database calls " + what + fmt.Sprintf(" The design's 2 for each batch of up to %d files: Delete reads their documents (for the storage file IDs) in one query and removes them in one call (where _id in the batch); the 8 left for the whole are the listings of the root and the folder, and the folder's own read, children query and two removes.", wire.MaxBatch),
			Details:  det},
	}, nil
}

// dbSplit is "N query + M delete + ..." of the database calls in d.
func dbSplit(d wxStats) string {
	var parts []string
	for _, k := range []string{wxDBQuery, wxDBDelete, wxDBUpdate, wxDBAdd} {
		if v := d.Calls[k]; v > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", v, strings.TrimPrefix(k, "POST /tcb/database")))
		}
	}
	return strings.Join(parts, " + ")
}

// w4: ls -l of a folder of nList files on a fresh mount, cold then warm.
// The documents are added straight to the mount's collection (no content:
// a listing reads none).
func (b *bench) w4(ctx context.Context) []row {
	pages := (b.nList + wire.MaxQueryLimit - 1) / wire.MaxQueryLimit
	titles := []string{fmt.Sprintf("ls -l of %d files, cold", b.nList), "  warm, within the TTL"}
	targets := []string{fmt.Sprintf("%d query (+1 root), 0 links", pages), "0 calls"}
	rows, err := b.w4run(ctx, titles, targets, pages)
	if err != nil {
		return []row{failed("4a", titles[0], targets[0], err), failed("4b", titles[1], targets[1], err)}
	}
	return rows
}

func (b *bench) w4run(ctx context.Context, titles, targets []string, pages int) ([]row, error) {
	if err := b.wx.makeCollection(ctx, wxMountColl); err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	ids, err := b.wx.add(ctx, wxMountColl, map[string]any{"parent": "", "name": "w4", "type": "dir", "size": 0, "mtime": now, "ctime": now, "gen": 0})
	if err != nil {
		return nil, err
	}
	for start := 0; start < b.nList; start += 1000 {
		var docs []map[string]any
		for i := start; i < min(start+1000, b.nList); i++ {
			docs = append(docs, map[string]any{"parent": ids[0], "name": setName(i), "type": "file",
				"fileid": "cloud://" + wxEnv + ".bench/none/" + setName(i), "key": "none/" + setName(i),
				"size": 4096, "md5": "0123456789abcdef0123456789abcdef", "mtime": now, "ctime": now, "gen": 1})
		}
		if _, err := b.wx.add(ctx, wxMountColl, docs...); err != nil {
			return nil, err
		}
	}
	m, err := b.mountWechat(ctx, "w4")
	if err != nil {
		return nil, err
	}
	defer b.stopMount(m)
	ls := func() error {
		out, err := sh(ctx, "ls", "-l", filepath.Join(m.dir, "w4"))
		if err == nil && strings.Count(out, "\n") != b.nList+1 { // "total N" and one line per file
			err = fmt.Errorf("ls -l printed %d lines, want %d", strings.Count(out, "\n"), b.nList+1)
		}
		return err
	}
	cold, dc, err := b.wxTimed(ctx, ls)
	if err != nil {
		return nil, err
	}
	warm, dw, err := b.wxTimed(ctx, ls)
	if err != nil {
		return nil, err
	}
	q, links := dc.Calls[wxDBQuery], dc.Calls[wxBatchLinks]
	det := map[string]any{"cold_seconds": cold.Seconds(), "warm_seconds": warm.Seconds(), "cold_calls": dc.Calls, "warm_calls": dw.Calls}
	return []row{
		{ID: "4a", Scenario: titles[0], Figure: float64(q), Unit: "query calls", Baseline: fp(float64(pages)), Ratio: fp(float64(q) / float64(pages)),
			Text: fmt.Sprintf("%d query, %d links (%.2f s)", q, links, cold.Seconds()), BaseText: fmt.Sprintf("⌈%d/%d⌉ = %d query", b.nList, wire.MaxQueryLimit, pages),
			Target: targets[0], Met: (q == int64(pages) || q == int64(pages)+1) && links == 0 && dc.all() == q,
			Measures: fmt.Sprintf("the emulator's calls (stats diff) during `ls -l MNT/w4` on a fresh mount (default flags), %d file documents added to the mount's collection beforehand; ls printed every entry. Calls: %s.", b.nList, dc),
			Details:  det},
		{ID: "4b", Scenario: titles[1], Figure: float64(dw.all()), Unit: "calls", BaseText: "-",
			Text: fmt.Sprintf("%d calls (%.2f s)", dw.all(), warm.Seconds()), Target: targets[1], Met: dw.all() == 0,
			Measures: fmt.Sprintf("the calls of a second `ls -l MNT/w4` right after the first (%.2f s), within --dir-cache-ttl. Calls: %s.", cold.Seconds(), dw),
			Details:  det},
	}, nil
}
