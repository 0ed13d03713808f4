package emulator

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Signatures are the emulator's HMAC-SHA1 over (purpose, key, expiry) with a
// key that lives as long as the Server: an upload's Signature binds the
// object key and the end of the upload window, a download link binds the
// object key and the link's expiry. Nothing else can make one.
const (
	purposeUpload   = "upload"
	purposeDownload = "download"
)

// sign is the hex HMAC of (purpose, key, expiry).
func (s *Server) sign(purpose, key string, expiry int64) string {
	m := hmac.New(sha1.New, s.key)
	fmt.Fprintf(m, "%s\n%s\n%d", purpose, key, expiry)
	return hex.EncodeToString(m.Sum(nil))
}

// validSignature says whether sig is sign(purpose, key, expiry).
func (s *Server) validSignature(purpose, key string, expiry int64, sig string) bool {
	want := s.sign(purpose, key, expiry)
	return hmac.Equal([]byte(want), []byte(sig))
}

// uploadAuthorization is uploadfile's authorization: shaped like a COS
// request signature, with the window in q-sign-time and the emulator's HMAC
// in q-signature.
func (s *Server) uploadAuthorization(key string, start, end time.Time) string {
	window := fmt.Sprintf("%d;%d", start.Unix(), end.Unix())
	return "q-sign-algorithm=sha1&q-ak=AKIDemulator&q-sign-time=" + window +
		"&q-key-time=" + window + "&q-header-list=&q-url-param-list=&q-signature=" +
		s.sign(purposeUpload, key, end.Unix())
}

// checkUploadAuthorization says why auth does not allow uploading key now
// ("" = it does).
func (s *Server) checkUploadAuthorization(auth, key string, now time.Time) string {
	q := authParams(auth)
	_, endText, found := strings.Cut(q["q-sign-time"], ";")
	end, err := strconv.ParseInt(endText, 10, 64)
	if !found || err != nil || !s.validSignature(purposeUpload, key, end, q["q-signature"]) {
		return "The Signature you specified is invalid."
	}
	if now.Unix() > end {
		return "Request has expired"
	}
	return ""
}

// authParams splits a COS authorization string into its name=value pairs.
// (url.ParseQuery refuses it: q-sign-time holds a ';'.)
func authParams(auth string) map[string]string {
	m := map[string]string{}
	for _, pair := range strings.Split(auth, "&") {
		name, value, _ := strings.Cut(pair, "=")
		m[name] = value
	}
	return m
}
