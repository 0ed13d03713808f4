package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/emulator"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// access_token: the client fetches a token on first use, saves it with a
// future expiry, reuses it, and wrong credentials get no token.
func TestAccessToken(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		var before int64
		if tg.emu != nil {
			before = tg.calls(wire.PathAccessToken)
		}
		tok := tg.token(t)
		for range 3 {
			_, err := tg.c.ListPage(ctx, wire.ListRequest{Limit: 1})
			require.NoError(t, err)
		}
		assert.Equal(t, tok, savedToken(t, tg.cfg.StateDir), "the token was replaced while valid")
		assert.Greater(t, time.Until(savedExpiry(t, tg.cfg.StateDir)), time.Hour, "expiredAt of a new token")
		if tg.emu != nil {
			assert.Equal(t, int64(1), tg.calls(wire.PathAccessToken)-before, "token fetches for four calls")
		}
		a := tg.raw(t, tok, http.MethodPost, wire.PathList, nil, wire.ListRequest{Limit: 1, Type: wire.TypeImageHost})
		assert.Equal(t, wire.CodeOK, a.Code, "list with the saved token: %v", a)

		bad := tg.newClient(t, func(cfg *remote.Config) {
			cfg.ClientSecret += "-wrong"
			cfg.StateDir = t.TempDir()
			cfg.Retry = backoff.Policy{Attempts: 1}
		})
		_, err := bad.ListPage(ctx, wire.ListRequest{Limit: 1})
		require.Error(t, err, "a call with a wrong client secret")
		assert.NotZero(t, apiCode(err), "wrong credentials: want a definite refusal, got %v", err)
		assert.False(t, remote.IsTemporary(err), "wrong credentials are not temporary: %v", err)
	})
}

// mkdir: with the name as a string (how the client and the official
// example send it); the folder shows in detail and list.
func TestMkdir(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		id, err := tg.c.Mkdir(ctx, dir, "子目录 one")
		require.NoError(t, err)
		require.NotEmpty(t, id)
		e, err := tg.c.Detail(ctx, id)
		require.NoError(t, err)
		assert.True(t, e.IsDir(), "detail of a new folder: type %d", e.Type)
		assert.Equal(t, "子目录 one", e.Filename)
		assert.Equal(t, dir, string(e.ParentFileID))

		deep, err := tg.c.Mkdir(ctx, id, "深")
		require.NoError(t, err)
		e, err = tg.c.Detail(ctx, deep)
		require.NoError(t, err)
		assert.Equal(t, id, string(e.ParentFileID), "parent of a nested folder")

		// The raw request with "name" as a JSON string.
		a := tg.raw(t, tg.token(t), http.MethodPost, wire.PathMkdir, nil,
			map[string]any{"name": "raw-string", "parentID": dir, "type": wire.TypeImageHost})
		require.Equal(t, wire.CodeOK, a.Code, "mkdir with a string name: %v", a)
		var d wire.MkdirData
		require.NoError(t, json.Unmarshal(a.Data, &d))
		require.Len(t, d.List, 1, "mkdir answer: %s", a.Data)
		assert.Equal(t, "raw-string", d.List[0].Filename)
		assert.NotEmpty(t, d.List[0].DirID)

		all, err := tg.c.ListAll(ctx, dir)
		require.NoError(t, err)
		got := map[string]wire.ID{}
		for _, e := range all {
			assert.True(t, e.IsDir(), "%s listed as type %d", e.Filename, e.Type)
			got[e.Filename] = e.FileID
		}
		assert.Equal(t, map[string]wire.ID{"子目录 one": wire.ID(id), "raw-string": d.List[0].DirID}, got)
	})
}

// The single-slice upload, one call at a time: create, get_upload_url, PUT,
// list_upload_parts, upload_complete; then detail, list and download agree.
func TestUploadSingleSlice(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		b := randBytes(1000)
		cr, err := tg.c.Create(ctx, dir, "one.bin", md5hex(b), int64(len(b)))
		require.NoError(t, err)
		require.False(t, cr.Reuse, "create of new content answered reuse")
		require.NotEmpty(t, cr.PreuploadID)
		require.Positive(t, cr.SliceSize)
		if tg.emu != nil {
			assert.Equal(t, int64(emuSlice), cr.SliceSize)
		}

		u, err := tg.c.GetUploadURL(ctx, cr.PreuploadID, 1)
		require.NoError(t, err)
		pu, err := url.Parse(u)
		require.NoError(t, err)
		assert.Contains(t, []string{"http", "https"}, pu.Scheme, "presignedURL %q", u)
		require.NoError(t, tg.c.PutSlice(ctx, u, bytes.NewReader(b), int64(len(b))))

		parts, err := tg.c.ListUploadParts(ctx, cr.PreuploadID)
		require.NoError(t, err)
		if tg.emu != nil {
			assert.Empty(t, parts, "list_upload_parts of a single-slice upload is documented empty")
		}
		for _, p := range parts { // what the real service answers, the client must be able to use
			assert.Equal(t, 1, p.PartNumber)
			assert.Equal(t, int64(len(b)), p.Size)
		}

		d, err := tg.c.UploadComplete(ctx, cr.PreuploadID)
		require.NoError(t, err)
		id := string(d.FileID)
		if tg.emu != nil {
			assert.True(t, bool(d.Completed), "single-slice completion is synchronous")
			assert.False(t, bool(d.Async), "single-slice completion is synchronous")
		}
		if !d.Completed {
			id = pollAsync(t, tg, cr.PreuploadID)
		}
		require.NotEmpty(t, id, "completion without a fileID")
		tg.requireFile(t, id, dir, "one.bin", b)

		e, err := tg.c.Detail(ctx, id)
		require.NoError(t, err)
		assert.LessOrEqual(t, e.Status, 100, "a new file is not rejected")
		assert.Equal(t, "bin", e.Extension)
		_, err = wire.ParseTime(e.CreateAt)
		assert.NoError(t, err, "createAt %q", e.CreateAt)
		all, err := tg.c.ListAll(ctx, dir)
		require.NoError(t, err)
		require.Len(t, all, 1)
		assert.Equal(t, *e, all[0], "list and detail describe the file alike")
	})
}

// A single-slice upload above a size answers async:true, completed:false
// (the official example, a 22 MB single-slice file); the client polls.
func TestSingleSliceAsync(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		if tg.canConfigure { // slices larger than the file, default AsyncAbove
			tg = tg.configured(t, emulator.Config{SliceSize: 4 << 20}, nil)
		}
		ctx := t.Context()
		dir := tg.folder(t)
		b := randBytes(emulator.DefaultAsyncAbove + 1)
		cr, err := tg.c.Create(ctx, dir, "big-single.png", md5hex(b), int64(len(b)))
		require.NoError(t, err)
		require.Greater(t, cr.SliceSize, int64(len(b)), "one slice")
		tg.sendSlices(t, cr.PreuploadID, b, cr.SliceSize, 1)
		d, err := tg.c.UploadComplete(ctx, cr.PreuploadID)
		require.NoError(t, err)
		id := string(d.FileID)
		if tg.emu != nil {
			assert.True(t, bool(d.Async), "single slice above %d bytes: async", emulator.DefaultAsyncAbove)
			assert.False(t, bool(d.Completed), "single slice above %d bytes: completed", emulator.DefaultAsyncAbove)
		}
		if !d.Completed || id == "" {
			id = pollAsync(t, tg, cr.PreuploadID)
		}
		tg.requireFile(t, id, dir, "big-single.png", b)

		// The high-level upload copes the same way.
		b2 := randBytes(emulator.DefaultAsyncAbove + 77)
		tg.requireFile(t, tg.upload(t, dir, "big-single-2.png", b2), dir, "big-single-2.png", b2)
	})
}

// pollAsync polls upload_async_result, sleeping the target's interval
// before each poll, until completed, and returns the fileID.
func pollAsync(t *testing.T, tg *target, preuploadID string) string {
	id, _ := pollAsyncCount(t, tg, preuploadID)
	return id
}

// pollAsyncCount is pollAsync that also counts the answers that were not
// completed yet.
func pollAsyncCount(t *testing.T, tg *target, preuploadID string) (string, int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	pending := 0
	for {
		time.Sleep(tg.poll)
		res, err := tg.c.UploadAsyncResult(t.Context(), preuploadID)
		require.NoError(t, err, "upload_async_result")
		if res.Completed {
			require.NotEmpty(t, res.FileID, "completed without a fileID")
			return string(res.FileID), pending
		}
		pending++
		require.True(t, time.Now().Before(deadline), "upload not completed after %d polls", pending)
	}
}

// A multi-slice upload with the low-level calls: list_upload_parts shows
// every slice with its md5, upload_complete answers async, and polling
// upload_async_result (no faster than the configured interval) ends in
// completion.
func TestAsyncCompletion(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		slice := tg.sliceSize(t, dir)
		needSmallSlices(t, tg, slice)
		b := randBytes(int(2*slice + 777))
		cr, err := tg.c.Create(ctx, dir, "multi.bin", md5hex(b), int64(len(b)))
		require.NoError(t, err)
		require.False(t, cr.Reuse)
		require.Equal(t, slice, cr.SliceSize)
		tg.sendSlices(t, cr.PreuploadID, b, slice, 1, 2, 3)
		parts, err := tg.c.ListUploadParts(ctx, cr.PreuploadID)
		require.NoError(t, err)
		require.Len(t, parts, 3, "list_upload_parts after three slices")
		for i, p := range parts {
			off := int64(i) * slice
			n := min(slice, int64(len(b))-off)
			assert.Equal(t, i+1, p.PartNumber)
			assert.Equal(t, n, p.Size, "part %d size", p.PartNumber)
			if et := strings.Trim(p.Etag, `"`); et != "" {
				assert.Equal(t, md5hex(b[off:off+n]), strings.ToLower(et), "part %d etag", p.PartNumber)
			}
		}

		d, err := tg.c.UploadComplete(ctx, cr.PreuploadID)
		require.NoError(t, err)
		assert.True(t, bool(d.Async), "a multi-slice completion answers async")
		id := string(d.FileID)
		if !d.Completed || id == "" {
			var pending int
			id, pending = pollAsyncCount(t, tg, cr.PreuploadID)
			if tg.emu != nil {
				assert.Positive(t, pending, "the emulator completes %v after upload_complete: a %v poll should see it pending", emuAsync, tg.poll)
			}
		}
		tg.requireFile(t, id, dir, "multi.bin", b)
		assert.Equal(t, []string{"multi.bin"}, tg.names(t, dir))
	})
}

// A resumed upload: list_upload_parts answers partNumber as a string, as
// the official example shows; the client reads it and sends only the
// slices the service does not hold.
func TestResumeReadsStringPartNumbers(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		slice := tg.sliceSize(t, dir)
		needSmallSlices(t, tg, slice)
		b := randBytes(int(3*slice + 99))
		cr, err := tg.c.Create(ctx, dir, "resumed.bin", md5hex(b), int64(len(b)))
		require.NoError(t, err)
		require.False(t, cr.Reuse)
		tg.sendSlices(t, cr.PreuploadID, b, slice, 1, 2) // two of four slices, then "the process dies"
		a := tg.raw(t, tg.token(t), http.MethodPost, wire.PathListUploadParts, nil, wire.PreuploadRequest{PreuploadID: cr.PreuploadID})
		require.Equal(t, wire.CodeOK, a.Code, "list_upload_parts: %v", a)
		var raw struct {
			Parts []map[string]json.RawMessage `json:"parts"`
		}
		require.NoError(t, json.Unmarshal(a.Data, &raw))
		require.Len(t, raw.Parts, 2, "parts after two slices: %s", a.Data)
		if tg.emu != nil {
			assert.Equal(t, `"1"`, string(raw.Parts[0]["partNumber"]), "partNumber as the official example sends it")
		}

		var puts int64
		if tg.emu != nil {
			puts = tg.puts()
		}
		res, err := tg.c.ResumeUpload(ctx, cr.PreuploadID, remote.UploadInput{ParentID: dir, Name: "resumed.bin",
			Src: bytes.NewReader(b), Size: int64(len(b)), MD5: md5hex(b), SliceSize: cr.SliceSize})
		require.NoError(t, err)
		if tg.emu != nil {
			assert.Equal(t, int64(2), tg.puts()-puts, "slices sent by the resume: only 3 and 4")
		}
		tg.requireFile(t, res.FileID, dir, "resumed.bin", b)
	})
}

// detail and list: every field of a file and a folder, a missing ID, an
// empty folder.
func TestDetailList(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		all, err := tg.c.ListAll(ctx, dir)
		require.NoError(t, err)
		assert.Empty(t, all, "a new folder is empty")
		page, err := tg.c.ListPage(ctx, wire.ListRequest{ParentFileID: dir})
		require.NoError(t, err)
		assert.Equal(t, wire.ID(wire.ListEnd), page.LastFileID, "lastFileId of an empty folder")

		b := randBytes(321)
		fid := tg.upload(t, dir, "pic.png", b)
		sub, err := tg.c.Mkdir(ctx, dir, "sub")
		require.NoError(t, err)

		f, err := tg.c.Detail(ctx, fid)
		require.NoError(t, err)
		assert.Equal(t, wire.ID(fid), f.FileID)
		assert.Equal(t, "pic.png", f.Filename)
		assert.Equal(t, wire.EntryFile, f.Type)
		assert.Equal(t, int64(321), f.Size)
		assert.Equal(t, md5hex(b), strings.ToLower(f.Etag))
		assert.Equal(t, "png", f.Extension)
		assert.Equal(t, dir, string(f.ParentFileID))
		assert.NotEmpty(t, f.DownloadURL)
		assert.Contains(t, f.DownloadURL, fid, "the download link names the file ID")
		for _, ts := range []string{f.CreateAt, f.UpdateAt} {
			_, err := wire.ParseTime(ts)
			assert.NoError(t, err, "time %q", ts)
		}
		d, err := tg.c.Detail(ctx, sub)
		require.NoError(t, err)
		assert.True(t, d.IsDir())
		assert.Equal(t, "sub", d.Filename)

		all, err = tg.c.ListAll(ctx, dir)
		require.NoError(t, err)
		require.Len(t, all, 2)
		byID := map[wire.ID]wire.Entry{}
		for _, e := range all {
			byID[e.FileID] = e
		}
		assert.Equal(t, *f, byID[wire.ID(fid)], "list entry of the file")
		assert.Equal(t, d.Filename, byID[wire.ID(sub)].Filename)

		// A missing ID: one that was deleted, and one that never was.
		require.NoError(t, tg.c.Delete(ctx, []string{fid}))
		_, err = tg.c.Detail(ctx, fid)
		assert.ErrorIs(t, err, remote.ErrNotFound, "detail of a deleted file")
		_, err = tg.c.Detail(ctx, "999999999999")
		assert.ErrorIs(t, err, remote.ErrNotFound, "detail of an ID that never was")
	})
}

// delete: files and folders go; a folder's contents go with it (emulator;
// unknown on the real service, logged); deleting twice is harmless.
func TestDelete(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		f1 := tg.upload(t, dir, "a.bin", randBytes(10))
		f2 := tg.upload(t, dir, "b.bin", randBytes(11))
		sub, err := tg.c.Mkdir(ctx, dir, "sub")
		require.NoError(t, err)
		inner := tg.upload(t, sub, "inner.bin", randBytes(12))

		require.NoError(t, tg.c.Delete(ctx, []string{f1}))
		_, err = tg.c.Detail(ctx, f1)
		assert.ErrorIs(t, err, remote.ErrNotFound)
		assert.ElementsMatch(t, []string{"b.bin", "sub"}, tg.names(t, dir))

		require.NoError(t, tg.c.Delete(ctx, []string{f2, sub}))
		assert.Empty(t, tg.names(t, dir))
		_, err = tg.c.Detail(ctx, sub)
		assert.ErrorIs(t, err, remote.ErrNotFound, "detail of a deleted folder")
		_, err = tg.c.Detail(ctx, inner)
		if tg.emu != nil {
			assert.ErrorIs(t, err, remote.ErrNotFound, "a file inside a deleted folder")
		} else {
			t.Logf("real service: detail of a file in a deleted folder answers %v", err)
		}

		err = tg.c.Delete(ctx, []string{f2})
		if tg.emu != nil {
			assert.NoError(t, err, "deleting a deleted file again")
		} else {
			t.Logf("real service: deleting a deleted file again answers %v", err)
		}
	})
}

// move: into a sibling folder (the download link stays), a folder into
// another, a folder into its own subtree (refused), into the root and back,
// a missing ID (refused).
func TestMove(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		a, err := tg.c.Mkdir(ctx, dir, "a")
		require.NoError(t, err)
		bdir, err := tg.c.Mkdir(ctx, dir, "b")
		require.NoError(t, err)
		body := randBytes(99)
		f := tg.upload(t, a, "f.bin", body)
		before, err := tg.c.Detail(ctx, f)
		require.NoError(t, err)

		require.NoError(t, tg.c.Move(ctx, []string{f}, bdir))
		tg.requireFile(t, f, bdir, "f.bin", body)
		after, err := tg.c.Detail(ctx, f)
		require.NoError(t, err)
		assert.Equal(t, before.DownloadURL, after.DownloadURL, "a move keeps the download link")
		assert.Empty(t, tg.names(t, a))
		assert.Equal(t, []string{"f.bin"}, tg.names(t, bdir))

		require.NoError(t, tg.c.Move(ctx, []string{a}, bdir), "folder a into b")
		e, err := tg.c.Detail(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, bdir, string(e.ParentFileID))
		err = tg.c.Move(ctx, []string{bdir}, a)
		require.Error(t, err, "moving b into its own subfolder a")
		assert.NotZero(t, apiCode(err), "moving a folder into its own subtree: %v", err)
		e, err = tg.c.Detail(ctx, bdir)
		require.NoError(t, err)
		assert.Equal(t, dir, string(e.ParentFileID), "b stays where it was")

		// Into the root under a unique name, and back. The service refuses
		// an empty toParentFileID (不能为空); the client sends the root's ID.
		g := tg.upload(t, dir, "root-trip-"+randHex(6)+".bin", randBytes(5))
		a0 := tg.raw(t, tg.token(t), http.MethodPost, wire.PathMove, nil, map[string]any{"fileIDs": []string{g}, "toParentFileID": ""})
		assert.NotEqual(t, wire.CodeOK, a0.Code, "move with an empty toParentFileID: %v", a0)
		require.NoError(t, tg.c.Move(ctx, []string{g}, ""))
		t.Cleanup(func() {
			ctx, cancel := bgContext()
			defer cancel()
			_ = tg.c.Delete(ctx, []string{g}) // in case it stays in the root
		})
		e, err = tg.c.Detail(ctx, g)
		require.NoError(t, err)
		root, err := tg.c.RootID(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, root, "the root's own ID")
		assert.Equal(t, root, string(e.ParentFileID), "parent of a file moved to the root")
		require.NoError(t, tg.c.Move(ctx, []string{g}, dir))
		e, err = tg.c.Detail(ctx, g)
		require.NoError(t, err)
		assert.Equal(t, dir, string(e.ParentFileID))

		err = tg.c.Move(ctx, []string{"999999999999"}, dir)
		require.Error(t, err, "moving an ID that never was")
		if tg.emu != nil {
			assert.ErrorIs(t, err, remote.ErrNotFound)
		}
	})
}

// The root has an ID of its own: top-level entries show it as
// parentFileId, and "" and that ID both address the root for list, mkdir
// and create.
func TestRootAddressing(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t) // a top-level entry, so the root lists something
		e, err := tg.c.Detail(ctx, dir)
		require.NoError(t, err)
		root := string(e.ParentFileID)
		require.NotEmpty(t, root, "parentFileId of a top-level folder")
		learnt, err := tg.c.RootID(ctx)
		require.NoError(t, err)
		assert.Equal(t, root, learnt, "the root ID the client learns")

		sub, err := tg.c.Mkdir(ctx, root, "pan123fs-contract-rootid-"+randHex(4))
		require.NoError(t, err, "mkdir with parentID = the root's ID")
		t.Cleanup(func() {
			ctx, cancel := bgContext()
			defer cancel()
			_ = tg.removeTree(ctx, sub)
		})
		b := randBytes(321)
		name := "pan123fs-contract-rootid-" + randHex(4) + ".bin"
		f := tg.upload(t, root, name, b)
		t.Cleanup(func() {
			ctx, cancel := bgContext()
			defer cancel()
			_ = tg.c.Delete(ctx, []string{f})
		})
		tg.requireFile(t, f, root, name, b)

		ids := func(folder string) map[string]bool {
			all, err := tg.c.ListAll(ctx, folder)
			require.NoError(t, err, "list %q", folder)
			m := map[string]bool{}
			for _, e := range all {
				m[string(e.FileID)] = true
				assert.Equal(t, root, string(e.ParentFileID), "parentFileId of top-level %s", e.Filename)
			}
			return m
		}
		byEmpty, byID := ids(""), ids(root)
		assert.Equal(t, byEmpty, byID, `list of "" and of the root's ID`)
		for _, id := range []string{dir, sub, f} {
			assert.True(t, byEmpty[id], "%s listed in the root", id)
		}
	})
}

// copy from the cloud drive (emulator only: its drive is seeded): one
// image copied, one non-image listed among the failures; a task whose
// every file fails ends failed; a task's progress walks waiting → running
// → done.
func TestCopy(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		tg.needEmulator(t, "its cloud drive is seeded with SeedDrive")
		ctx := t.Context()
		dir := tg.folder(t)
		img := randBytes(2048)
		good, err := tg.emu.SeedDrive("pic.png", img)
		require.NoError(t, err)
		bad, err := tg.emu.SeedDrive("notes.txt", randBytes(10))
		require.NoError(t, err)

		task, err := tg.c.Copy(ctx, []string{good, bad}, dir)
		require.NoError(t, err)
		require.NotEmpty(t, task)
		seen := map[int]bool{}
		var final *wire.CopyProcessData
		waitFor(t, 10*time.Second, 20*time.Millisecond, "copy task", func() bool {
			p, err := tg.c.CopyProcess(ctx, task)
			require.NoError(t, err)
			seen[p.Status] = true
			final = p
			return p.Status == wire.CopyDone || p.Status == wire.CopyFailed
		})
		assert.Equal(t, wire.CopyDone, final.Status, "copy with one good file: %+v", final)
		assert.True(t, seen[wire.CopyWaiting] || seen[wire.CopyRunning], "statuses seen: %v", seen)
		fails, err := tg.c.CopyFailures(ctx, task, 1, 100)
		require.NoError(t, err)
		assert.Equal(t, wire.Int(1), fails.Total)
		require.Len(t, fails.List, 1)
		assert.Equal(t, wire.ID(bad), fails.List[0].FileID)
		assert.Equal(t, "notes.txt", fails.List[0].Filename)

		all, err := tg.c.ListAll(ctx, dir)
		require.NoError(t, err)
		require.Len(t, all, 1)
		tg.requireFile(t, string(all[0].FileID), dir, "pic.png", img)

		task2, err := tg.c.Copy(ctx, []string{bad}, dir)
		require.NoError(t, err)
		waitFor(t, 10*time.Second, 20*time.Millisecond, "copy task 2", func() bool {
			p, err := tg.c.CopyProcess(ctx, task2)
			require.NoError(t, err)
			final = p
			return p.Status == wire.CopyDone || p.Status == wire.CopyFailed
		})
		assert.Equal(t, wire.CopyFailed, final.Status)
		assert.NotEmpty(t, final.FailMsg)
		_, err = tg.c.CopyProcess(ctx, "no-such-task")
		assert.Error(t, err, "progress of an unknown task")

		// An image of the same etag and size in the folder is overwritten
		// by the copy (将覆盖原图片).
		same := randBytes(999)
		old := tg.upload(t, dir, "old.png", same)
		again, err := tg.emu.SeedDrive("again.png", same)
		require.NoError(t, err)
		task3, err := tg.c.Copy(ctx, []string{again}, dir)
		require.NoError(t, err)
		waitFor(t, 10*time.Second, 20*time.Millisecond, "copy task 3", func() bool {
			p, err := tg.c.CopyProcess(ctx, task3)
			require.NoError(t, err)
			final = p
			return p.Status == wire.CopyDone || p.Status == wire.CopyFailed
		})
		require.Equal(t, wire.CopyDone, final.Status, "copy onto the same image: %+v", final)
		assert.ElementsMatch(t, []string{"pic.png", "again.png"}, tg.names(t, dir), "the copy took the old image's place")
		_, err = tg.c.Detail(ctx, old)
		assert.ErrorIs(t, err, remote.ErrNotFound, "the overwritten image")

		// At most three copy tasks at once: the fourth is refused.
		for i := range 3 {
			_, err := tg.c.Copy(ctx, []string{good}, dir)
			require.NoError(t, err, "copy task %d of 3", i+1)
		}
		_, err = tg.c.Copy(ctx, []string{good}, dir)
		require.Error(t, err, "a fourth copy task while three run")
		assert.NotZero(t, apiCode(err), "a fourth copy task: %v", err)
		waitFor(t, 10*time.Second, 20*time.Millisecond, "a free copy slot", func() bool {
			_, err := tg.c.Copy(ctx, []string{good}, dir)
			return err == nil
		})
	})
}

// offline download (emulator only: it fetches from an httptest.Server on
// loopback): the name from the URL or from fileName, progress to done,
// a 404 ends failed.
func TestOffline(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		tg.needEmulator(t, "the real service cannot reach a loopback test server")
		ctx := t.Context()
		dir := tg.folder(t)
		img := randBytes(70000)
		src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/img/cat.png" {
				http.NotFound(w, r)
				return
			}
			w.Write(img)
		}))
		t.Cleanup(src.Close)

		wait := func(task string) *wire.OfflineProcessData {
			var p *wire.OfflineProcessData
			waitFor(t, 10*time.Second, 20*time.Millisecond, "offline task "+task, func() bool {
				var err error
				p, err = tg.c.OfflineProcess(ctx, task)
				require.NoError(t, err)
				return p.Status == wire.OfflineDone || p.Status == wire.OfflineFailed
			})
			return p
		}
		task, err := tg.c.OfflineDownload(ctx, wire.OfflineRequest{URL: src.URL + "/img/cat.png", BusinessDirID: dir})
		require.NoError(t, err)
		p := wait(task)
		assert.Equal(t, wire.OfflineDone, p.Status)
		assert.Equal(t, wire.Int(100), p.Process)

		img2 := randBytes(100)
		src2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(img2) }))
		t.Cleanup(src2.Close)
		task, err = tg.c.OfflineDownload(ctx, wire.OfflineRequest{URL: src2.URL + "/x", FileName: "renamed.jpg", BusinessDirID: dir})
		require.NoError(t, err)
		assert.Equal(t, wire.OfflineDone, wait(task).Status)

		task, err = tg.c.OfflineDownload(ctx, wire.OfflineRequest{URL: src.URL + "/missing.png", BusinessDirID: dir})
		require.NoError(t, err)
		assert.Equal(t, wire.OfflineFailed, wait(task).Status, "offline download of a 404")

		all, err := tg.c.ListAll(ctx, dir)
		require.NoError(t, err)
		require.Len(t, all, 2, "entries after two good offline downloads")
		byName := map[string]string{}
		for _, e := range all {
			byName[e.Filename] = string(e.FileID)
		}
		require.Contains(t, byName, "cat.png")
		require.Contains(t, byName, "renamed.jpg")
		tg.requireFile(t, byName["cat.png"], dir, "cat.png", img)
		tg.requireFile(t, byName["renamed.jpg"], dir, "renamed.jpg", img2)

		// The callback body as documented: url, status 0 success / 1
		// failure, failReason, fileID.
		bodies := make(chan map[string]any, 2)
		cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m map[string]any
			assert.NoError(t, json.NewDecoder(r.Body).Decode(&m), "callback body")
			bodies <- m
		}))
		t.Cleanup(cb.Close)
		img3 := randBytes(300)
		src3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(img3) }))
		t.Cleanup(src3.Close)
		task, err = tg.c.OfflineDownload(ctx, wire.OfflineRequest{URL: src3.URL + "/cb.png", BusinessDirID: dir, CallBackURL: cb.URL})
		require.NoError(t, err)
		require.Equal(t, wire.OfflineDone, wait(task).Status)
		got := <-bodies
		id, _ := got["fileID"].(string)
		assert.Equal(t, map[string]any{"url": src3.URL + "/cb.png", "status": 0.0, "failReason": "", "fileID": id}, got, "callback of a success")
		tg.requireFile(t, id, dir, "cb.png", img3)
		task, err = tg.c.OfflineDownload(ctx, wire.OfflineRequest{URL: src.URL + "/absent.png", BusinessDirID: dir, CallBackURL: cb.URL})
		require.NoError(t, err)
		require.Equal(t, wire.OfflineFailed, wait(task).Status)
		got = <-bodies
		assert.Equal(t, 1.0, got["status"], "callback of a failure: %v", got)
		assert.NotEmpty(t, got["failReason"], "callback of a failure: %v", got)
	})
}

// fill makes n files in dir named prefix000.bin, ... cheaply: one upload,
// then create of the same md5 and size under the other names (reuse). It
// returns their IDs in creation order.
func fill(t *testing.T, tg *target, dir, prefix string, n int) []string {
	t.Helper()
	b := randBytes(64)
	ids := []string{tg.upload(t, dir, prefix+"000.bin", b)}
	for i := 1; i < n; i++ {
		name := fmt.Sprintf("%s%03d.bin", prefix, i)
		cr, err := tg.c.Create(t.Context(), dir, name, md5hex(b), int64(len(b)))
		require.NoError(t, err, "create %s", name)
		require.True(t, cr.Reuse, "create %s of known content: want reuse", name)
		require.NotEmpty(t, cr.FileID, "create %s: reuse without fileID", name)
		ids = append(ids, cr.FileID)
	}
	return ids
}

// Pagination over 260 entries: pages of at most 100 follow lastFileId to
// "-1"; the iterator yields every entry exactly once, in the listing order
// (creation order on the emulator), three list calls in all.
func TestPagination(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		const n = 260
		ids := fill(t, tg, dir, "p", n)
		set := map[string]bool{}
		for _, id := range ids {
			set[id] = true
		}
		require.Len(t, set, n, "reuse hands out a new fileID every time")

		var walked []string
		var sizes []int
		cursor := ""
		for {
			d, err := tg.c.ListPage(ctx, wire.ListRequest{ParentFileID: dir, Limit: 100, LastFileID: cursor})
			require.NoError(t, err)
			require.LessOrEqual(t, len(d.FileList), 100, "page %d", len(sizes)+1)
			sizes = append(sizes, len(d.FileList))
			for _, e := range d.FileList {
				walked = append(walked, string(e.FileID))
			}
			if d.LastFileID == wire.ListEnd {
				break
			}
			cursor = string(d.LastFileID)
			require.Less(t, len(sizes), 10, "pages never end")
		}
		if tg.emu != nil {
			assert.Equal(t, []int{100, 100, 60}, sizes, "page sizes")
		} else {
			t.Logf("real service: page sizes %v", sizes)
		}
		assert.ElementsMatch(t, ids, walked, "pages hold every entry once")

		var lists int64
		if tg.emu != nil {
			lists = tg.calls(wire.PathList)
		}
		var got []string
		for e, err := range tg.c.List(ctx, dir) {
			require.NoError(t, err)
			got = append(got, string(e.FileID))
		}
		assert.Equal(t, walked, got, "the iterator yields the pages' entries, in order, once each")
		if tg.emu != nil {
			assert.Equal(t, ids, got, "emulator lists in creation order")
			assert.Equal(t, int64(3), tg.calls(wire.PathList)-lists, "list calls of the iterator")
		} else if !slices.Equal(ids, got) {
			t.Logf("real service: listing order is not creation order")
		}

		d, err := tg.c.ListPage(ctx, wire.ListRequest{ParentFileID: dir, Limit: 7})
		require.NoError(t, err)
		assert.Len(t, d.FileList, 7, "limit 7")
		assert.NotEqual(t, wire.ID(wire.ListEnd), d.LastFileID)
	})
}

// Reuse (秒传): create of known content answers reuse with a new fileID;
// the new file has the same etag and size, and the same bytes.
func TestReuse(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		b := randBytes(5000)
		orig := tg.upload(t, dir, "orig.bin", b)
		cr, err := tg.c.Create(ctx, dir, "copy.bin", md5hex(b), int64(len(b)))
		require.NoError(t, err)
		require.True(t, cr.Reuse, "create of known content")
		require.NotEmpty(t, cr.FileID)
		assert.NotEqual(t, orig, cr.FileID, "reuse makes a new file")
		tg.requireFile(t, cr.FileID, dir, "copy.bin", b)
		e1, err := tg.c.Detail(ctx, orig)
		require.NoError(t, err)
		e2, err := tg.c.Detail(ctx, cr.FileID)
		require.NoError(t, err)
		assert.Equal(t, e1.Etag, e2.Etag)
		assert.Equal(t, e1.Size, e2.Size)
		assert.NotEqual(t, e1.DownloadURL, e2.DownloadURL, "the link names the file ID")

		var puts int64
		if tg.emu != nil {
			puts = tg.puts()
		}
		res, err := tg.c.Upload(ctx, remote.UploadInput{ParentID: dir, Name: "third.bin", Src: bytes.NewReader(b), Size: int64(len(b)), MD5: md5hex(b)})
		require.NoError(t, err)
		assert.True(t, res.Reused, "Upload of known content")
		if tg.emu != nil {
			assert.Equal(t, puts, tg.puts(), "a reused upload sends no slice")
		}
		tg.requireFile(t, res.FileID, dir, "third.bin", b)
		assert.ElementsMatch(t, []string{"orig.bin", "copy.bin", "third.bin"}, tg.names(t, dir))
	})
}

// Name clashes for create, mkdir and move match remote.ErrNameClash and
// change nothing.
func TestNameClash(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		tg.upload(t, dir, "taken.bin", randBytes(10))
		_, err := tg.c.Mkdir(ctx, dir, "taken-dir")
		require.NoError(t, err)
		other, err := tg.c.Mkdir(ctx, dir, "other")
		require.NoError(t, err)
		x := tg.upload(t, other, "taken.bin", randBytes(11))
		y := tg.upload(t, other, "taken-dir", randBytes(12))

		fresh := randBytes(20)
		for _, name := range []string{"taken.bin", "taken-dir"} {
			_, err := tg.c.Create(ctx, dir, name, md5hex(fresh), int64(len(fresh)))
			assert.ErrorIs(t, err, remote.ErrNameClash, "create %s", name)
			_, err = tg.c.Mkdir(ctx, dir, name)
			assert.ErrorIs(t, err, remote.ErrNameClash, "mkdir %s", name)
		}
		for _, id := range []string{x, y} {
			err := tg.c.Move(ctx, []string{id}, dir)
			assert.ErrorIs(t, err, remote.ErrNameClash, "move %s", id)
			e, err := tg.c.Detail(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, other, string(e.ParentFileID), "a refused move leaves %s in place", e.Filename)
		}
		res, err := tg.c.Upload(ctx, remote.UploadInput{ParentID: dir, Name: "taken.bin", Src: bytes.NewReader(fresh), Size: int64(len(fresh)), MD5: md5hex(fresh)})
		assert.ErrorIs(t, err, remote.ErrNameClash, "Upload onto a taken name gave %+v", res)
		assert.ElementsMatch(t, []string{"taken.bin", "taken-dir", "other"}, tg.names(t, dir))
		assert.ElementsMatch(t, []string{"taken.bin", "taken-dir"}, tg.names(t, other))

		// The real service's wording, raw (emulator; the real one may vary
		// and the client only needs 重名 / 同名 / 重复).
		if tg.emu != nil {
			tok := tg.token(t)
			a := tg.raw(t, tok, http.MethodPost, wire.PathMkdir, nil, map[string]any{"name": "taken-dir", "parentID": dir, "type": wire.TypeImageHost})
			assert.Contains(t, a.Message, "已经有同名文件夹", "mkdir clash: %v", a)
			a = tg.raw(t, tok, http.MethodPost, wire.PathCreate, nil, map[string]any{"parentFileID": dir, "filename": "taken.bin",
				"etag": md5hex(fresh), "size": len(fresh), "type": wire.TypeImageHost})
			assert.Contains(t, a.Message, "该目录下文件名重复无法创建", "create clash: %v", a)
			a = tg.raw(t, tok, http.MethodPost, wire.PathUploadComplete, nil, map[string]any{"preuploadID": ""})
			assert.Contains(t, a.Message, "预上传ID不能为空", "complete without a preuploadID: %v", a)
			a = tg.raw(t, "not-a-token", http.MethodPost, wire.PathList, nil, wire.ListRequest{Limit: 1, Type: wire.TypeImageHost})
			assert.Equal(t, wire.CodeUnauthorized, a.Code, "a bad token: %v", a)
			assert.Contains(t, a.Message, "无效的登录信息", "a bad token: %v", a)
		}
	})
}

// A move into the folder an entry is in is refused by the service
// (文件已在当前文件夹中，请选择其他文件夹); the client moves the rest of the
// batch and counts the one already there as moved.
func TestMoveIntoTheFolderItIsIn(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		sub, err := tg.c.Mkdir(ctx, dir, "sub")
		require.NoError(t, err)
		here := tg.upload(t, sub, "here.bin", randBytes(7))
		there := tg.upload(t, dir, "there.bin", randBytes(8))
		a := tg.raw(t, tg.token(t), http.MethodPost, wire.PathMove, nil, map[string]any{"fileIDs": []string{here}, "toParentFileID": sub})
		if tg.emu != nil { // the cloud drive refuses it; whether the image host does is unknown
			assert.Equal(t, wire.CodeInternal, a.Code, "move into the folder it is in: %v", a)
			assert.Contains(t, a.Message, "文件已在当前文件夹中", "move into the folder it is in: %v", a)
		}
		require.NoError(t, tg.c.Move(ctx, []string{here}, sub), "Move into the folder it is in")
		require.NoError(t, tg.c.Move(ctx, []string{here, there}, sub), "Move of a batch, one already there")
		assert.ElementsMatch(t, []string{"here.bin", "there.bin"}, tg.names(t, sub))
		assert.Equal(t, []string{"sub"}, tg.names(t, dir))
	})
}

// badNames are names the rules forbid: each forbidden character, 255
// characters, all spaces, empty.
func badNames() map[string]string {
	m := map[string]string{
		"255 chars":  strings.Repeat("n", 251) + ".png",
		"all spaces": "   ",
		"empty":      "",
	}
	for _, c := range wire.ForbiddenChars {
		m[fmt.Sprintf("char %q", c)] = "bad" + string(c) + "name.png"
	}
	return m
}

// Invalid names are refused by the client before any request
// (remote.ErrInvalidName), and by the service when sent anyway.
func TestInvalidNames(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		tok := tg.token(t)
		b := randBytes(8)
		var before map[string]int64
		if tg.emu != nil {
			before = tg.emu.Stats().Calls
		}
		for label, name := range badNames() {
			_, err := tg.c.Mkdir(ctx, dir, name)
			assert.ErrorIs(t, err, remote.ErrInvalidName, "Mkdir, %s", label)
			_, err = tg.c.Create(ctx, dir, name, md5hex(b), int64(len(b)))
			assert.ErrorIs(t, err, remote.ErrInvalidName, "Create, %s", label)
			_, err = tg.c.Upload(ctx, remote.UploadInput{ParentID: dir, Name: name, Src: bytes.NewReader(b), Size: int64(len(b)), MD5: md5hex(b)})
			assert.ErrorIs(t, err, remote.ErrInvalidName, "Upload, %s", label)
			if name != "" {
				_, err = tg.c.OfflineDownload(ctx, wire.OfflineRequest{URL: "http://127.0.0.1:1/x.png", FileName: name, BusinessDirID: dir})
				assert.ErrorIs(t, err, remote.ErrInvalidName, "OfflineDownload, %s", label)
			}
		}
		if tg.emu != nil {
			assert.Equal(t, before, tg.emu.Stats().Calls, "the client sent requests for invalid names")
		}

		for label, name := range badNames() {
			a := tg.raw(t, tok, http.MethodPost, wire.PathMkdir, nil,
				map[string]any{"name": name, "parentID": dir, "type": wire.TypeImageHost})
			assert.NotZero(t, a.Code, "raw mkdir, %s: %v", label, a)
			a = tg.raw(t, tok, http.MethodPost, wire.PathCreate, nil, wire.CreateRequest{
				ParentFileID: dir, Filename: name, Etag: md5hex(b), Size: int64(len(b)), Type: wire.TypeImageHost})
			assert.NotZero(t, a.Code, "raw create, %s: %v", label, a)
		}
		assert.Empty(t, tg.names(t, dir), "invalid names created entries")

		// The longest valid name, 254 characters.
		long := strings.Repeat("n", 250) + ".png"
		_, err := tg.c.Mkdir(ctx, dir, long)
		require.NoError(t, err, "mkdir with a 254-character name")
		assert.Equal(t, []string{long}, tg.names(t, dir))
	})
}

// An md5 mismatch at completion fails the upload and creates nothing.
func TestMD5Mismatch(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		b := randBytes(3000)
		wrong := md5hex(randBytes(3000))
		cr, err := tg.c.Create(ctx, dir, "bad.bin", wrong, int64(len(b)))
		require.NoError(t, err)
		require.False(t, cr.Reuse)
		tg.sendSlices(t, cr.PreuploadID, b, cr.SliceSize, 1)
		d, err := tg.c.UploadComplete(ctx, cr.PreuploadID)
		if err == nil && !d.Completed {
			// The verdict may come through upload_async_result.
			waitFor(t, 2*time.Minute, tg.poll, "md5 verdict", func() bool {
				var res *wire.UploadAsyncResultData
				res, err = tg.c.UploadAsyncResult(ctx, cr.PreuploadID)
				require.False(t, err == nil && bool(res.Completed), "an upload with the wrong md5 completed as %s", res.FileID)
				return err != nil
			})
		}
		require.Error(t, err, "completion of an upload whose bytes do not match its etag: %+v", d)
		assert.NotZero(t, apiCode(err), "md5 mismatch: %v", err)
		assert.False(t, remote.IsTemporary(err), "md5 mismatch is definite: %v", err)
		_, err = tg.c.UploadComplete(ctx, cr.PreuploadID)
		assert.Error(t, err, "completing the failed upload again")
		assert.Empty(t, tg.names(t, dir), "a failed upload created an entry")

		// The high-level Upload with a wrong MD5 fails too.
		_, err = tg.c.Upload(ctx, remote.UploadInput{ParentID: dir, Name: "bad2.bin", Src: bytes.NewReader(b), Size: int64(len(b)), MD5: wrong})
		assert.Error(t, err, "Upload with a wrong MD5")
		assert.Empty(t, tg.names(t, dir), "a failed upload created an entry")
	})
}

// delayFirstPut is a transport that holds the first slice PUT back for d
// before sending it.
type delayFirstPut struct {
	d    time.Duration
	once sync.Once
}

func (x *delayFirstPut) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut {
		x.once.Do(func() { time.Sleep(x.d) })
	}
	return http.DefaultTransport.RoundTrip(r)
}

// A PUT to an expired presigned URL gives remote.ErrPresignExpired; the
// high-level Upload, whose first PUT is held back past the expiry, fetches
// a new URL and succeeds.
func TestPresignExpired(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		tg = tg.configured(t, emulator.Config{PresignTTL: time.Second}, nil)
		ctx := t.Context()
		dir := tg.folder(t)
		const wait = 2100 * time.Millisecond // expiry is in whole seconds
		b := randBytes(100)
		cr, err := tg.c.Create(ctx, dir, "late.bin", md5hex(b), int64(len(b)))
		require.NoError(t, err)
		u, err := tg.c.GetUploadURL(ctx, cr.PreuploadID, 1)
		require.NoError(t, err)
		time.Sleep(wait)
		err = tg.c.PutSlice(ctx, u, bytes.NewReader(b), int64(len(b)))
		require.ErrorIs(t, err, remote.ErrPresignExpired)
		assert.False(t, remote.IsTemporary(err))
		u, err = tg.c.GetUploadURL(ctx, cr.PreuploadID, 1)
		require.NoError(t, err)
		require.NoError(t, tg.c.PutSlice(ctx, u, bytes.NewReader(b), int64(len(b))), "PUT to a fresh URL")
		d, err := tg.c.UploadComplete(ctx, cr.PreuploadID)
		require.NoError(t, err)
		tg.requireFile(t, string(d.FileID), dir, "late.bin", b)

		slow := tg.newClient(t, func(cfg *remote.Config) {
			cfg.HTTPClient = &http.Client{Transport: &delayFirstPut{d: wait}}
		})
		urls, puts := tg.calls(wire.PathGetUploadURL), tg.puts()
		b2 := randBytes(200)
		res, err := slow.Upload(ctx, remote.UploadInput{ParentID: dir, Name: "late2.bin", Src: bytes.NewReader(b2), Size: int64(len(b2)), MD5: md5hex(b2)})
		require.NoError(t, err, "Upload whose first PUT comes after its URL expired")
		assert.Equal(t, int64(2), tg.calls(wire.PathGetUploadURL)-urls, "get_upload_url calls: the first URL, then a fresh one")
		assert.Equal(t, int64(2), tg.puts()-puts, "PUTs: refused, then stored")
		tg.requireFile(t, res.FileID, dir, "late2.bin", b2)
	})
}

// With a 2 s token lifetime, calls keep working past the expiry: the
// client renews; the old token is refused with 401.
func TestTokenExpiry(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		tg = tg.configured(t, emulator.Config{TokenTTL: 2 * time.Second}, nil)
		ctx := t.Context()
		dir := tg.folder(t)
		old := tg.token(t)
		fetches := tg.calls(wire.PathAccessToken)
		time.Sleep(2500 * time.Millisecond)

		a := tg.raw(t, old, http.MethodPost, wire.PathList, nil, wire.ListRequest{Limit: 1, Type: wire.TypeImageHost})
		assert.Equal(t, wire.CodeUnauthorized, a.Code, "list with an expired token: %v", a)
		_, err := tg.c.ListPage(ctx, wire.ListRequest{ParentFileID: dir, Limit: 1})
		require.NoError(t, err, "list after the token expired")
		b := randBytes(50)
		id := tg.upload(t, dir, "after-expiry.bin", b)
		tg.requireFile(t, id, dir, "after-expiry.bin", b)
		assert.Greater(t, tg.calls(wire.PathAccessToken), fetches, "the client fetched a new token")
		assert.NotEqual(t, old, savedToken(t, tg.cfg.StateDir), "the saved token was renewed")
	})
}

// The 3-token rule: a fourth token fetch knocks out the first token (401);
// the client holding it renews on the 401 and carries on. Two clients on
// one StateDir fetch a single token between them.
func TestTokenLimit(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		tg.needEmulator(t, "counts token fetches in its Stats; on the real service a fourth token would knock out the account's other sessions")
		ctx := t.Context()
		fetches := tg.calls(wire.PathAccessToken)
		var dirs []string
		var clients []*remote.Client
		for range 4 {
			dir := t.TempDir()
			c := tg.newClient(t, func(cfg *remote.Config) { cfg.StateDir = dir })
			_, err := c.ListPage(ctx, wire.ListRequest{Limit: 1})
			require.NoError(t, err)
			dirs, clients = append(dirs, dir), append(clients, c)
		}
		assert.Equal(t, int64(4), tg.calls(wire.PathAccessToken)-fetches, "four clients, four StateDirs, four tokens")
		listWith := func(tok string) answer {
			return tg.raw(t, tok, http.MethodPost, wire.PathList, nil, wire.ListRequest{Limit: 1, Type: wire.TypeImageHost})
		}
		assert.Equal(t, wire.CodeUnauthorized, listWith(savedToken(t, dirs[0])).Code, "the first token after a fourth was issued")
		for i := 1; i < 4; i++ {
			assert.Equal(t, wire.CodeOK, listWith(savedToken(t, dirs[i])).Code, "token %d", i+1)
		}
		_, err := clients[0].ListPage(ctx, wire.ListRequest{Limit: 1})
		require.NoError(t, err, "the knocked-out client renews on 401")
		assert.Equal(t, int64(5), tg.calls(wire.PathAccessToken)-fetches)
		assert.Equal(t, wire.CodeUnauthorized, listWith(savedToken(t, dirs[1])).Code, "the second token after a fifth was issued")

		shared := t.TempDir()
		fetches = tg.calls(wire.PathAccessToken)
		var wg sync.WaitGroup
		for range 2 {
			c := tg.newClient(t, func(cfg *remote.Config) { cfg.StateDir = shared })
			for range 4 {
				wg.Go(func() {
					_, err := c.ListPage(ctx, wire.ListRequest{Limit: 1})
					assert.NoError(t, err)
				})
			}
		}
		wg.Wait()
		assert.Equal(t, int64(1), tg.calls(wire.PathAccessToken)-fetches, "two clients sharing a StateDir")
	})
}

// Rate limits: against list=2/s, a burst from a client that limits itself
// less meets code 429, which surfaces as remote.ErrRateLimited only with
// retries off; with retries the burst succeeds. A client with the default
// limits against a service enforcing those same limits meets no 429.
func TestRateLimits(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		if !tg.canConfigure {
			t.Skipf("%s: its rate limits cannot be set, and bursting against them would be abuse", tg.name)
		}
		for _, http429 := range []bool{false, true} {
			t.Run(fmt.Sprintf("http429=%v", http429), func(t *testing.T) {
				parallel(t)
				patient := backoff.Policy{Attempts: 30, Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond, Jitter: true}
				tg := tg.configured(t, emulator.Config{QPS: map[string]float64{"list": 2}, HTTP429: http429},
					func(cfg *remote.Config) { cfg.Retry = patient })
				ctx := t.Context()
				tg.token(t) // may itself meet a 429, retried
				base := tg.emu.Stats().RateLimited
				noRetry := tg.newClient(t, func(cfg *remote.Config) {
					cfg.Limits = map[string]float64{"list": 100}
					cfg.Retry = backoff.Policy{Attempts: 1}
				})
				limited := 0
				for range 10 {
					_, err := noRetry.ListPage(ctx, wire.ListRequest{Limit: 1})
					if err != nil {
						require.ErrorIs(t, err, remote.ErrRateLimited)
						require.True(t, remote.IsTemporary(err))
						limited++
					}
				}
				assert.Positive(t, limited, "a burst of 10 lists at 100/s against 2/s")
				assert.Equal(t, int64(limited), tg.emu.Stats().RateLimited-base)

				retrying := tg.newClient(t, func(cfg *remote.Config) {
					cfg.Limits = map[string]float64{"list": 100}
					cfg.Retry = patient
				})
				base = tg.emu.Stats().RateLimited
				for i := range 10 {
					_, err := retrying.ListPage(ctx, wire.ListRequest{Limit: 1})
					require.NoError(t, err, "list %d with retries", i)
				}
				assert.Positive(t, tg.emu.Stats().RateLimited-base, "the retried burst met 429s")
			})
		}
		t.Run("defaults", func(t *testing.T) {
			parallel(t)
			qps := map[string]float64{}
			for k, v := range remote.DefaultLimits {
				qps[k] = v
			}
			tg := tg.configured(t, emulator.Config{QPS: qps}, func(cfg *remote.Config) { cfg.Limits = nil })
			ctx := t.Context()
			dir := tg.folder(t)
			sub, err := tg.c.Mkdir(ctx, dir, "sub")
			require.NoError(t, err)
			ids := fill(t, tg, dir, "f", 9)
			// Every limited call at once, the 1-per-second ones (move,
			// delete) several times in a row while the others load the
			// machine: requests that leave 1/qps apart must still arrive
			// at least 1/qps apart.
			var wg sync.WaitGroup
			wg.Go(func() {
				for _, id := range ids[:4] {
					assert.NoError(t, tg.c.Move(ctx, []string{id}, sub))
				}
			})
			wg.Go(func() {
				for _, id := range ids[4:] {
					assert.NoError(t, tg.c.Delete(ctx, []string{id}))
				}
			})
			for i := range 2 {
				wg.Go(func() {
					for range 6 {
						_, err := tg.c.ListPage(ctx, wire.ListRequest{ParentFileID: dir, Limit: 10})
						assert.NoError(t, err)
						_, err = tg.c.Detail(ctx, ids[0])
						assert.NoError(t, err)
					}
				})
				wg.Go(func() {
					for j := range 3 {
						_, err := tg.c.Mkdir(ctx, dir, fmt.Sprintf("d%d-%d", i, j))
						assert.NoError(t, err)
						b := randBytes(10)
						_, err = tg.c.Create(ctx, dir, fmt.Sprintf("n%d-%d.bin", i, j), md5hex(b), int64(len(b)))
						assert.NoError(t, err)
					}
				})
			}
			wg.Wait()
			assert.Zero(t, tg.emu.Stats().RateLimited, "429s met by a client keeping to the default limits")
		})
	})
}

// delete and move take at most 100 IDs: a raw call with 101 is refused and
// changes nothing; the client splits 250 IDs into three calls.
func TestBatchLimits(t *testing.T) {
	parallel(t)
	run(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		dir := tg.folder(t)
		to, err := tg.c.Mkdir(ctx, dir, "to")
		require.NoError(t, err)
		ids := fill(t, tg, dir, "b", 250)
		tok := tg.token(t)

		a := tg.raw(t, tok, http.MethodPost, wire.PathDelete, nil, wire.DeleteRequest{FileIDs: ids[:101]})
		assert.NotZero(t, a.Code, "raw delete of 101 IDs: %v", a)
		a = tg.raw(t, tok, http.MethodPost, wire.PathMove, nil, wire.MoveRequest{FileIDs: ids[:101], ToParentFileID: to})
		assert.NotZero(t, a.Code, "raw move of 101 IDs: %v", a)
		assert.Len(t, tg.names(t, dir), 251, "entries after refused calls")

		var moves, deletes int64
		if tg.emu != nil {
			moves, deletes = tg.calls(wire.PathMove), tg.calls(wire.PathDelete)
		}
		require.NoError(t, tg.c.Move(ctx, ids, to))
		assert.Equal(t, []string{"to"}, tg.names(t, dir))
		moved, err := tg.c.ListAll(ctx, to)
		require.NoError(t, err)
		assert.Len(t, moved, 250)
		require.NoError(t, tg.c.Delete(ctx, ids))
		assert.Empty(t, tg.names(t, to))
		if tg.emu != nil {
			assert.Equal(t, int64(3), tg.calls(wire.PathMove)-moves, "move calls for 250 IDs")
			assert.Equal(t, int64(3), tg.calls(wire.PathDelete)-deletes, "delete calls for 250 IDs")
		}
	})
}
