package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

func TestCopyTask(t *testing.T) {
	e := newEnv(t, Config{})
	dst := e.mkdir("", "dst")
	png := randBytes(3000, 8)
	existing := randBytes(2000, 9)
	old := e.upload(dst, "already.gif", existing)
	pngID, err := e.s.SeedDrive("cat.PNG", png)
	require.NoError(t, err)
	txtID, err := e.s.SeedDrive("notes.txt", []byte("text"))
	require.NoError(t, err)
	var seeded struct {
		FileID string `json:"fileId"`
	}
	require.NoError(t, json.Unmarshal(e.admin("drive?name=same.gif", string(existing)), &seeded))
	require.NotEmpty(t, seeded.FileID)

	var cd wire.CopyData
	e.ok("POST", wire.PathCopy, map[string]any{"fileIDs": []string{pngID, txtID, seeded.FileID, "missing"},
		"toParentFileID": dst, "sourceType": "1", "type": 1}, &cd)
	require.NotEmpty(t, cd.TaskID)
	var pd wire.CopyProcessData
	e.ok("GET", wire.PathCopyProcess+"?taskID="+string(cd.TaskID), nil, &pd)
	assert.Contains(t, []int{wire.CopyWaiting, wire.CopyRunning}, pd.Status)
	waitFor(t, "copy task", func() bool {
		e.ok("GET", wire.PathCopyProcess+"?taskID="+string(cd.TaskID), nil, &pd)
		return pd.Status == wire.CopyDone || pd.Status == wire.CopyFailed
	})
	assert.Equal(t, wire.CopyDone, pd.Status, pd.FailMsg)
	files := e.listAll(dst)
	names := map[string]string{}
	for _, f := range files {
		names[f.Filename] = f.Etag
	}
	assert.Equal(t, map[string]string{"same.gif": md5hex(existing), "cat.PNG": md5hex(png)}, names,
		"the same image (etag and size) is overwritten by the copy, txt skipped")
	var fd wire.CopyFailData
	raw := e.call("GET", wire.PathCopyFail+"?taskID="+string(cd.TaskID)+"&limit=10", nil, nil)
	assert.Contains(t, string(raw.Data), `"fileId":`+txtID+`,`, "copy/fail's fileId is a number as documented")
	e.ok("GET", wire.PathCopyFail+"?taskID="+string(cd.TaskID)+"&limit=1&page=1", nil, &fd)
	assert.EqualValues(t, 2, fd.Total)
	require.Len(t, fd.List, 1)
	assert.Equal(t, wire.CopyFailItem{FileID: wire.ID(txtID), Filename: "notes.txt"}, fd.List[0])
	e.ok("GET", wire.PathCopyFail+"?taskID="+string(cd.TaskID)+"&limit=1&page=2", nil, &fd)
	assert.Equal(t, wire.ID("missing"), fd.List[0].FileID)
	e.ok("GET", wire.PathCopyFail+"?taskID="+string(cd.TaskID)+"&limit=10&page=3", nil, &fd)
	assert.Empty(t, fd.List)
	e.fail(1, "GET", wire.PathCopyFail+"?taskID="+string(cd.TaskID)+"&limit=101", nil)
	e.fail(wire.CodeNotFound, "GET", wire.PathDetail+"?fileID="+old, nil)
	// Copied file downloads.
	for _, f := range files {
		if f.Filename == "cat.PNG" {
			_, body := e.get("GET", f.DownloadURL, nil)
			assert.Equal(t, png, body)
		}
	}
	// A task where nothing can be copied fails.
	e.ok("POST", wire.PathCopy, map[string]any{"fileIDs": []string{txtID}, "toParentFileID": "", "sourceType": "1", "type": 1}, &cd)
	waitFor(t, "failing copy task", func() bool {
		e.ok("GET", wire.PathCopyProcess+"?taskID="+string(cd.TaskID), nil, &pd)
		return pd.Status == wire.CopyFailed
	})
	assert.NotEmpty(t, pd.FailMsg)
}

// At most three copy tasks at once per account: the fourth is refused
// until one ends.
func TestCopyTaskLimit(t *testing.T) {
	e := newEnv(t, Config{AsyncDelay: 400 * time.Millisecond})
	pic, err := e.s.SeedDrive("p.png", randBytes(100, 1))
	require.NoError(t, err)
	req := map[string]any{"fileIDs": []string{pic}, "toParentFileID": "", "sourceType": 1, "type": 1}
	var tasks []string
	for range 3 {
		var cd wire.CopyData
		e.ok("POST", wire.PathCopy, req, &cd)
		tasks = append(tasks, string(cd.TaskID))
	}
	assert.Contains(t, e.fail(1, "POST", wire.PathCopy, req), "3")
	waitFor(t, "copy tasks", func() bool {
		var pd wire.CopyProcessData
		e.ok("GET", wire.PathCopyProcess+"?taskID="+tasks[0], nil, &pd)
		return pd.Status == wire.CopyDone
	})
	waitFor(t, "a free copy slot", func() bool { return e.call("POST", wire.PathCopy, req, nil).Code == 0 })
	assert.Len(t, e.listAll(""), 1, "one image copied four times is one image")
}

func TestOfflineTask(t *testing.T) {
	e := newEnv(t, Config{})
	img := randBytes(20000, 11)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/img/photo.webp", "/other":
			w.Write(img)
		case "/doc.txt":
			w.Write([]byte("text"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer src.Close()
	var mu sync.Mutex
	var callbacks []map[string]any
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		callbacks = append(callbacks, m)
		mu.Unlock()
	}))
	defer cb.Close()

	run := func(body map[string]any) (int64, wire.OfflineProcessData) {
		t.Helper()
		env := e.call("POST", wire.PathOffline, body, nil)
		require.Equal(t, 0, env.Code, env.Message)
		var raw struct {
			TaskID json.RawMessage `json:"taskID"`
		}
		require.NoError(t, json.Unmarshal(env.Data, &raw))
		var id int64
		require.NoError(t, json.Unmarshal(raw.TaskID, &id), "taskID must be a JSON number: %s", raw.TaskID)
		var pd wire.OfflineProcessData
		waitFor(t, "offline task", func() bool {
			e.ok("GET", fmt.Sprintf("%s?taskID=%d", wire.PathOfflineProcess, id), nil, &pd)
			return pd.Status != wire.OfflineRunning
		})
		return id, pd
	}
	_, pd := run(map[string]any{"url": src.URL + "/img/photo.webp", "callBackUrl": cb.URL, "type": 1})
	assert.Equal(t, wire.OfflineDone, pd.Status)
	assert.EqualValues(t, 100, pd.Process)
	top := e.listAll("")
	require.Len(t, top, 1)
	assert.Equal(t, wire.OfflineDefaultDir, top[0].Filename)
	in := e.listAll(string(top[0].FileID))
	require.Len(t, in, 1)
	assert.Equal(t, "photo.webp", in[0].Filename)
	_, body := e.get("GET", in[0].DownloadURL, nil)
	assert.Equal(t, img, body)
	waitFor(t, "callback", func() bool { mu.Lock(); defer mu.Unlock(); return len(callbacks) == 1 })
	mu.Lock()
	assert.Equal(t, map[string]any{"url": src.URL + "/img/photo.webp", "status": 0.0, "failReason": "", "fileID": string(in[0].FileID)},
		callbacks[0], "callback body of a success: status 0")
	mu.Unlock()
	_, pd = run(map[string]any{"url": src.URL + "/gone.png", "callBackUrl": cb.URL, "type": 1})
	assert.Equal(t, wire.OfflineFailed, pd.Status)
	waitFor(t, "callback of a failure", func() bool { mu.Lock(); defer mu.Unlock(); return len(callbacks) == 2 })
	mu.Lock()
	assert.EqualValues(t, 1, callbacks[1]["status"], "callback of a failure: status 1")
	assert.NotEmpty(t, callbacks[1]["failReason"])
	assert.Equal(t, src.URL+"/gone.png", callbacks[1]["url"])
	mu.Unlock()

	// Into a chosen folder, with a chosen name; same image there again: no duplicate.
	dir := e.mkdir("", "mine")
	_, pd = run(map[string]any{"url": src.URL + "/other", "fileName": "x.jpg", "businessDirID": dir, "type": 1})
	assert.Equal(t, wire.OfflineDone, pd.Status)
	_, pd = run(map[string]any{"url": src.URL + "/other", "fileName": "y.jpg", "businessDirID": dir, "type": 1})
	assert.Equal(t, wire.OfflineDone, pd.Status)
	assert.Len(t, e.listAll(dir), 1)
	// Failures: not an image, 404.
	_, pd = run(map[string]any{"url": src.URL + "/doc.txt", "type": 1})
	assert.Equal(t, wire.OfflineFailed, pd.Status)
	_, pd = run(map[string]any{"url": src.URL + "/missing.png", "type": 1})
	assert.Equal(t, wire.OfflineFailed, pd.Status)
	e.fail(wire.CodeNotFound, "POST", wire.PathOffline, map[string]any{"url": src.URL + "/a.png", "businessDirID": "nope", "type": 1})
	e.fail(1, "POST", wire.PathOffline, map[string]any{"url": src.URL + "/a.png", "callBackUrl": "http://10.9.9.9/cb", "type": 1})
	e.fail(1, "POST", wire.PathOffline, map[string]any{"url": src.URL + "/", "type": 1})
}

func TestOfflineTooBig(t *testing.T) {
	e := newEnv(t, Config{})
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(wire.CopyMaxSize+1))
		io.Copy(w, io.LimitReader(zeroReader{}, wire.CopyMaxSize+1))
	}))
	defer src.Close()
	var d struct {
		TaskID int64 `json:"taskID"`
	}
	e.ok("POST", wire.PathOffline, map[string]any{"url": src.URL + "/huge.png", "type": 1}, &d)
	var pd wire.OfflineProcessData
	waitFor(t, "offline task", func() bool {
		e.ok("GET", fmt.Sprintf("%s?taskID=%d", wire.PathOfflineProcess, d.TaskID), nil, &pd)
		return pd.Status != wire.OfflineRunning
	})
	assert.Equal(t, wire.OfflineFailed, pd.Status)
	assert.Empty(t, e.listAll(""))
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "a.localhost": true, "10.0.0.1": false, "8.8.8.8": false} {
		assert.Equal(t, want, isLoopbackHost(t.Context(), host), host)
	}
	assert.True(t, strings.Contains(loopbackOnly("tcp", "8.8.8.8:80", nil).Error(), "loopback"))
	assert.NoError(t, loopbackOnly("tcp", "127.0.0.1:80", nil))
}
