package emulator

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// restart opens a new emulator on dir, as a restarted process would.
func restart(t *testing.T, dir string, cfg Config) *env {
	cfg.DataDir = dir
	return newEnv(t, cfg)
}

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, SliceSize: 100, Seed: 7}
	s1, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, s1.Start("127.0.0.1:0"))
	e1 := &env{t: t, s: s1, url: s1.URL(), hc: &http.Client{Timeout: 10 * time.Second}}
	e1.token = e1.newToken("id", "secret")
	folder := e1.mkdir("", "kept")
	data := randBytes(250, 12)
	fileID := e1.upload(folder, "f.jpg", data)
	gone := e1.upload("", "gone.jpg", []byte("bye"))
	e1.ok("POST", wire.PathDelete, map[string]any{"fileIDs": []string{gone}}, nil)
	e1.get("GET", e1.detail(fileID).DownloadURL, nil) // traffic 250
	e1.admin("status", `{"fileId":"`+fileID+`","status":7}`)
	// A pending upload with one of three slices stored.
	pending := randBytes(300, 13)
	c := e1.create("", "pending.png", pending)
	require.Equal(t, http.StatusOK, e1.put(e1.uploadURL(c.PreuploadID, 1), pending[:100], nil))
	url2 := e1.uploadURL(c.PreuploadID, 2)
	driveID, err := s1.SeedDrive("d.png", []byte("drive"))
	require.NoError(t, err)
	require.NoError(t, s1.Close())

	e2 := restart(t, dir, Config{SliceSize: 100})
	e2.token = e1.token // the old token still works
	en := e2.detail(fileID)
	assert.Equal(t, "f.jpg", en.Filename)
	assert.Equal(t, wire.ID(folder), en.ParentFileID)
	assert.EqualValues(t, 250, en.TotalTraffic)
	assert.Equal(t, 7, en.Status)
	assert.True(t, strings.HasPrefix(en.DownloadURL, e2.url+"/"))
	_, body := e2.get("GET", en.DownloadURL, nil)
	assert.Equal(t, data, body)
	e2.fail(wire.CodeNotFound, "GET", wire.PathDetail+"?fileID="+gone, nil)
	assert.Len(t, e2.listAll(""), 1)
	// Resume the pending upload: the signed URL from before still works
	// against the new address's path, and the stored slice is kept.
	var parts wire.ListUploadPartsData
	e2.ok("POST", wire.PathListUploadParts, map[string]string{"preuploadID": c.PreuploadID}, &parts)
	require.Len(t, parts.Parts, 1)
	pathAndQuery := url2[strings.Index(url2, "/__upload/"):]
	require.Equal(t, http.StatusOK, e2.put(e2.url+pathAndQuery, pending[100:200], nil))
	require.Equal(t, http.StatusOK, e2.put(e2.uploadURL(c.PreuploadID, 3), pending[200:], nil))
	var d wire.UploadCompleteData
	e2.ok("POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}, &d)
	assert.True(t, bool(d.Async))
	// The drive file survived too.
	e2.ok("POST", wire.PathCopy, map[string]any{"fileIDs": []string{driveID}, "toParentFileID": "", "sourceType": "1", "type": 1}, nil)
	waitFor(t, "upload and copy", func() bool { return len(e2.listAll("")) == 3 })
}

func TestPersistenceSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	e1 := restart(t, dir, Config{AsyncDelay: 500 * time.Millisecond, SliceSize: 100})
	var ids []string
	for i := range 30 {
		ids = append(ids, e1.upload("", fmt.Sprintf("f%02d.jpg", i), randBytes(50+i, byte(i))))
	}
	e1.ok("POST", wire.PathMove, map[string]any{"fileIDs": ids[:5], "toParentFileID": e1.mkdir("", "sub")}, nil)
	// An assembled multi-slice upload waiting for its async delay.
	big := randBytes(250, 99)
	c := e1.create("", "big.jpg", big)
	e1.putSlices(c.PreuploadID, c.SliceSize, big)
	e1.ok("POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}, nil)
	waitFor(t, "the slices to be joined in the background", func() bool {
		e1.s.mu.Lock()
		defer e1.s.mu.Unlock()
		p := e1.s.st.pres[c.PreuploadID]
		return p != nil && p.State == preAssembled
	})
	// "Kill": copy the directory while the server still runs, then tear the
	// journal's last line as an interrupted write would.
	killed := t.TempDir()
	copyDir(t, dir, killed)
	j, err := os.OpenFile(filepath.Join(killed, journalFile), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = j.WriteString(`{"seq":999999,"put":[{"id":"torn`)
	require.NoError(t, err)
	j.Close()

	e2 := restart(t, killed, Config{AsyncDelay: 50 * time.Millisecond, SliceSize: 100})
	e2.token = e1.token
	assert.Len(t, e2.listAll(""), 26) // 25 files + sub
	for _, id := range ids {
		en := e2.detail(id)
		_, body := e2.get("GET", en.DownloadURL, nil)
		assert.Equal(t, en.Etag, md5hex(body))
	}
	// The assembled upload completes after the restart, by itself.
	waitFor(t, "assembled upload to complete", func() bool { return len(e2.listAll("")) == 27 })
	var r wire.UploadAsyncResultData
	e2.ok("POST", wire.PathUploadAsyncResult, map[string]string{"preuploadID": c.PreuploadID}, &r)
	require.True(t, bool(r.Completed))
	_, body := e2.get("GET", e2.detail(string(r.FileID)).DownloadURL, nil)
	assert.Equal(t, big, body)
}

func TestPersistenceCompaction(t *testing.T) {
	dir := t.TempDir()
	e1 := restart(t, dir, Config{})
	ids := []string{}
	for i := range 20 {
		ids = append(ids, e1.mkdir("", "d"+string(rune('a'+i))))
	}
	e1.s.mu.Lock()
	require.NoError(t, e1.s.snapshotLocked())
	e1.s.mu.Unlock()
	st, err := os.Stat(filepath.Join(dir, journalFile))
	require.NoError(t, err)
	assert.Zero(t, st.Size())
	e1.ok("POST", wire.PathDelete, map[string]any{"fileIDs": ids[:10]}, nil)
	killed := t.TempDir()
	copyDir(t, dir, killed)
	e2 := restart(t, killed, Config{})
	e2.token = e1.token
	assert.Len(t, e2.listAll(""), 10)
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	}))
}

func TestDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	s1, err := New(Config{DataDir: dir})
	require.NoError(t, err)
	_, err = New(Config{DataDir: dir})
	assert.ErrorContains(t, err, "in use")
	require.NoError(t, s1.Close())
	s2, err := New(Config{DataDir: dir})
	require.NoError(t, err)
	require.NoError(t, s2.Close())
}
