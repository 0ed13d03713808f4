package emulator

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// driveFile is a file of the emulated "cloud drive" that copy tasks read.
type driveFile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Size int64  `json:"size"`
	Etag string `json:"etag"`
}

// copyTask is one /api/v1/oss/source/copy task (kept in memory only).
type copyTask struct {
	id      string
	status  int
	failMsg string
	fails   []wire.CopyFailItem
}

// SeedDrive puts a file on the emulated cloud drive and returns its ID,
// for copy tasks to read from.
func (s *Server) SeedDrive(name string, data []byte) (string, error) {
	if err := wire.ValidateName(name); err != nil {
		return "", err
	}
	tmp, size, sum, err := s.stageBlob(bytes.NewReader(data), -1)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.placeBlobLocked(tmp, sum); err != nil {
		return "", err
	}
	d := &driveFile{Name: name, Size: size, Etag: sum}
	for d.ID == "" || s.st.drives[d.ID] != nil {
		d.ID = strconv.Itoa(10000000 + s.randIntN(90000000))
	}
	err = s.commitLocked(&op{Drive: d})
	s.st.unref(sum) // the drive file holds the blob now
	if err != nil {
		return "", err
	}
	return d.ID, nil
}

// imageExt tells whether copy and offline tasks accept this name.
func imageExt(name string) bool {
	return slices.Contains(wire.CopyExtensions, strings.ToLower(extension(name)))
}

// maxCopyTasks is how many copy tasks one account may have waiting or
// running at once (public docs); one more is refused.
const maxCopyTasks = 3

// activeCopiesLocked counts the copy tasks not yet done or failed.
func (s *Server) activeCopiesLocked() int {
	n := 0
	for _, t := range s.copies {
		if t.status == wire.CopyWaiting || t.status == wire.CopyRunning {
			n++
		}
	}
	return n
}

// handleCopy is POST /api/v1/oss/source/copy.
func (s *Server) handleCopy(c *call) (any, *apiError) {
	var req wire.CopyRequest
	if ae := c.decode(&req, "fileIDs", "toParentFileID", "sourceType", "type"); ae != nil {
		return nil, ae
	}
	if ae := requireType(req.Type); ae != nil {
		return nil, ae
	}
	if req.SourceType != "1" { // "1" or 1
		return nil, errf(wire.CodeInternal, "sourceType must be \"1\" (cloud drive), got %q", req.SourceType)
	}
	if ae := checkIDs(req.FileIDs); ae != nil {
		return nil, ae
	}
	s.mu.Lock()
	target, ae := s.st.lookupFolder(req.ToParentFileID)
	if ae != nil {
		s.mu.Unlock()
		return nil, ae
	}
	if n := s.activeCopiesLocked(); n >= maxCopyTasks {
		s.mu.Unlock()
		return nil, errf(wire.CodeInternal, "同时最多只能有%d个复制任务，请等待当前任务完成 (%d running)", maxCopyTasks, n)
	}
	t := &copyTask{id: s.seededString(lowerAlnum, 24), status: wire.CopyWaiting}
	s.copies[t.id] = t
	s.mu.Unlock()
	ids := slices.Clone(req.FileIDs)
	if !s.goBackground(func() { s.runCopy(t, ids, target) }) {
		return nil, errf(wire.CodeInternal, "emulator is closing")
	}
	return wire.CopyData{TaskID: wire.ID(t.id)}, nil
}

// runCopy walks a copy task through waiting → running → done/failed.
func (s *Server) runCopy(t *copyTask, ids []string, target string) {
	step := s.cfg.AsyncDelay / 2
	if !s.sleepCtx(step) {
		return
	}
	s.mu.Lock()
	t.status = wire.CopyRunning
	s.mu.Unlock()
	if !s.sleepCtx(step) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ae := s.st.lookupFolder(target); ae != nil {
		t.status, t.failMsg = wire.CopyFailed, "target folder no longer exists"
		return
	}
	o := &op{}
	names := map[string]bool{}
	ok := 0
	for _, id := range ids {
		d := s.st.drives[id]
		reason := s.copyOneLocked(d, target, o, names)
		if reason == "" {
			ok++
			continue
		}
		item := wire.CopyFailItem{FileID: wire.ID(id)}
		if d != nil {
			item.Filename = d.Name
		}
		t.fails = append(t.fails, item)
		s.log.Debug("copy: file not copied", "task", t.id, "driveFile", id, "reason", reason)
	}
	if len(o.Put) > 0 {
		if err := s.commitLocked(o); err != nil {
			t.status, t.failMsg = wire.CopyFailed, err.Error()
			return
		}
	}
	if ok == 0 {
		t.status, t.failMsg = wire.CopyFailed, fmt.Sprintf("none of the %d files could be copied (see copy/fail)", len(ids))
		return
	}
	t.status = wire.CopyDone
}

// copyOneLocked adds the entry for one drive file to o, or says why not.
func (s *Server) copyOneLocked(d *driveFile, target string, o *op, names map[string]bool) string {
	switch {
	case d == nil:
		return "no such cloud-drive file"
	case !imageExt(d.Name):
		return "not an image type the image host accepts"
	case d.Size > wire.CopyMaxSize:
		return "larger than 100 MB"
	}
	// An image of the same etag and size in the folder is overwritten by
	// the copy (将覆盖原图片): it goes, and the copy takes its place.
	var replaced string
	if f := s.st.folders[target]; f != nil {
		for _, e := range f.order {
			if !e.Dir && e.Etag == d.Etag && e.Size == d.Size && !slices.Contains(o.Del, e.ID) {
				replaced = e.ID
				break
			}
		}
	}
	if other := s.st.childNamed(target, d.Name); (other != "" && other != replaced) || names[d.Name] {
		return msgFileClash
	}
	names[d.Name] = true
	if replaced != "" {
		o.Del = append(o.Del, replaced)
	}
	e := s.newFileEntryLocked(target, d.Name, d.Etag, d.Size)
	e.Created = time.Now()
	o.Put = append(o.Put, e)
	return ""
}

func (s *Server) lookupCopy(c *call) (*copyTask, *apiError) {
	id := c.r.URL.Query().Get("taskID")
	if id == "" {
		return nil, errf(wire.CodeInternal, "missing required query parameter taskID")
	}
	t := s.copies[id]
	if t == nil {
		return nil, errf(wire.CodeInternal, "copy task %q not found", id)
	}
	return t, nil
}

// handleCopyProcess is GET /api/v1/oss/source/copy/process?taskID=.
func (s *Server) handleCopyProcess(c *call) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ae := s.lookupCopy(c)
	if ae != nil {
		return nil, ae
	}
	return wire.CopyProcessData{Status: t.status, FailMsg: t.failMsg}, nil
}

// handleCopyFail is GET /api/v1/oss/source/copy/fail?taskID=&limit=&page=.
func (s *Server) handleCopyFail(c *call) (any, *apiError) {
	q := c.r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > wire.MaxBatch {
		return nil, errf(wire.CodeInternal, "limit must be between 1 and %d, got %q", wire.MaxBatch, q.Get("limit"))
	}
	page := 1
	if q.Has("page") {
		if page, err = strconv.Atoi(q.Get("page")); err != nil || page < 1 {
			return nil, errf(wire.CodeInternal, "page must be 1 or more, got %q", q.Get("page"))
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ae := s.lookupCopy(c)
	if ae != nil {
		return nil, ae
	}
	data := copyFailData{Total: len(t.fails), List: []copyFailItem{}}
	if from := (page - 1) * limit; from < len(t.fails) {
		for _, f := range t.fails[from:min(from+limit, len(t.fails))] {
			data.List = append(data.List, copyFailItem{FileID: docNumber(string(f.FileID)), Filename: f.Filename})
		}
	}
	return data, nil
}

// copyFailData is copy/fail's data as documented: fileId is a number
// (cloud-drive IDs are), unlike wire.CopyFailItem whose ID marshals as a
// string.
type copyFailData struct {
	Total int            `json:"total"`
	List  []copyFailItem `json:"list"`
}

type copyFailItem struct {
	FileID   any    `json:"fileId"`
	Filename string `json:"filename"`
}

// docNumber is id as a JSON number when it is all digits, else as a string.
func docNumber(id string) any {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && strconv.FormatInt(n, 10) == id {
		return n
	}
	return id
}
