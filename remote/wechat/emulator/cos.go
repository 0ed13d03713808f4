package emulator

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"strings"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// cosUpload is the COS form upload, POST <uploadfile's url> with a
// multipart/form-data body: key, Signature, x-cos-security-token,
// x-cos-meta-fileid, then file. Fields after file are never read, as on
// COS; fields it does not know are ignored.
//
// Missing key, Signature or file → 400 InvalidArgument; a signature that is
// forged, expired or made for another key, or a security token that is not
// the one uploadfile gave with it → 403 AccessDenied; more than
// Options.MaxObjectSize bytes → 400 EntityTooLarge. Success is 204 with the
// md5 as ETag. A missing or wrong x-cos-meta-fileid still stores the object,
// but the WeChat API does not see it.
func (s *Server) cosUpload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeCosError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "only POST Object is emulated")
		return
	}
	bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, cosPrefix), "/")
	if bucket != s.bucket {
		writeCosError(w, http.StatusNotFound, wire.CosNoSuchBucket, "The specified bucket does not exist.")
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		writeCosError(w, http.StatusBadRequest, wire.CosInvalidArgument, "not a multipart/form-data body: "+err.Error())
		return
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			writeCosError(w, http.StatusBadRequest, wire.CosInvalidArgument, "no file field")
			return
		}
		if err != nil {
			writeCosError(w, http.StatusBadRequest, wire.CosInvalidArgument, "reading the form: "+err.Error())
			return
		}
		name := part.FormName()
		if name == wire.FormFile {
			s.cosStore(w, part, fields)
			return
		}
		b, err := io.ReadAll(io.LimitReader(part, 64<<10))
		if err != nil {
			writeCosError(w, http.StatusBadRequest, wire.CosInvalidArgument, "reading field "+name+": "+err.Error())
			return
		}
		fields[name] = string(b)
	}
}

// cosStore checks the fields read before the file part and stores file.
func (s *Server) cosStore(w http.ResponseWriter, file io.Reader, fields map[string]string) {
	key, sig := fields[wire.FormKey], fields[wire.FormSignature]
	if key == "" || sig == "" {
		writeCosError(w, http.StatusBadRequest, wire.CosInvalidArgument, "key and Signature are required before file")
		return
	}
	now := s.clock.Now()
	if why := s.checkUploadAuthorization(sig, key, now); why != "" {
		writeCosError(w, http.StatusForbidden, wire.CosAccessDenied, why)
		return
	}
	t, found := s.storage.ticket(fields[wire.FormSecurityToken])
	if !found || t.key != key || now.After(t.expiry) {
		writeCosError(w, http.StatusForbidden, wire.CosAccessDenied, "The provided token is malformed or otherwise invalid.")
		return
	}
	data, err := io.ReadAll(io.LimitReader(file, s.opt.MaxObjectSize+1))
	if err != nil {
		writeCosError(w, http.StatusBadRequest, wire.CosInvalidArgument, "reading file: "+err.Error())
		return
	}
	if int64(len(data)) > s.opt.MaxObjectSize {
		writeCosError(w, http.StatusBadRequest, wire.CosEntityTooLarge, "Your proposed upload exceeds the maximum allowed object size.")
		return
	}
	sum := md5.Sum(data)
	obj := &object{data: data, md5: hex.EncodeToString(sum[:]), modTime: now, known: fields[wire.FormMetaFileID] == t.cosFileID}
	s.storage.put(key, obj)
	w.Header().Set("ETag", `"`+obj.md5+`"`)
	w.Header().Set("x-cos-request-id", requestID())
	w.WriteHeader(http.StatusNoContent)
}
