// Package wire holds the 123pan image-host (图床) API as it travels over HTTP:
// paths, headers, codes, request and response bodies. Both the client
// (package remote) and the emulator (package remote/emulator) speak it, so the
// two cannot drift apart. See shared/spec/123pan-oss-api.md.
package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Endpoint paths. Detail and the two task-progress calls are GET with a query
// string; every other call is POST with a JSON body.
const (
	PathAccessToken       = "/api/v1/access_token"
	PathMkdir             = "/upload/v1/oss/file/mkdir"
	PathCreate            = "/upload/v1/oss/file/create"
	PathGetUploadURL      = "/upload/v1/oss/file/get_upload_url"
	PathListUploadParts   = "/upload/v1/oss/file/list_upload_parts"
	PathUploadComplete    = "/upload/v1/oss/file/upload_complete"
	PathUploadAsyncResult = "/upload/v1/oss/file/upload_async_result"
	PathDetail            = "/api/v1/oss/file/detail"
	PathList              = "/api/v1/oss/file/list"
	PathDelete            = "/api/v1/oss/file/delete"
	PathMove              = "/api/v1/oss/file/move"
	PathCopy              = "/api/v1/oss/source/copy"
	PathCopyProcess       = "/api/v1/oss/source/copy/process"
	PathCopyFail          = "/api/v1/oss/source/copy/fail"
	PathOffline           = "/api/v1/oss/offline/download"
	PathOfflineProcess    = "/api/v1/oss/offline/download/process"
)

// Headers every API call carries.
const (
	HeaderPlatform = "Platform"
	PlatformValue  = "open_platform"
	HeaderAuth     = "Authorization"
)

// Body codes. 0 is success; the HTTP status is normally 200 either way.
const (
	CodeOK           = 0
	CodeInternal     = 1 // internal or validation error; the emulator also uses it for name clashes
	CodeUnauthorized = 401
	CodeTooMany      = 429
	CodeNotFound     = 5066
	CodeQuota        = 5113
	CodeVerifying    = 20103
)

// Type values.
const (
	TypeImageHost = 1 // the "type: 1" every image-host request carries
	EntryFile     = 0
	EntryFolder   = 1
)

// ListEnd is the lastFileId that says there are no more pages.
const ListEnd = "-1"

// MaxBatch is the most IDs delete and move take, and the most entries a list
// page holds.
const MaxBatch = 100

// Envelope is every response body.
type Envelope struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	TraceID string          `json:"x-traceID"`
}

// ID is an opaque identifier. 123pan sends IDs as JSON strings, but some
// calls (the offline task ID) send numbers; ID accepts both and always
// marshals as a string.
type ID string

// UnmarshalJSON accepts a JSON string, a JSON number or null.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*id = ""
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
		return nil
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("wire: ID is neither string nor number: %s", b)
		}
		*id = ID(n.String())
		return nil
	}
}

// Names is mkdir's name field: documented as []string, sent as a string in
// the official example. It accepts both and marshals as a plain string when
// it holds exactly one name.
type Names []string

// UnmarshalJSON accepts a JSON string or an array of strings.
func (n *Names) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = Names{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("wire: name must be a string or an array of strings")
	}
	*n = list
	return nil
}

// MarshalJSON writes one name as a string, several as an array.
func (n Names) MarshalJSON() ([]byte, error) {
	if len(n) == 1 {
		return json.Marshal(n[0])
	}
	return json.Marshal([]string(n))
}

// Flag decodes a boolean that may arrive as true/false, 0/1 or "0"/"1".
type Flag bool

// UnmarshalJSON accepts booleans, numbers and numeric strings.
func (f *Flag) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(bytes.TrimSpace(b), `"`))
	switch s {
	case "true", "1":
		*f = true
	case "false", "0", "", "null":
		*f = false
	default:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("wire: not a boolean: %s", b)
		}
		*f = v != 0
	}
	return nil
}
