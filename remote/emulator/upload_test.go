package emulator

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// A single-slice upload above AsyncAbove completes asynchronously, as the
// official example shows (async:true, completed:false); one at the
// threshold completes at once.
func TestSingleSliceAboveAsyncAbove(t *testing.T) {
	e := newEnv(t, Config{AsyncAbove: 1000, AsyncDelay: 200 * time.Millisecond})
	for _, tc := range []struct {
		size  int
		async bool
	}{{1000, false}, {1001, true}} {
		data := randBytes(tc.size, byte(tc.size))
		c := e.create("", fmt.Sprintf("s%d.png", tc.size), data)
		require.EqualValues(t, DefaultSliceSize, c.SliceSize)
		e.putSlices(c.PreuploadID, c.SliceSize, data)
		var d wire.UploadCompleteData
		e.ok("POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}, &d)
		assert.Equal(t, tc.async, bool(d.Async), "%d bytes: async", tc.size)
		assert.Equal(t, !tc.async, bool(d.Completed), "%d bytes: completed", tc.size)
		var r wire.UploadAsyncResultData
		e.ok("POST", wire.PathUploadAsyncResult, map[string]string{"preuploadID": c.PreuploadID}, &r)
		assert.Equal(t, !tc.async, bool(r.Completed), "%d bytes: completed right after upload_complete", tc.size)
	}
	e2 := newEnv(t, Config{AsyncAbove: AsyncNever})
	data := randBytes(5<<20, 3)
	c := e2.create("", "big.png", data)
	e2.putSlices(c.PreuploadID, c.SliceSize, data)
	var d wire.UploadCompleteData
	e2.ok("POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}, &d)
	assert.True(t, bool(d.Completed), "AsyncNever: a 5 MiB single slice completes at once")
}

func TestUploadSingleSlice(t *testing.T) {
	e := newEnv(t, Config{})
	dir := e.mkdir("", "图床")
	data := []byte("an image, honestly")
	c := e.create(dir, "测试.jpg", data)
	require.False(t, bool(c.Reuse))
	require.NotEmpty(t, c.PreuploadID)
	assert.EqualValues(t, DefaultSliceSize, c.SliceSize)
	var u wire.GetUploadURLData
	e.ok("POST", wire.PathGetUploadURL, map[string]any{"preuploadID": c.PreuploadID, "sliceNo": 1}, &u)
	assert.False(t, bool(u.IsMultipart))
	assert.True(t, strings.HasPrefix(u.PresignedURL, e.url+"/"), u.PresignedURL)
	e.fail(1, "POST", wire.PathGetUploadURL, map[string]any{"preuploadID": c.PreuploadID, "sliceNo": 2})
	// Completing before the slice arrived is refused.
	assert.Contains(t, e.fail(1, "POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}), "slices")
	require.Equal(t, http.StatusOK, e.put(u.PresignedURL, data, nil))
	var parts wire.ListUploadPartsData
	e.ok("POST", wire.PathListUploadParts, map[string]string{"preuploadID": c.PreuploadID}, &parts)
	assert.Empty(t, parts.Parts, "single-slice uploads list no parts")
	var d wire.UploadCompleteData
	e.ok("POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}, &d)
	require.True(t, bool(d.Completed))
	assert.False(t, bool(d.Async))
	require.NotEmpty(t, d.FileID)
	// Idempotent.
	var again wire.UploadCompleteData
	e.ok("POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}, &again)
	assert.Equal(t, d, again)
	var ar wire.UploadAsyncResultData
	e.ok("POST", wire.PathUploadAsyncResult, map[string]string{"preuploadID": c.PreuploadID}, &ar)
	assert.Equal(t, wire.UploadAsyncResultData{Completed: true, FileID: d.FileID}, ar)
	// The presigned URL is dead now.
	assert.Equal(t, http.StatusForbidden, e.put(u.PresignedURL, data, nil))

	en := e.detail(string(d.FileID))
	assert.Equal(t, "测试.jpg", en.Filename)
	assert.Equal(t, wire.EntryFile, en.Type)
	assert.EqualValues(t, len(data), en.Size)
	assert.Equal(t, md5hex(data), en.Etag)
	assert.Equal(t, 2, en.Status)
	assert.Equal(t, wire.ID(dir), en.ParentFileID)
	assert.Equal(t, "图床", en.ParentFilename)
	assert.Equal(t, "jpg", en.Extension)
	assert.Equal(t, en.DownloadURL, en.UserSelfURL)
	assert.True(t, strings.HasSuffix(en.DownloadURL, "/"+string(d.FileID)+".jpg"), en.DownloadURL)
	ct, err := wire.ParseTime(en.CreateAt)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), ct, 5*time.Second)
	_, body := e.get("GET", en.DownloadURL, nil)
	assert.Equal(t, data, body)
	// Folder detail and the root's own ID.
	fd := e.detail(dir)
	assert.Equal(t, wire.EntryFolder, fd.Type)
	assert.Equal(t, 0, fd.Status)
	assert.Equal(t, "img_oss", fd.ParentFilename)
	top := e.list(string(fd.ParentFileID), 10, "")
	assert.Len(t, top.FileList, 1)
}

func TestUploadMultiSliceAsync(t *testing.T) {
	e := newEnv(t, Config{SliceSize: 1024, AsyncDelay: 400 * time.Millisecond})
	data := randBytes(3*1024+500, 1)
	c := e.create("", "big.png", data)
	require.EqualValues(t, 1024, c.SliceSize)
	var u wire.GetUploadURLData
	e.ok("POST", wire.PathGetUploadURL, map[string]any{"preuploadID": c.PreuploadID, "sliceNo": 4}, &u)
	assert.True(t, bool(u.IsMultipart))
	e.fail(1, "POST", wire.PathGetUploadURL, map[string]any{"preuploadID": c.PreuploadID, "sliceNo": 5})
	e.fail(1, "POST", wire.PathGetUploadURL, map[string]any{"preuploadID": c.PreuploadID, "sliceNo": 0})
	// Slices out of order; slice 2 first with wrong bytes, then replaced.
	require.Equal(t, http.StatusOK, e.put(u.PresignedURL, data[3072:], nil))
	require.Equal(t, http.StatusOK, e.put(e.uploadURL(c.PreuploadID, 2), make([]byte, 1024), nil))
	require.Equal(t, http.StatusOK, e.put(e.uploadURL(c.PreuploadID, 1), data[:1024], nil))
	var parts wire.ListUploadPartsData
	e.ok("POST", wire.PathListUploadParts, map[string]string{"preuploadID": c.PreuploadID}, &parts)
	require.Len(t, parts.Parts, 3)
	assert.Equal(t, []int{1, 2, 4}, []int{parts.Parts[0].PartNumber, parts.Parts[1].PartNumber, parts.Parts[2].PartNumber})
	assert.Equal(t, md5hex(make([]byte, 1024)), parts.Parts[1].Etag)
	assert.EqualValues(t, 500, parts.Parts[2].Size)
	assert.Contains(t, e.fail(1, "POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}), "3")
	require.Equal(t, http.StatusOK, e.put(e.uploadURL(c.PreuploadID, 2), data[1024:2048], nil))
	require.Equal(t, http.StatusOK, e.put(e.uploadURL(c.PreuploadID, 3), data[2048:3072], nil))
	e.ok("POST", wire.PathListUploadParts, map[string]string{"preuploadID": c.PreuploadID}, &parts)
	assert.Equal(t, md5hex(data[1024:2048]), parts.Parts[1].Etag)

	var d wire.UploadCompleteData
	e.ok("POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}, &d)
	assert.Equal(t, wire.UploadCompleteData{Async: true}, d)
	var ar wire.UploadAsyncResultData
	e.ok("POST", wire.PathUploadAsyncResult, map[string]string{"preuploadID": c.PreuploadID}, &ar)
	assert.False(t, bool(ar.Completed))
	assert.Empty(t, e.listAll(""), "file must not exist before AsyncDelay")
	// It appears by itself after AsyncDelay, without polling.
	var files []wire.Entry
	waitFor(t, "file to appear", func() bool { files = e.listAll(""); return len(files) == 1 })
	e.ok("POST", wire.PathUploadAsyncResult, map[string]string{"preuploadID": c.PreuploadID}, &ar)
	assert.Equal(t, wire.UploadAsyncResultData{Completed: true, FileID: files[0].FileID}, ar)
	e.ok("POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}, &d)
	assert.Equal(t, wire.UploadCompleteData{Completed: true, Async: true, FileID: files[0].FileID}, d)
	_, body := e.get("GET", files[0].DownloadURL, nil)
	assert.Equal(t, data, body)
}

func TestUploadMD5Mismatch(t *testing.T) {
	for _, size := range []int{100, 2500} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			e := newEnv(t, Config{SliceSize: 1024})
			data := randBytes(size, 2)
			c := e.create("", "x.jpg", data)
			other := randBytes(size, 3)
			e.putSlices(c.PreuploadID, c.SliceSize, other)
			var msg string
			if size <= 1024 {
				// one slice: completed at once, so refused at once
				msg = e.fail(1, "POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID})
			} else {
				// several slices: completion is asynchronous, and the
				// check's failure is what upload_async_result answers
				var d wire.UploadCompleteData
				e.ok("POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}, &d)
				assert.True(t, bool(d.Async))
				waitFor(t, "the check to fail", func() bool {
					env := e.call("POST", wire.PathUploadAsyncResult, map[string]string{"preuploadID": c.PreuploadID}, nil)
					msg = env.Message
					return env.Code == 1
				})
			}
			assert.Contains(t, msg, "md5")
			assert.Empty(t, e.listAll(""))
			// Discarded: every later call fails, the name is free.
			e.fail(1, "POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID})
			e.fail(1, "POST", wire.PathUploadAsyncResult, map[string]string{"preuploadID": c.PreuploadID})
			e.fail(1, "POST", wire.PathGetUploadURL, map[string]any{"preuploadID": c.PreuploadID, "sliceNo": 1})
			e.upload("", "x.jpg", data)
			assert.Len(t, e.listAll(""), 1)
		})
	}
}

func TestUploadClashAtCompletion(t *testing.T) {
	e := newEnv(t, Config{})
	data := []byte("one")
	c := e.create("", "n.jpg", data)
	e.putSlices(c.PreuploadID, c.SliceSize, data)
	e.upload("", "n.jpg", []byte("two")) // takes the name meanwhile
	assert.Contains(t, e.fail(1, "POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}), "该目录下文件名重复无法创建")
}

func TestReuseAndSharedBlobs(t *testing.T) {
	e := newEnv(t, Config{})
	data := randBytes(5000, 4)
	id1 := e.upload("", "a.jpg", data)
	c := e.create("", "b.jpg", data)
	require.True(t, bool(c.Reuse))
	require.NotEmpty(t, c.FileID)
	assert.Empty(t, c.PreuploadID)
	assert.NotEqual(t, id1, string(c.FileID))
	d1, d2 := e.detail(id1), e.detail(string(c.FileID))
	assert.Equal(t, "b.jpg", d2.Filename)
	assert.NotEqual(t, d1.DownloadURL, d2.DownloadURL)
	blob := blobPath(e.s.dir, md5hex(data))
	require.FileExists(t, blob)
	e.ok("POST", wire.PathDelete, map[string]any{"fileIDs": []string{id1}}, nil)
	_, body := e.get("GET", d2.DownloadURL, nil)
	assert.Equal(t, data, body, "the other entry keeps the shared blob")
	e.ok("POST", wire.PathDelete, map[string]any{"fileIDs": []string{string(c.FileID)}}, nil)
	assert.NoFileExists(t, blob, "a blob nobody uses is removed")
	// Same size, other content: no reuse.
	assert.False(t, bool(e.create("", "c.jpg", randBytes(5000, 5)).Reuse))
}

func TestZeroByteFiles(t *testing.T) {
	e := newEnv(t, Config{})
	// Complete with no parts at all.
	c := e.create("", "empty1.png", nil)
	require.False(t, bool(c.Reuse))
	var d wire.UploadCompleteData
	e.ok("POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}, &d)
	require.True(t, bool(d.Completed))
	// Or with one 0-byte PUT; then reuse.
	c2 := e.create("", "empty2.png", nil)
	require.True(t, bool(c2.Reuse), "identical empty file reuses")
	resp, body := e.get("GET", e.detail(string(d.FileID)).DownloadURL, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body)

	r := newEnv(t, Config{RejectEmpty: true})
	msg := r.fail(1, "POST", wire.PathCreate, map[string]any{"parentFileID": "", "filename": "e.png", "etag": md5hex(nil), "size": 0, "type": 1})
	assert.Contains(t, msg, "empty")
}

func TestPresignedPutRules(t *testing.T) {
	e := newEnv(t, Config{SliceSize: 100})
	data := randBytes(250, 6)
	c := e.create("", "p.jpg", data)
	u1 := e.uploadURL(c.PreuploadID, 1)
	u3 := e.uploadURL(c.PreuploadID, 3)
	pu, err := url.Parse(u1)
	require.NoError(t, err)
	q := pu.Query()
	exp := q.Get("expires")
	forged := strings.Replace(u1, "signature="+q.Get("signature"), "signature="+strings.Repeat("0", 64), 1)
	otherSlice := strings.Replace(u1, "/1?", "/2?", 1) // signature of slice 1 used for slice 2
	e.s.mu.RLock()
	past := time.Now().Add(-time.Minute)
	expired := e.s.presign(e.url, c.PreuploadID, 1, past)
	unknown := e.s.presign(e.url, "nonexistent", 1, time.Now().Add(time.Minute))
	e.s.mu.RUnlock()
	require.NotEmpty(t, exp)
	cases := []struct {
		name   string
		url    string
		body   []byte
		hdr    map[string]string
		status int
	}{
		{"with Authorization", u1, data[:100], map[string]string{"Authorization": "Bearer " + e.token}, 403},
		{"with Platform", u1, data[:100], map[string]string{"Platform": "open_platform"}, 403},
		{"forged", forged, data[:100], nil, 403},
		{"signature of another slice", otherSlice, data[100:200], nil, 403},
		{"expired", expired, data[:100], nil, 403},
		{"unknown preupload", unknown, data[:100], nil, 403},
		{"short slice", u1, data[:99], nil, 400},
		{"long slice", u1, data[:101], nil, 400},
		{"last slice too long", u3, data[150:], nil, 400},
		{"good", u1, data[:100], nil, 200},
		{"good last", u3, data[200:], nil, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.status, e.put(tc.url, tc.body, tc.hdr))
		})
	}
	// A chunked body of the wrong size is refused too.
	req, _ := http.NewRequest(http.MethodPut, e.uploadURL(c.PreuploadID, 2), struct{ *bytes.Reader }{bytes.NewReader(data[:50])})
	resp, err := e.hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	var parts wire.ListUploadPartsData
	e.ok("POST", wire.PathListUploadParts, map[string]string{"preuploadID": c.PreuploadID}, &parts)
	assert.Len(t, parts.Parts, 2)
	// No stray temp files from refused PUTs.
	files, err := os.ReadDir(e.s.partsDir(c.PreuploadID))
	require.NoError(t, err)
	assert.Len(t, files, 2)
}

func TestConcurrentUploads(t *testing.T) {
	e := newEnv(t, Config{SliceSize: 512, AsyncDelay: 50 * time.Millisecond})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := randBytes(1000+i*300, byte(10+i))
			e.upload("", fmt.Sprintf("f%d.jpg", i), data)
		}()
	}
	wg.Wait()
	files := e.listAll("")
	require.Len(t, files, 8)
	for _, f := range files {
		_, body := e.get("GET", f.DownloadURL, nil)
		assert.Equal(t, f.Etag, md5hex(body))
	}
}
