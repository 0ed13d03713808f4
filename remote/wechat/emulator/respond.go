package emulator

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 16 << 20

// errorf is a failed call's body.
func errorf(code int, format string, args ...any) wire.Envelope {
	return wire.Envelope{ErrCode: code, ErrMsg: fmt.Sprintf(format, args...)}
}

// success is the Envelope of a successful call.
var success = wire.Envelope{ErrCode: wire.CodeOK, ErrMsg: "ok"}

// writeJSON answers v with HTTP 200, as the WeChat API does for failures
// too.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// decode reads a tcb call's JSON body into v and checks the env it named
// (*env, filled by the decoding). A failure is the body to answer.
func (s *Server) decode(r *http.Request, v any, env *string) (wire.Envelope, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxJSONBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(wire.CodeInvalidArg, "body larger than %d bytes", maxJSONBody), false
		}
		return errorf(wire.CodeBusy, "reading body: %v", err), false
	}
	if len(b) == 0 {
		return errorf(wire.CodeEmptyBody, "empty post data"), false
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errorf(wire.CodeBadJSON, "data format error: %v", err), false
	}
	switch *env {
	case "":
		return errorf(wire.CodeMissingParam, "missing env"), false
	case s.opt.Env:
		return wire.Envelope{}, true
	}
	return errorf(wire.CodeResourceMissing, "INVALID_ENV: env %q not found", *env), false
}

// writeCosError answers a COS request with its XML error body.
func writeCosError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := xml.Marshal(wire.CosError{Code: code, Message: msg, RequestID: requestID()})
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(b)))
	w.WriteHeader(status)
	io.WriteString(w, xml.Header)
	w.Write(b)
}
