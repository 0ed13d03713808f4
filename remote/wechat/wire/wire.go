// Package wire holds the WeChat CloudBase (微信云开发) server API as it travels
// over HTTP: paths, query parameters, errcodes, request and response bodies,
// the COS form upload's fields, cloud-path rules and the file ID format. Both
// the client and the emulator (package remote/wechat/emulator) speak it, so
// the two cannot drift apart. See shared/spec/wechat-cloudbase-storage.md.
//
// Comments mark what the official documentation says ("documented") and what
// nobody outside Tencent knows, where the value here is the emulator's choice
// ("chosen").
package wire

import "fmt"

// Endpoint paths. cgi-bin/token is GET with a query string; every other call
// is POST with a JSON body (documented).
const (
	PathToken                 = "/cgi-bin/token"
	PathStableToken           = "/cgi-bin/stable_token"
	PathUploadFile            = "/tcb/uploadfile"
	PathBatchDownloadFile     = "/tcb/batchdownloadfile"
	PathBatchDeleteFile       = "/tcb/batchdeletefile"
	PathDatabaseAdd           = "/tcb/databaseadd"
	PathDatabaseQuery         = "/tcb/databasequery"
	PathDatabaseUpdate        = "/tcb/databaseupdate"
	PathDatabaseDelete        = "/tcb/databasedelete"
	PathDatabaseCount         = "/tcb/databasecount"
	PathDatabaseCollectionAdd = "/tcb/databasecollectionadd"
	PathUpdateIndex           = "/tcb/updateindex"
	PathGetQcloudToken        = "/tcb/getqcloudtoken"
)

// Query parameters that carry the credential (documented). A tcb call carries
// exactly one of them, never a token in the body; inside a WeChat Cloud Run
// container with the open API service on, none at all.
const (
	QueryAccessToken          = "access_token"
	QueryCloudBaseAccessToken = "cloudbase_access_token"
)

// GrantClientCredential is the grant_type both token endpoints take.
const GrantClientCredential = "client_credential"

// Envelope is the part of every response body that says whether the call
// worked: errcode 0 (or absent, on the token endpoints) is success. Failures
// normally come back with HTTP 200 (documented examples; the HTTP status on
// failure is unknown, so a client treats the status as transport only).
type Envelope struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Err returns nil for errcode 0, else an *Error.
func (e Envelope) Err() error {
	if e.ErrCode == CodeOK {
		return nil
	}
	return &Error{Code: e.ErrCode, Msg: e.ErrMsg}
}

// Error is a non-zero errcode with its errmsg.
type Error struct {
	Code int
	Msg  string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("wechat errcode %d: %s", e.Code, e.Msg)
}
