package emulator

import (
	"net/http"
	"net/url"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// uploadFile is POST /tcb/uploadfile: a credential for one COS form upload
// of path, valid for Options.UploadWindow.
func (s *Server) uploadFile(r *http.Request) any {
	var req wire.UploadFileRequest
	if e, ok := s.decode(r, &req, &req.Env); !ok {
		return e
	}
	if err := wire.ValidatePath(req.Path); err != nil {
		return errorf(wire.CodeInvalidArg, "invalid path: %v", err)
	}
	now := s.clock.Now()
	end := now.Add(s.opt.UploadWindow)
	token := randomHex(48)
	t := ticket{key: req.Path, cosFileID: randomBase64(60), expiry: end}
	s.storage.addTicket(token, t, now)
	return wire.UploadFileResponse{
		Envelope:      success,
		URL:           s.objectURL(r, cosPrefix, req.Path, nil),
		Token:         token,
		Authorization: s.uploadAuthorization(req.Path, now, end),
		FileID:        wire.FileID(s.opt.Env, s.bucket, req.Path),
		CosFileID:     t.cosFileID,
	}
}

// objectURL is the emulator's URL of key under prefix, on the host r came
// to, with every path byte that needs it escaped.
func (s *Server) objectURL(r *http.Request, prefix, key string, query url.Values) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: prefix + s.bucket + "/" + key, RawQuery: query.Encode()}
	return u.String()
}
