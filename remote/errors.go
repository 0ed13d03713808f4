package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// Sentinel errors. Every error a Client returns for a failed call is an
// *APIError (or wraps one); errors.Is matches these sentinels against it by
// its code, HTTP status and message, through any amount of %w wrapping.
var (
	// ErrNotFound: body code 5066, "file does not exist"; also HTTP 404
	// from a download link.
	ErrNotFound = errors.New("123pan: file does not exist")
	// ErrRateLimited: body code 429 or HTTP 429.
	ErrRateLimited = errors.New("123pan: too many requests")
	// ErrAuth: body code 401 or HTTP 401 (token invalid or expired, or
	// credentials refused).
	ErrAuth = errors.New("123pan: not authorised")
	// ErrNameClash: an entry of that name already exists in the folder. The
	// code is undocumented; it is recognised by a non-zero code and a
	// message that says so (重名, "same name", "already exists", ...).
	ErrNameClash = errors.New("123pan: an entry of that name already exists")
	// ErrVerifying: body code 20103, "file is being verified, retry in 1 s".
	ErrVerifying = errors.New("123pan: file is being verified")
	// ErrQuota: body code 5113, traffic quota exceeded.
	ErrQuota = errors.New("123pan: traffic quota exceeded")
	// ErrInvalidName: the client refused a name before sending it; the
	// error also wraps the wire.ErrName* reason.
	ErrInvalidName = errors.New("123pan: invalid file name")
	// ErrPresignExpired: a slice PUT was refused with HTTP 403; the
	// presigned URL has expired (or is otherwise unusable) and must be
	// fetched again.
	ErrPresignExpired = errors.New("123pan: presigned upload URL refused")
	// ErrRootUnknown: a move into the root needs the root folder's own ID
	// (the service refuses an empty toParentFileID), and no top-level
	// entry showed it as its parentFileId.
	ErrRootUnknown = errors.New("123pan: the root folder's own ID is unknown")
	// ErrAlreadyThere: move refused because an entry is already in the
	// target folder (文件已在当前文件夹中，请选择其他文件夹).
	ErrAlreadyThere = errors.New("123pan: already in that folder")
)

// Endpoint names used in APIError for requests that are not API calls.
const (
	EndpointPutSlice = "put_slice" // PUT to a presigned URL
	EndpointFetch    = "fetch"     // GET of a download link
)

// APIError is the one error type for failed calls: a definite answer from
// the service (Code != 0), an unexpected HTTP status or body, or a transport
// failure (Err set, HTTPStatus 0).
type APIError struct {
	Endpoint   string // last path element of the call, e.g. "mkdir", or EndpointPutSlice/EndpointFetch
	HTTPStatus int    // 0 when no response arrived
	Code       int    // the body's code; 0 when there was no decodable body
	Message    string // the body's message, or a description of what went wrong
	TraceID    string // x-traceID, for 123pan support
	Err        error  // underlying cause (transport error, decode error), if any

	sent       bool          // the request was fully written: it may have been applied
	canceled   bool          // the caller's context ended the request
	malformed  bool          // a response arrived but its body was not a usable envelope
	retryAfter time.Duration // from a Retry-After header
}

// Error includes endpoint, code, message, HTTP status and x-traceID.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("123pan ")
	b.WriteString(e.Endpoint)
	if e.Code != 0 {
		fmt.Fprintf(&b, ": code %d", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.TraceID != "" {
		fmt.Fprintf(&b, " [x-traceID %s]", e.TraceID)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *APIError) Unwrap() error { return e.Err }

// Is matches the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Code == wire.CodeNotFound || (e.Endpoint == EndpointFetch && e.HTTPStatus == 404)
	case ErrRateLimited:
		return e.Code == wire.CodeTooMany || e.HTTPStatus == 429
	case ErrAuth:
		return e.Code == wire.CodeUnauthorized || e.HTTPStatus == 401
	case ErrNameClash:
		return e.Code != 0 && isClashMessage(e.Message)
	case ErrAlreadyThere:
		return e.Code != 0 && strings.Contains(e.Message, "已在当前文件夹")
	case ErrVerifying:
		return e.Code == wire.CodeVerifying
	case ErrQuota:
		return e.Code == wire.CodeQuota
	case ErrPresignExpired:
		return e.Endpoint == EndpointPutSlice && e.HTTPStatus == 403
	}
	return false
}

// clashPhrases are the ways a name clash has been or plausibly will be
// worded: the real service says 重名, 同名 or 重复 (已经有同名文件夹,
// 该目录下文件名重复无法创建, 当前目录有重名文件). Matching is
// case-insensitive.
var clashPhrases = []string{
	"重名", "同名", "重复", "已存在", "已经存在",
	"same name", "already exist", "duplicate name", "duplicate file", "duplicate folder",
	"name exists", "file exists", "folder exists", "directory exists", "name conflict", "name clash",
}

func isClashMessage(msg string) bool {
	m := strings.ToLower(msg)
	for _, p := range clashPhrases {
		if strings.Contains(m, p) {
			return true
		}
	}
	return false
}

// invalidName wraps a wire.ValidateName error so that it matches both
// ErrInvalidName and the wire reason.
func invalidName(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w %q: %w", ErrInvalidName, name, err)
}

// IsTemporary tells whether err is a failure that may go away on its own:
// rate limiting, 5xx, 20103, a malformed answer, a connection error or a
// timeout of a single request. Cancellation by the caller's context, auth
// failures and definite answers (5066, name clash, code 1, quota, ...) are
// not temporary.
func IsTemporary(err error) bool {
	t, _ := classify(err)
	return t
}

// IsAmbiguous tells whether the failed request may nevertheless have been
// applied by the service: it was fully sent and then the connection broke,
// timed out, or the answer was a 5xx or unreadable. A 429, a refused
// connection or any definite answer is not ambiguous.
func IsAmbiguous(err error) bool {
	_, a := classify(err)
	return a
}

// classify sorts an error into temporary (worth retrying) and ambiguous
// (may have been applied).
func classify(err error) (temporary, ambiguous bool) {
	if err == nil {
		return false, false
	}
	var ce *canceledError
	if errors.As(err, &ce) {
		_, a := classify(ce.last)
		return false, a
	}
	var e *APIError
	if !errors.As(err, &e) {
		switch {
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return false, false
		case errors.Is(err, io.ErrUnexpectedEOF):
			return true, false
		}
		var ne net.Error
		return errors.As(err, &ne), false
	}
	switch {
	case e.canceled:
		return false, e.sent
	case e.HTTPStatus == 0 && e.Err != nil: // transport failure
		return !isPermanentTransport(e.Err), e.sent
	case e.Code == wire.CodeTooMany || e.HTTPStatus == 429:
		return true, false
	case e.Code == wire.CodeVerifying:
		return true, false
	case e.Code == wire.CodeUnauthorized || e.HTTPStatus == 401:
		return false, false
	case e.HTTPStatus >= 500 || e.HTTPStatus == 408:
		return true, true
	case e.malformed:
		// An unreadable answer with a 2xx status: the call may have worked.
		return e.HTTPStatus < 300, e.HTTPStatus < 300
	case e.Code >= 500 && e.Code < 600:
		return true, true
	}
	return false, false
}

// isPermanentTransport spots transport errors that retrying cannot fix.
func isPermanentTransport(err error) bool {
	if errors.Is(err, ErrRedirectRefused) {
		return true
	}
	var (
		ua  x509.UnknownAuthorityError
		ci  x509.CertificateInvalidError
		he  x509.HostnameError
		cve *tls.CertificateVerificationError
	)
	return errors.As(err, &ua) || errors.As(err, &ci) || errors.As(err, &he) || errors.As(err, &cve)
}
