package emulator

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

func TestListPagination(t *testing.T) {
	e := newEnv(t, Config{})
	dir := e.mkdir("", "many")
	var want []string
	for i := 0; i < 250; i += 50 {
		names := make([]string, 50)
		for j := range names {
			names[j] = fmt.Sprintf("d%03d", i+j)
		}
		var d wire.MkdirData
		e.ok("POST", wire.PathMkdir, map[string]any{"name": names, "parentID": dir, "type": 1}, &d)
		require.Len(t, d.List, 50)
		for _, it := range d.List {
			want = append(want, string(it.DirID))
		}
	}
	p1 := e.list(dir, 100, "")
	require.Len(t, p1.FileList, 100)
	assert.Equal(t, p1.FileList[99].FileID, p1.LastFileID)
	p2 := e.list(dir, 100, string(p1.LastFileID))
	require.Len(t, p2.FileList, 100)
	p3 := e.list(dir, 100, string(p2.LastFileID))
	require.Len(t, p3.FileList, 50)
	assert.Equal(t, wire.ID(wire.ListEnd), p3.LastFileID)
	var got []string
	for _, p := range []wire.ListData{p1, p2, p3} {
		for _, en := range p.FileList {
			got = append(got, string(en.FileID))
			assert.Equal(t, wire.ID(dir), en.ParentFileID)
			assert.Equal(t, "many", en.ParentFilename)
		}
	}
	assert.Equal(t, want, got, "creation order, no gaps, no repeats")
	// Exactly one full page: the cursor says -1 right away.
	assert.Equal(t, wire.ID(wire.ListEnd), e.list(dir, 50, want[199]).LastFileID)
	// A cursor whose entry was deleted meanwhile still works.
	e.ok("POST", wire.PathDelete, map[string]any{"fileIDs": []string{want[99]}}, nil)
	p2b := e.list(dir, 100, want[99])
	assert.Equal(t, wire.ID(want[100]), p2b.FileList[0].FileID)
	e.fail(1, "POST", wire.PathList, map[string]any{"parentFileId": dir, "limit": 10, "lastFileId": "never-existed", "type": 1})
	// Time filter.
	var all wire.ListData
	now := time.Now().Unix()
	e.ok("POST", wire.PathList, map[string]any{"parentFileId": dir, "limit": 100, "type": 1, "startTime": now + 3600}, &all)
	assert.Empty(t, all.FileList)
	assert.Equal(t, wire.ID(wire.ListEnd), all.LastFileID)
	e.ok("POST", wire.PathList, map[string]any{"parentFileId": dir, "limit": 100, "type": 1, "startTime": now - 3600, "endTime": now + 3600}, &all)
	assert.Len(t, all.FileList, 100)
}

func TestDeleteRecursive(t *testing.T) {
	e := newEnv(t, Config{})
	top := e.mkdir("", "top")
	sub := e.mkdir(top, "sub")
	f1 := e.upload(top, "1.jpg", []byte("1"))
	f2 := e.upload(sub, "2.jpg", []byte("2"))
	keep := e.upload("", "keep.jpg", []byte("3"))
	e.ok("POST", wire.PathDelete, map[string]any{"fileIDs": []string{top, "missing-id"}}, nil)
	for _, id := range []string{top, sub, f1, f2} {
		e.fail(wire.CodeNotFound, "GET", wire.PathDetail+"?fileID="+id, nil)
	}
	e.detail(keep)
	// Retrying is safe.
	e.ok("POST", wire.PathDelete, map[string]any{"fileIDs": []string{top}}, nil)
	// The name is free again.
	e.mkdir("", "top")
}

func TestMove(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.mkdir("", "a")
	b := e.mkdir("", "b")
	ab := e.mkdir(a, "ab")
	f := e.upload(a, "f.jpg", []byte("f"))
	g := e.upload(b, "f.jpg", []byte("g"))
	before := e.detail(f)
	// Clash: nothing moves.
	h := e.upload(a, "h.jpg", []byte("h"))
	assert.Contains(t, e.fail(1, "POST", wire.PathMove, map[string]any{"fileIDs": []string{h, f}, "toParentFileID": b}), "重名")
	assert.Equal(t, wire.ID(a), e.detail(h).ParentFileID)
	// Two moved entries with one name clash with each other.
	e.fail(1, "POST", wire.PathMove, map[string]any{"fileIDs": []string{f, g}, "toParentFileID": ab})
	// Into itself or its own subtree.
	assert.Contains(t, e.fail(1, "POST", wire.PathMove, map[string]any{"fileIDs": []string{a}, "toParentFileID": ab}), "subfolder")
	e.fail(1, "POST", wire.PathMove, map[string]any{"fileIDs": []string{a}, "toParentFileID": a})
	// Move a file into a subfolder: ID and link stay.
	e.ok("POST", wire.PathMove, map[string]any{"fileIDs": []string{f}, "toParentFileID": ab}, nil)
	after := e.detail(f)
	assert.Equal(t, wire.ID(ab), after.ParentFileID)
	assert.Equal(t, "ab", after.ParentFilename)
	assert.Equal(t, before.DownloadURL, after.DownloadURL)
	_, body := e.get("GET", after.DownloadURL, nil)
	assert.Equal(t, "f", string(body))
	// Into the root: "" is refused as the official page says (不能为空),
	// the root's own ID (parentFileId of a top-level entry) is accepted.
	msg := e.fail(1, "POST", wire.PathMove, map[string]any{"fileIDs": []string{ab}, "toParentFileID": ""})
	assert.Contains(t, msg, "不能为空")
	assert.Equal(t, wire.ID(a), e.detail(ab).ParentFileID, "a refused move leaves the folder where it was")
	root := e.detail(a).ParentFileID
	require.NotEmpty(t, root, "a top-level entry shows the root's own ID as parentFileId")
	e.ok("POST", wire.PathMove, map[string]any{"fileIDs": []string{ab}, "toParentFileID": root}, nil)
	names := map[string]bool{}
	for _, en := range e.listAll("") {
		names[en.Filename] = true
	}
	assert.Equal(t, map[string]bool{"a": true, "b": true, "ab": true}, names)
	assert.Len(t, e.listAll(ab), 1)
	// Into the folder it is in: refused, as the real service does.
	assert.Contains(t, e.fail(1, "POST", wire.PathMove, map[string]any{"fileIDs": []string{g}, "toParentFileID": b}), "文件已在当前文件夹中")
}

func TestDownload(t *testing.T) {
	e := newEnv(t, Config{})
	data := randBytes(10000, 7)
	id := e.upload("", "pic.png", data)
	en := e.detail(id)
	u := en.DownloadURL
	resp, body := e.get("GET", u, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, data, body)
	assert.Equal(t, `"`+md5hex(data)+`"`, resp.Header.Get("ETag"))
	assert.Equal(t, "10000", resp.Header.Get("Content-Length"))
	assert.NotEmpty(t, resp.Header.Get("Last-Modified"))
	assert.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	resp, body = e.get("GET", u, map[string]string{"Range": "bytes=100-199"})
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Equal(t, data[100:200], body)
	assert.Equal(t, "bytes 100-199/10000", resp.Header.Get("Content-Range"))
	resp, body = e.get("HEAD", u, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body)
	assert.Equal(t, "10000", resp.Header.Get("Content-Length"))
	resp, _ = e.get("GET", u, map[string]string{"If-None-Match": `"` + md5hex(data) + `"`})
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	// Without the extension, public (no headers at all).
	resp, body = e.get("GET", e.url+"/"+e.s.st.meta.UID+"/"+id, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, data, body)
	assert.EqualValues(t, 10000+100+10000, e.detail(id).TotalTraffic)
	// Unknown file, wrong uid.
	resp, _ = e.get("GET", e.url+"/"+e.s.st.meta.UID+"/nope.png", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = e.get("GET", e.url+"/123/"+id+".png", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	// Rejected by moderation.
	e.admin("status", fmt.Sprintf(`{"fileId":%q,"status":150}`, id))
	assert.Equal(t, 150, e.detail(id).Status)
	resp, _ = e.get("GET", u, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	st := e.s.Stats()
	assert.EqualValues(t, 7, st.Calls["GET /__download"])
	assert.EqualValues(t, 1, st.Calls["HEAD /__download"])
}
