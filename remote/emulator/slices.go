package emulator

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// uploadPrefix is where presigned slice URLs point:
// /__upload/<preuploadID, path-escaped>/<sliceNo>?expires=<unix>&signature=<hmac>.
// The preuploadID holds "/", so it travels as %2F.
const uploadPrefix = "/__upload/"

// Stats keys of the non-API traffic.
const (
	statPut = "PUT /__upload"
)

func (s *Server) sign(preID string, sliceNo int, expires int64) string {
	m := hmac.New(sha256.New, []byte(s.st.meta.Secret))
	fmt.Fprintf(m, "%s\n%d\n%d", preID, sliceNo, expires)
	return hex.EncodeToString(m.Sum(nil))
}

// presign makes the URL a slice is PUT to. Caller holds s.mu (read).
func (s *Server) presign(base, preID string, sliceNo int, expires time.Time) string {
	exp := expires.Unix()
	q := url.Values{"expires": {strconv.FormatInt(exp, 10)}, "signature": {s.sign(preID, sliceNo, exp)}}
	return fmt.Sprintf("%s%s%s/%d?%s", base, uploadPrefix, url.PathEscape(preID), sliceNo, q.Encode())
}

// s3Error answers like an object store does: a status and a short XML body.
func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>\n", code, msg)
}

// serveSlice stores one slice: PUT <presignedURL>. The body is streamed to
// a file while its md5 is computed; nothing is held in memory.
func (s *Server) serveSlice(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", http.MethodPut)
		s3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "slices are uploaded with PUT")
		return
	}
	s.stats.count(statPut)
	f := s.rollFault(r, false)
	if f.before(s, w, r, false) {
		return
	}
	if r.Header.Get(wire.HeaderAuth) != "" || r.Header.Get(wire.HeaderPlatform) != "" {
		s3Error(w, http.StatusForbidden, "AccessDenied", "presigned uploads must not carry Authorization or Platform headers")
		return
	}
	preID, sliceNo, ok := s.checkSignature(w, r)
	if !ok {
		return
	}
	s.mu.RLock()
	p := s.st.pres[preID]
	var want int64
	var dir string
	if p != nil {
		want, dir = p.sliceLen(sliceNo), s.partsDir(p.ID)
	}
	open := p != nil && p.State == preOpen && !p.completing && sliceNo <= p.slices()
	s.mu.RUnlock()
	if !open {
		s3Error(w, http.StatusForbidden, "AccessDenied", "unknown or finished upload")
		return
	}
	if r.ContentLength >= 0 && r.ContentLength != want {
		s3Error(w, http.StatusBadRequest, "InvalidPartSize", fmt.Sprintf("slice %d must be exactly %d bytes, got %d", sliceNo, want, r.ContentLength))
		return
	}
	tmp, err := os.CreateTemp(dir, "put-*.tmp")
	if err != nil {
		s3Error(w, http.StatusInternalServerError, "InternalError", "storage: "+err.Error())
		return
	}
	h := md5.New()
	n, err := hashingCopy(tmp, io.LimitReader(r.Body, want+1), h)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		s.log.Debug("slice upload interrupted", "pre", short(preID), "slice", sliceNo, "err", err)
		s3Error(w, http.StatusBadRequest, "IncompleteBody", "reading slice: "+err.Error())
		return
	}
	if n != want {
		os.Remove(tmp.Name())
		s3Error(w, http.StatusBadRequest, "InvalidPartSize", fmt.Sprintf("slice %d must be exactly %d bytes, got %d or more", sliceNo, want, n))
		return
	}
	if ae := s.storeSlice(preID, sliceNo, tmp.Name(), n, hex.EncodeToString(h.Sum(nil))); ae != nil {
		os.Remove(tmp.Name())
		s3Error(w, http.StatusForbidden, "AccessDenied", ae.msg)
		return
	}
	if f.after(s, w, r, false) {
		return
	}
	w.WriteHeader(http.StatusOK)
}

// checkSignature parses and verifies a presigned URL; on failure it has
// answered 403.
func (s *Server) checkSignature(w http.ResponseWriter, r *http.Request) (string, int, bool) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), uploadPrefix)
	escID, noStr, ok := strings.Cut(rest, "/")
	preID, uerr := url.PathUnescape(escID)
	sliceNo, err := strconv.Atoi(noStr)
	q := r.URL.Query()
	exp, eerr := strconv.ParseInt(q.Get("expires"), 10, 64)
	if !ok || uerr != nil || preID == "" || err != nil || sliceNo < 1 || eerr != nil || q.Get("signature") == "" {
		s3Error(w, http.StatusForbidden, "AccessDenied", "malformed presigned URL")
		return "", 0, false
	}
	s.mu.RLock()
	good := s.sign(preID, sliceNo, exp)
	s.mu.RUnlock()
	if !hmac.Equal([]byte(good), []byte(q.Get("signature"))) {
		s3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "the presigned URL's signature is not valid")
		return "", 0, false
	}
	if time.Now().Unix() > exp {
		s3Error(w, http.StatusForbidden, "AccessDenied", "Request has expired")
		return "", 0, false
	}
	return preID, sliceNo, true
}

// storeSlice moves a received slice into place and records it.
func (s *Server) storeSlice(preID string, sliceNo int, tmp string, size int64, etag string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.pres[preID]
	if p == nil || p.State != preOpen || p.completing {
		return errf(wire.CodeInternal, "upload finished while the slice was arriving")
	}
	if err := os.Rename(tmp, filepath.Join(s.partsDir(preID), partName(sliceNo))); err != nil {
		return errf(wire.CodeInternal, "storage: %v", err)
	}
	if err := s.commitLocked(&op{Part: &partOp{Pre: preID, No: sliceNo, Size: size, Etag: etag}}); err != nil {
		return errf(wire.CodeInternal, "%v", err)
	}
	return nil
}
