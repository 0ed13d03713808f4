package emulator

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// knownKey is the object key a file ID names, if it names a known object
// of this env.
func (s *Server) knownKey(fileID string) (string, bool) {
	env, bucket, key, err := wire.ParseFileID(fileID)
	if err != nil || env != s.opt.Env || bucket != s.bucket {
		return "", false
	}
	obj := s.storage.get(key)
	return key, obj != nil && obj.known
}

// batchDownloadFile is POST /tcb/batchdownloadfile: a signed link per known
// file, valid max_age seconds; STORAGE_FILE_NONEXIST for the rest.
func (s *Server) batchDownloadFile(r *http.Request) any {
	var req wire.DownloadFileRequest
	if e, ok := s.decode(r, &req, &req.Env); !ok {
		return e
	}
	if len(req.FileList) == 0 || len(req.FileList) > wire.MaxBatch {
		return errorf(wire.CodeInvalidArg, "file_list must hold 1 to %d items, not %d", wire.MaxBatch, len(req.FileList))
	}
	for _, it := range req.FileList {
		if it.MaxAge <= 0 || it.MaxAge > wire.MaxAge {
			return errorf(wire.CodeInvalidArg, "max_age %d out of range 1..%d", it.MaxAge, wire.MaxAge)
		}
	}
	now := s.clock.Now()
	resp := wire.DownloadFileResponse{Envelope: success, FileList: make([]wire.DownloadFileResult, 0, len(req.FileList))}
	for _, it := range req.FileList {
		res := wire.DownloadFileResult{FileID: it.FileID, Status: wire.StatusNonexist, ErrMsg: wire.ErrMsgFileNonexist}
		if key, ok := s.knownKey(it.FileID); ok {
			exp := now.Unix() + int64(it.MaxAge)
			q := url.Values{"t": {strconv.FormatInt(exp, 10)}, "sign": {s.sign(purposeDownload, key, exp)}}
			res.DownloadURL, res.Status, res.ErrMsg = s.objectURL(r, downloadPrefix, key, q), wire.StatusOK, "ok"
		}
		resp.FileList = append(resp.FileList, res)
	}
	return resp
}

// batchDeleteFile is POST /tcb/batchdeletefile: deletes each known file;
// STORAGE_FILE_NONEXIST for the rest (so a repeated delete says the file is
// gone).
func (s *Server) batchDeleteFile(r *http.Request) any {
	var req wire.DeleteFileRequest
	if e, ok := s.decode(r, &req, &req.Env); !ok {
		return e
	}
	if len(req.FileIDList) == 0 || len(req.FileIDList) > wire.MaxBatch {
		return errorf(wire.CodeInvalidArg, "fileid_list must hold 1 to %d items, not %d", wire.MaxBatch, len(req.FileIDList))
	}
	resp := wire.DeleteFileResponse{Envelope: success, DeleteList: make([]wire.DeleteFileResult, 0, len(req.FileIDList))}
	for _, id := range req.FileIDList {
		res := wire.DeleteFileResult{FileID: id, Status: wire.StatusNonexist, ErrMsg: wire.ErrMsgFileNonexist}
		if key, ok := s.knownKey(id); ok && s.storage.deleteKnown(key) {
			res.Status, res.ErrMsg = wire.StatusOK, "ok"
		}
		resp.DeleteList = append(resp.DeleteList, res)
	}
	return resp
}

// download serves a link from batchdownloadfile: GET or HEAD, with Range,
// ETag, Content-Length and Last-Modified. A forged or expired link → 403
// AccessDenied; an object deleted since → 404 NoSuchKey.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeCosError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "download links take GET or HEAD")
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, downloadPrefix), "/")
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("t"), 10, 64)
	if bucket != s.bucket || err != nil || !s.validSignature(purposeDownload, key, exp, q.Get("sign")) {
		writeCosError(w, http.StatusForbidden, wire.CosAccessDenied, "sign check failed")
		return
	}
	if s.clock.Now().Unix() > exp {
		writeCosError(w, http.StatusForbidden, wire.CosAccessDenied, "link expired")
		return
	}
	obj := s.storage.get(key)
	if obj == nil {
		writeCosError(w, http.StatusNotFound, wire.CosNoSuchKey, "The specified key does not exist.")
		return
	}
	w.Header().Set("ETag", `"`+obj.md5+`"`)
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", obj.modTime, bytes.NewReader(obj.data))
}
