package emulator

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// Preupload states.
const (
	preOpen      = "open"      // taking slices
	preAssembled = "assembled" // verified blob, waiting for AsyncDelay
	preDone      = "done"      // FileID exists
	preFailed    = "failed"    // FailCode/FailMsg answer every later call
)

type part struct {
	Size int64  `json:"size"`
	Etag string `json:"etag"`
}

// preupload is an upload between create and completion.
type preupload struct {
	ID        string        `json:"id"`
	Parent    string        `json:"parent"`
	Name      string        `json:"name"`
	Etag      string        `json:"etag"`
	Size      int64         `json:"size"`
	SliceSize int64         `json:"sliceSize"`
	Created   time.Time     `json:"created"`
	State     string        `json:"state"`
	Parts     map[int]*part `json:"parts"`
	ReadyAt   time.Time     `json:"readyAt,omitzero"`
	FileID    string        `json:"fileID,omitempty"`
	FailCode  int           `json:"failCode,omitempty"`
	FailMsg   string        `json:"failMsg,omitempty"`

	completing bool // assembling right now (not persisted)
}

// slices is how many slices the file is cut into (1 for an empty file).
func (p *preupload) slices() int {
	if p.Size == 0 {
		return 1
	}
	return int((p.Size + p.SliceSize - 1) / p.SliceSize)
}

// sliceLen is the exact size slice n must have.
func (p *preupload) sliceLen(n int) int64 {
	if n < p.slices() {
		return p.SliceSize
	}
	return p.Size - int64(p.slices()-1)*p.SliceSize
}

func partName(n int) string { return strconv.Itoa(n) + ".part" }

func (p *preupload) knowsPartFile(name string) bool {
	n, err := strconv.Atoi(strings.TrimSuffix(name, ".part"))
	return err == nil && strings.HasSuffix(name, ".part") && p.Parts[n] != nil
}

// partsDir is where an upload's slices wait. PreuploadIDs hold "/" and
// "+": the directory is named by the ID in unpadded URL-safe base64.
func (s *Server) partsDir(preID string) string {
	return filepath.Join(s.dir, uploadsDir, partsDirName(preID))
}

func partsDirName(preID string) string { return base64.RawURLEncoding.EncodeToString([]byte(preID)) }

// preIDOfDir is the preuploadID a parts directory belongs to, or "".
func preIDOfDir(name string) string {
	b, err := base64.RawURLEncoding.DecodeString(name)
	if err != nil {
		return ""
	}
	return string(b)
}

// putPre stores a preupload record; an assembled one holds its blob.
func (st *state) putPre(p *preupload) {
	if p.Parts == nil {
		p.Parts = map[int]*part{}
	}
	if old := st.pres[p.ID]; old != nil && old.State == preAssembled {
		st.unref(old.Etag)
	}
	st.pres[p.ID] = p
	if p.State == preAssembled {
		st.ref(p.Etag)
	}
}

// preState answers a call about a preupload that is not open.
func preState(p *preupload) *apiError {
	switch p.State {
	case preFailed:
		return errf(p.FailCode, "%s", p.FailMsg)
	case preDone:
		return errf(wire.CodeInternal, "upload %s is already completed (fileID %s)", short(p.ID), p.FileID)
	}
	return errf(wire.CodeInternal, "upload %s is being completed", short(p.ID))
}

func isHex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// handleCreate is POST /upload/v1/oss/file/create.
func (s *Server) handleCreate(c *call) (any, *apiError) {
	var req wire.CreateRequest
	if ae := c.decode(&req, "parentFileID", "filename", "etag", "size", "type"); ae != nil {
		return nil, ae
	}
	if ae := requireType(req.Type); ae != nil {
		return nil, ae
	}
	if err := wire.ValidateName(req.Filename); err != nil {
		return nil, errf(wire.CodeInternal, "invalid filename: %v", err)
	}
	if !isHex32(req.Etag) {
		return nil, errf(wire.CodeInternal, "etag must be the file's md5 as 32 hex digits, got %q", req.Etag)
	}
	etag := strings.ToLower(req.Etag)
	if req.Size < 0 {
		return nil, errf(wire.CodeInternal, "size must not be negative, got %d", req.Size)
	}
	if req.Size == 0 && s.cfg.RejectEmpty {
		return nil, errf(wire.CodeInternal, "empty files are not accepted: size must be greater than 0")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, ae := s.st.lookupFolder(req.ParentFileID)
	if ae != nil {
		return nil, ae
	}
	if s.st.childNamed(parent, req.Filename) != "" {
		return nil, errClash(msgFileClash, req.Filename)
	}
	if s.st.byContent[contentKey(etag, req.Size)] > 0 {
		e := s.newFileEntryLocked(parent, req.Filename, etag, req.Size)
		if err := s.commitLocked(&op{Put: []*entry{e}}); err != nil {
			return nil, errf(wire.CodeInternal, "%v", err)
		}
		s.log.Debug("create: reuse (秒传)", "name", req.Filename, "fileID", e.ID)
		return wire.CreateData{FileID: wire.ID(e.ID), Reuse: true, SliceSize: s.cfg.SliceSize}, nil
	}
	p := &preupload{ID: newPreuploadID(), Parent: parent, Name: req.Filename, Etag: etag,
		Size: req.Size, SliceSize: s.cfg.SliceSize, Created: time.Now(), State: preOpen, Parts: map[int]*part{}}
	if err := os.MkdirAll(s.partsDir(p.ID), 0o700); err != nil {
		return nil, errf(wire.CodeInternal, "storage: %v", err)
	}
	if err := s.commitLocked(&op{Pre: p}); err != nil {
		return nil, errf(wire.CodeInternal, "%v", err)
	}
	return wire.CreateData{PreuploadID: p.ID, SliceSize: p.SliceSize}, nil
}

// lookupPreLocked finds a preupload by ID.
func (s *Server) lookupPreLocked(id string) (*preupload, *apiError) {
	if id == "" {
		return nil, errf(wire.CodeInternal, msgNoPreupload)
	}
	p := s.st.pres[id]
	if p == nil {
		return nil, errf(wire.CodeInternal, "preuploadID %q not found", short(id))
	}
	return p, nil
}

// handleGetUploadURL is POST /upload/v1/oss/file/get_upload_url.
func (s *Server) handleGetUploadURL(c *call) (any, *apiError) {
	var req wire.GetUploadURLRequest
	if ae := c.decode(&req, "preuploadID", "sliceNo"); ae != nil {
		return nil, ae
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ae := s.lookupPreLocked(req.PreuploadID)
	if ae != nil {
		return nil, ae
	}
	if p.State != preOpen || p.completing {
		return nil, preState(p)
	}
	if n := p.slices(); req.SliceNo < 1 || req.SliceNo > n {
		return nil, errf(wire.CodeInternal, "sliceNo %d out of range 1..%d", req.SliceNo, n)
	}
	u := s.presign(c.base(), p.ID, req.SliceNo, time.Now().Add(s.cfg.PresignTTL))
	return wire.GetUploadURLData{PresignedURL: u, IsMultipart: p.slices() > 1}, nil
}

// handleListUploadParts is POST /upload/v1/oss/file/list_upload_parts.
func (s *Server) handleListUploadParts(c *call) (any, *apiError) {
	var req wire.PreuploadRequest
	if ae := c.decode(&req, "preuploadID"); ae != nil {
		return nil, ae
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ae := s.lookupPreLocked(req.PreuploadID)
	if ae != nil {
		return nil, ae
	}
	if p.State == preFailed {
		return nil, preState(p)
	}
	data := wire.ListUploadPartsData{Parts: []wire.Part{}}
	if p.slices() == 1 {
		return data, nil // as documented: empty for single-slice files
	}
	for n, pt := range p.Parts {
		data.Parts = append(data.Parts, wire.Part{PartNumber: n, Size: pt.Size, Etag: pt.Etag})
	}
	sort.Slice(data.Parts, func(i, j int) bool { return data.Parts[i].PartNumber < data.Parts[j].PartNumber })
	return data, nil
}
