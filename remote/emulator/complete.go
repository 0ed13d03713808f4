package emulator

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// handleUploadComplete is POST /upload/v1/oss/file/upload_complete. It
// concatenates the slices, checks the md5 against create's etag, and then
// creates the file at once (one slice up to AsyncAbove) or, for several
// slices or one larger slice, answers async at once and does the joining,
// the check and, AsyncDelay later, the creation in the background.
func (s *Server) handleUploadComplete(c *call) (any, *apiError) {
	var req wire.PreuploadRequest
	if ae := c.decode(&req, "preuploadID"); ae != nil {
		return nil, ae
	}
	s.mu.Lock()
	p, ae := s.lookupPreLocked(req.PreuploadID)
	if ae != nil {
		s.mu.Unlock()
		return nil, ae
	}
	async := s.isAsync(p)
	switch {
	case p.State == preDone:
		s.mu.Unlock()
		return wire.UploadCompleteData{Completed: true, Async: wire.Flag(async), FileID: wire.ID(p.FileID)}, nil
	case p.State == preAssembled:
		s.mu.Unlock()
		return wire.UploadCompleteData{Async: true}, nil
	case p.State == preFailed:
		s.mu.Unlock()
		return nil, preState(p)
	case p.completing:
		s.mu.Unlock()
		return nil, errf(wire.CodeVerifying, "file is being verified, retry in 1 s")
	}
	if ae := s.readyToCompleteLocked(p); ae != nil {
		s.mu.Unlock()
		return nil, ae
	}
	var files []string
	for n := 1; n <= p.slices(); n++ {
		if p.Parts[n] != nil {
			files = append(files, filepath.Join(s.partsDir(p.ID), partName(n)))
		}
	}
	p.completing = true
	s.mu.Unlock()
	if !async {
		return s.completeUpload(p, files, false)
	}
	// An asynchronous completion answers at once, as 123pan does: the
	// slices are joined and hashed in the background, and
	// upload_async_result says "not yet" meanwhile.
	if !s.goBackground(func() { s.completeUpload(p, files, true) }) {
		s.mu.Lock()
		p.completing = false
		s.mu.Unlock()
		return nil, errf(wire.CodeInternal, "emulator is closing")
	}
	return wire.UploadCompleteData{Async: true}, nil
}

// completeUpload joins and hashes p's slices (files) and creates the file,
// at once or (async) after AsyncDelay. A failure of an asynchronous
// completion fails the preupload, for upload_async_result to report.
func (s *Server) completeUpload(p *preupload, files []string, async bool) (any, *apiError) {
	tmp, sum, err := s.assemble(files)

	s.mu.Lock()
	defer s.mu.Unlock()
	p.completing = false
	if err == nil && s.closed {
		os.Remove(tmp)
		err = fmt.Errorf("emulator is closing")
	}
	if err != nil {
		s.log.Error("assembling upload", "pre", short(p.ID), "err", err)
		ae := errf(wire.CodeInternal, "storage error while assembling the upload: %v", err)
		if async && !s.closed {
			np := *p
			np.State, np.FailCode, np.FailMsg = preFailed, ae.code, ae.msg
			if cerr := s.commitLocked(&op{Pre: &np}); cerr != nil {
				s.log.Error("recording a failed upload", "pre", short(p.ID), "err", cerr)
			}
		}
		return nil, ae
	}
	if sum != p.Etag {
		os.Remove(tmp)
		np := *p
		np.State, np.FailCode = preFailed, wire.CodeInternal
		np.FailMsg = fmt.Sprintf("md5 of the uploaded data (%s) does not match the etag given to create (%s): upload discarded", sum, p.Etag)
		if err := s.commitLocked(&op{Pre: &np}); err != nil {
			return nil, errf(wire.CodeInternal, "%v", err)
		}
		os.RemoveAll(s.partsDir(p.ID))
		s.log.Info("upload failed md5 check", "pre", short(p.ID), "name", p.Name)
		return nil, errf(np.FailCode, "%s", np.FailMsg)
	}
	if err := s.placeBlobLocked(tmp, sum); err != nil {
		return nil, errf(wire.CodeInternal, "storage: %v", err)
	}
	np := *p
	np.State = preAssembled
	np.ReadyAt = time.Now()
	if async {
		np.ReadyAt = np.ReadyAt.Add(s.cfg.AsyncDelay)
	}
	err = s.commitLocked(&op{Pre: &np})
	s.st.unref(sum) // the pending preupload holds the blob now
	if err != nil {
		return nil, errf(wire.CodeInternal, "%v", err)
	}
	os.RemoveAll(s.partsDir(p.ID))
	if async && s.cfg.AsyncDelay > 0 {
		s.scheduleFinalizeLocked(&np)
		return wire.UploadCompleteData{Async: true}, nil
	}
	done := s.finalizeLocked(np.ID)
	if done.State == preFailed {
		return nil, preState(done)
	}
	if async {
		return wire.UploadCompleteData{Async: true}, nil
	}
	return wire.UploadCompleteData{Completed: true, FileID: wire.ID(done.FileID)}, nil
}

// isAsync tells whether upload_complete answers async for p: several
// slices, or one slice larger than AsyncAbove.
func (s *Server) isAsync(p *preupload) bool {
	return p.slices() > 1 || (s.cfg.AsyncAbove >= 0 && p.Size > s.cfg.AsyncAbove)
}

// readyToCompleteLocked checks that every slice arrived, the folder still
// exists and the name is free.
func (s *Server) readyToCompleteLocked(p *preupload) *apiError {
	var missing []string
	for n := 1; n <= p.slices(); n++ {
		if p.Parts[n] == nil && p.Size > 0 {
			missing = append(missing, fmt.Sprint(n))
		}
	}
	if len(missing) > 0 {
		if len(missing) > 20 {
			missing = append(missing[:20], "…")
		}
		return errf(wire.CodeInternal, "slices not uploaded yet: %s (of %d); upload every slice before upload_complete",
			strings.Join(missing, ", "), p.slices())
	}
	parent, ae := s.st.lookupFolder(p.Parent)
	if ae != nil {
		return errf(wire.CodeNotFound, "the target folder of this upload no longer exists: %s", ae.msg)
	}
	if s.st.childNamed(parent, p.Name) != "" {
		return errClash(msgFileClash, p.Name)
	}
	return nil
}

// assemble concatenates the part files into a staged blob and hashes it.
func (s *Server) assemble(files []string) (tmp, md5hex string, err error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, blobsDir), "assemble-*.tmp")
	if err != nil {
		return "", "", err
	}
	h := md5.New()
	for _, name := range files {
		var src *os.File
		if src, err = os.Open(name); err != nil {
			break
		}
		_, err = hashingCopy(f, src, h)
		src.Close()
		if err != nil {
			break
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", "", err
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

// finalizeLocked turns an assembled upload into a file (or a failure when
// its folder went away or its name got taken meanwhile).
func (s *Server) finalizeLocked(id string) *preupload {
	p := s.st.pres[id]
	if p == nil || p.State != preAssembled {
		return p
	}
	if t := s.timers[id]; t != nil {
		t.Stop()
		delete(s.timers, id)
	}
	np := *p
	o := &op{Pre: &np}
	parent, ae := s.st.lookupFolder(p.Parent)
	switch {
	case ae != nil:
		np.State, np.FailCode = preFailed, wire.CodeNotFound
		np.FailMsg = "the target folder of this upload was deleted before it completed: " + ae.msg
	case s.st.childNamed(parent, p.Name) != "":
		np.State, np.FailCode, np.FailMsg = preFailed, wire.CodeInternal, errClash(msgFileClash, p.Name).msg
	default:
		e := s.newFileEntryLocked(parent, p.Name, p.Etag, p.Size)
		np.State, np.FileID = preDone, e.ID
		o.Put = []*entry{e}
	}
	if err := s.commitLocked(o); err != nil {
		s.log.Error("finalizing upload", "pre", short(id), "err", err)
		return p
	}
	s.log.Debug("upload finalized", "pre", short(id), "state", np.State, "fileID", np.FileID)
	return &np
}

// scheduleFinalizeLocked finalizes an assembled upload at its ReadyAt.
func (s *Server) scheduleFinalizeLocked(p *preupload) {
	id := p.ID
	if s.closed || s.timers[id] != nil {
		return
	}
	s.timers[id] = time.AfterFunc(time.Until(p.ReadyAt), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.timers, id)
		if !s.closed {
			s.finalizeLocked(id)
		}
	})
}

// handleUploadAsyncResult is POST /upload/v1/oss/file/upload_async_result.
func (s *Server) handleUploadAsyncResult(c *call) (any, *apiError) {
	var req wire.PreuploadRequest
	if ae := c.decode(&req, "preuploadID"); ae != nil {
		return nil, ae
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ae := s.lookupPreLocked(req.PreuploadID)
	if ae != nil {
		return nil, ae
	}
	if p.State == preAssembled && !time.Now().Before(p.ReadyAt) {
		p = s.finalizeLocked(p.ID)
	}
	switch {
	case p.State == preDone:
		return wire.UploadAsyncResultData{Completed: true, FileID: wire.ID(p.FileID)}, nil
	case p.State == preFailed:
		return nil, preState(p)
	case p.State == preAssembled || p.completing:
		return wire.UploadAsyncResultData{}, nil
	}
	return nil, errf(wire.CodeInternal, "upload_complete has not been called for this preuploadID yet")
}
