package wechat

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/pan123fs/pan123fs/internal/redirect"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
	"github.com/pan123fs/pan123fs/store"
)

// ErrTooLarge is matched (errors.Is) by a Put whose content COS refused as
// too large (EntityTooLarge). The store has no sentinel of its own for it:
// the error also matches store.ErrQuota and store.ErrPermanent.
var ErrTooLarge = errors.New("wechat: file too large for one COS upload")

// APIError is a failed call: an answer with a non-zero errcode (or a
// per-file status), an unexpected HTTP status or body, or a transport
// failure (Err set, HTTPStatus 0). Every error the client returns for a
// failed call wraps one inside a *store.Error (see classify).
type APIError struct {
	Call       string // the path, e.g. "/tcb/databaseadd", or "cos" or "download"
	HTTPStatus int    // 0 when no response arrived
	Code       int    // the errcode; 0 when there was none
	Status     int    // a per-file status (batchdownloadfile, batchdeletefile)
	Message    string // errmsg, a COS error code, or what went wrong
	Err        error  // the cause (transport, decoding), if any

	transport bool // the connection failed (no answer, or a cut one)
	sent      bool // the request went out whole: the service may have applied it
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("wechat ")
	b.WriteString(e.Call)
	if e.Code != 0 {
		fmt.Fprintf(&b, ": errcode %d", e.Code)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": status %d", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// Is matches ErrTooLarge.
func (e *APIError) Is(target error) bool {
	return target == ErrTooLarge && e.Call == callCOS && e.Message == wire.CosEntityTooLarge
}

// Calls that are not API paths.
const (
	callCOS      = "cos"      // the COS form POST
	callDownload = "download" // a GET of a download link
)

// tokenCode tells whether code says the access token is invalid, expired or
// missing: get a token and try once more.
func tokenCode(code int) bool {
	switch code {
	case wire.CodeInvalidToken, wire.CodeInvalidAccessToken, wire.CodeTokenExpired, wire.CodeTokenMissing:
		return true
	}
	return false
}

// retryCode tells whether code is worth another attempt after a pause:
// busy, system errors, timeouts, quotas per second or per minute.
func retryCode(code int) bool {
	switch code {
	case wire.CodeBusy, wire.CodeSystemError, wire.CodeCloudSystem, wire.CodeCloudTimeout,
		wire.CodeRequestQuota, wire.CodeConcurrencyQuota, wire.CodeQuota, wire.CodeFileRequestFailed:
		return true
	}
	return false
}

// isDuplicate tells whether err is a unique-index clash.
func isDuplicate(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Code == wire.CodeDBDuplicate ||
		(e.Code != 0 && strings.Contains(strings.ToLower(e.Message), wire.DuplicateKey)))
}

// hasCode tells whether err is an answer with errcode code.
func hasCode(err error, code int) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == code
}

// temporary tells whether err may pass on its own: a retryable errcode, a
// 5xx or 429, a transport failure, a COS 5xx.
func temporary(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	switch {
	case e.Code != 0:
		return retryCode(e.Code)
	case e.Status != 0:
		return false
	case e.transport:
		return !errors.Is(e.Err, context.Canceled) && !permanentTransport(e.Err)
	}
	return e.HTTPStatus >= 500 || e.HTTPStatus == 429 || e.HTTPStatus == 408
}

// permanentTransport spots transport failures that retrying cannot fix: a
// certificate refused, a redirect away from the API base.
func permanentTransport(err error) bool {
	if errors.Is(err, redirect.ErrRefused) {
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

// classify wraps an *APIError into a *store.Error that matches the store
// sentinels: the one place where WeChat's answers become the filesystem's
// kinds of failure. Context errors of a call that got no answer stay as
// they are (the caller gave up). Other errors (the local content could not
// be read, say) pass unchanged.
func classify(err error) error {
	var e *APIError
	if err == nil || !errors.As(err, &e) {
		return err
	}
	if e.transport && errors.Is(e.Err, context.Canceled) {
		return err
	}
	var kinds []error
	switch {
	case e.Code == wire.CodeResourceMissing, e.Code == wire.CodeFileNotExist,
		e.Status != 0 && e.Message == wire.ErrMsgFileNonexist,
		e.Call == callDownload && (e.HTTPStatus == 404 || e.HTTPStatus == 410):
		kinds = append(kinds, store.ErrNotFound, store.ErrPermanent)
	case isDuplicate(err):
		kinds = append(kinds, store.ErrExists, store.ErrPermanent)
	case tokenCode(e.Code), e.Code == wire.CodeInvalidAppID, e.Code == wire.CodeIPNotWhitelisted,
		e.Code == wire.CodeFileNoPermission, e.Code == wire.CodeNoCloudBase:
		kinds = append(kinds, store.ErrAuth)
		if e.Code == wire.CodeFileNoPermission || e.Code == wire.CodeNoCloudBase {
			kinds = append(kinds, store.ErrPermanent)
		}
	case e.Code == wire.CodeReadQuota, e.Code == wire.CodeWriteQuota, e.Code == wire.CodeDiskFull:
		kinds = append(kinds, store.ErrQuota)
	case errors.Is(e, ErrTooLarge):
		kinds = append(kinds, store.ErrQuota, store.ErrPermanent)
	case e.Code == wire.CodeInvalidArg:
		kinds = append(kinds, store.ErrInvalidName, store.ErrPermanent)
	case e.Code == wire.CodeQuota, e.Code == wire.CodeRequestQuota, e.Code == wire.CodeConcurrencyQuota,
		e.HTTPStatus == 429:
		kinds = append(kinds, store.ErrRateLimited, store.ErrTemporary)
	case temporary(err), e.Status != 0: // per-file statuses other than missing: unknown, tried again (spec)
		kinds = append(kinds, store.ErrTemporary)
	case e.Code != 0, e.HTTPStatus >= 400 && e.HTTPStatus < 500:
		kinds = append(kinds, store.ErrPermanent)
	default:
		kinds = append(kinds, store.ErrTemporary) // an unreadable answer, say
	}
	return store.Wrap(err, kinds...)
}
