package wire

// MaxBatch is the most file IDs a batchdownloadfile or batchdeletefile call
// takes (community, and the SDK twins' docs: 50). What the real service does
// with 51 is unknown; the emulator answers CodeInvalidArg (chosen).
const MaxBatch = 50

// MaxAge bounds batchdownloadfile's max_age in seconds: a temporary link
// lives at most a day (documented for the SDK twin). The emulator answers
// CodeInvalidArg for max_age ≤ 0 or > MaxAge (chosen).
const MaxAge = 86400

// UploadFileRequest is the body of POST /tcb/uploadfile.
type UploadFileRequest struct {
	Env  string `json:"env"`
	Path string `json:"path"` // the cloud path; see ValidatePath
}

// UploadFileResponse is uploadfile's answer: where and how to POST the bytes
// (see the Form* constants) and the file ID that names them afterwards.
type UploadFileResponse struct {
	Envelope
	URL           string `json:"url"`           // COS form-upload URL
	Token         string `json:"token"`         // goes in x-cos-security-token
	Authorization string `json:"authorization"` // goes in Signature
	FileID        string `json:"file_id"`       // cloud://ENV.BUCKET/PATH
	CosFileID     string `json:"cos_file_id"`   // goes in x-cos-meta-fileid
}

// DefaultUploadWindow is how long an uploadfile signature is good for, in
// seconds (the docs' example window; the emulator's default).
const DefaultUploadWindow = 900

// MaxObjectSize is the most bytes one COS form upload takes (documented for
// COS POST Object: 5 GB).
const MaxObjectSize int64 = 5 << 30

// The multipart/form-data fields of the COS form upload, in this order with
// FormFile last (documented). The POST carries no access_token.
const (
	FormKey           = "key"       // the path given to uploadfile, no leading '/'
	FormSignature     = "Signature" // UploadFileResponse.Authorization
	FormSecurityToken = "x-cos-security-token"
	FormMetaFileID    = "x-cos-meta-fileid" // UploadFileResponse.CosFileID; without it the file is invisible to the WeChat API
	FormFile          = "file"
)

// CosError is the XML body of a failed COS request:
// <Error><Code/><Message/><RequestId/></Error>. Success of the form upload is
// HTTP 204 with an empty body.
type CosError struct {
	XMLName   struct{} `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
}

// COS error codes the form upload answers.
const (
	CosInvalidArgument = "InvalidArgument" // 400: a required field is missing
	CosAccessDenied    = "AccessDenied"    // 403: wrong, expired or forged signature
	CosEntityTooLarge  = "EntityTooLarge"  // 400: over the size limit
	CosInternalError   = "InternalError"   // 500
	CosNoSuchBucket    = "NoSuchBucket"    // 404: the URL names another bucket
	CosNoSuchKey       = "NoSuchKey"       // 404: a download link of an object that is gone
)

// DownloadFileRequest is the body of POST /tcb/batchdownloadfile.
type DownloadFileRequest struct {
	Env      string             `json:"env"`
	FileList []DownloadFileItem `json:"file_list"`
}

// DownloadFileItem asks for one download link valid MaxAge seconds.
type DownloadFileItem struct {
	FileID string `json:"fileid"`
	MaxAge int    `json:"max_age"`
}

// DownloadFileResponse is batchdownloadfile's answer, one item per requested
// ID in request order.
type DownloadFileResponse struct {
	Envelope
	FileList []DownloadFileResult `json:"file_list"`
}

// DownloadFileResult is one file's link, or a non-zero Status with ErrMsg
// (then DownloadURL is empty).
type DownloadFileResult struct {
	FileID      string `json:"fileid"`
	DownloadURL string `json:"download_url"`
	Status      int    `json:"status"`
	ErrMsg      string `json:"errmsg"`
}

// DeleteFileRequest is the body of POST /tcb/batchdeletefile.
type DeleteFileRequest struct {
	Env        string   `json:"env"`
	FileIDList []string `json:"fileid_list"`
}

// DeleteFileResponse is batchdeletefile's answer, one item per ID.
type DeleteFileResponse struct {
	Envelope
	DeleteList []DeleteFileResult `json:"delete_list"`
}

// DeleteFileResult is one file's outcome. Deleting an ID that does not exist
// answers StatusNonexist, so a retried delete reports the file gone.
type DeleteFileResult struct {
	FileID string `json:"fileid"`
	Status int    `json:"status"`
	ErrMsg string `json:"errmsg"`
}
