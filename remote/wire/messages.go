package wire

// AccessTokenRequest is the body of POST /api/v1/access_token.
type AccessTokenRequest struct {
	ClientID     string `json:"clientID"`
	ClientSecret string `json:"clientSecret"`
}

// AccessTokenData is its data; ExpiredAt is RFC 3339 with offset.
type AccessTokenData struct {
	AccessToken string `json:"accessToken"`
	ExpiredAt   string `json:"expiredAt"`
}

// MkdirRequest is the body of mkdir. ParentID "" is the root.
type MkdirRequest struct {
	Name     Names  `json:"name"`
	ParentID string `json:"parentID"`
	Type     int    `json:"type"`
}

// MkdirData is mkdir's data.
type MkdirData struct {
	List []MkdirItem `json:"list"`
}

// MkdirItem is one folder mkdir made.
type MkdirItem struct {
	Filename string `json:"filename"`
	DirID    ID     `json:"dirID"`
}

// CreateRequest is the body of create: the first step of an upload.
type CreateRequest struct {
	ParentFileID string `json:"parentFileID"`
	Filename     string `json:"filename"`
	Etag         string `json:"etag"`
	Size         int64  `json:"size"`
	Type         int    `json:"type"`
}

// CreateData is create's data. When Reuse is true the upload is already
// finished (秒传) and FileID is the new file; otherwise PreuploadID and
// SliceSize drive the slice uploads.
type CreateData struct {
	FileID      ID     `json:"fileID"`
	Reuse       Flag   `json:"reuse"`
	PreuploadID string `json:"preuploadID"`
	SliceSize   int64  `json:"sliceSize"`
}

// GetUploadURLRequest asks for the presigned URL of one slice (numbered from 1).
type GetUploadURLRequest struct {
	PreuploadID string `json:"preuploadID"`
	SliceNo     int    `json:"sliceNo"`
}

// GetUploadURLData is get_upload_url's data.
type GetUploadURLData struct {
	PresignedURL string `json:"presignedURL"`
	IsMultipart  Flag   `json:"isMultipart"`
}

// PreuploadRequest is the body of list_upload_parts, upload_complete and
// upload_async_result.
type PreuploadRequest struct {
	PreuploadID string `json:"preuploadID"`
}

// ListUploadPartsData is list_upload_parts' data.
type ListUploadPartsData struct {
	Parts []Part `json:"parts"`
}

// Part is one stored slice; Etag is the slice's md5 hex. Its numbers may
// arrive as strings (see number.go).
type Part struct {
	PartNumber int    `json:"partNumber"`
	Size       int64  `json:"size"`
	Etag       string `json:"etag"`
}

// UploadCompleteData is upload_complete's data.
type UploadCompleteData struct {
	Completed Flag `json:"completed"`
	Async     Flag `json:"async"`
	FileID    ID   `json:"fileID"`
}

// UploadAsyncResultData is upload_async_result's data.
type UploadAsyncResultData struct {
	Completed Flag `json:"completed"`
	FileID    ID   `json:"fileID"`
}

// Entry is a file or folder as detail and list describe it. Times are
// "2006-01-02 15:04:05" in China time (see ParseTime).
type Entry struct {
	FileID         ID     `json:"fileId"`
	Filename       string `json:"filename"`
	Type           int    `json:"type"`
	Size           int64  `json:"size"`
	Etag           string `json:"etag"`
	Status         int    `json:"status"`
	CreateAt       string `json:"createAt"`
	UpdateAt       string `json:"updateAt"`
	DownloadURL    string `json:"downloadURL"`
	UserSelfURL    string `json:"userSelfURL"`
	TotalTraffic   int64  `json:"totalTraffic"`
	ParentFileID   ID     `json:"parentFileId"`
	ParentFilename string `json:"parentFilename"`
	Extension      string `json:"extension"`
}

// IsDir tells whether the entry is a folder.
func (e Entry) IsDir() bool { return e.Type == EntryFolder }

// Rejected tells whether moderation rejected the image (status > 100).
func (e Entry) Rejected() bool { return e.Status > 100 }

// ListRequest is the body of list. Note the "Id" spelling. Limit is
// required and at most 100; StartTime/EndTime are Unix seconds, 0 = unset.
type ListRequest struct {
	ParentFileID string `json:"parentFileId"`
	Limit        int    `json:"limit"`
	LastFileID   string `json:"lastFileId,omitempty"`
	StartTime    int64  `json:"startTime,omitempty"`
	EndTime      int64  `json:"endTime,omitempty"`
	Type         int    `json:"type"`
}

// ListData is one page; LastFileID == ListEnd means it is the last.
type ListData struct {
	LastFileID ID      `json:"lastFileId"`
	FileList   []Entry `json:"fileList"`
}

// DeleteRequest deletes up to 100 files or folders.
type DeleteRequest struct {
	FileIDs []string `json:"fileIDs"`
}

// MoveRequest moves up to 100 entries into ToParentFileID ("" = root).
type MoveRequest struct {
	FileIDs        []string `json:"fileIDs"`
	ToParentFileID string   `json:"toParentFileID"`
}

// CopyRequest copies cloud-drive files into the image host.
type CopyRequest struct {
	FileIDs        []string `json:"fileIDs"`
	ToParentFileID string   `json:"toParentFileID"`
	SourceType     ID       `json:"sourceType"` // "1" documented; a number accepted
	Type           int      `json:"type"`
}

// CopyData is the copy call's data.
type CopyData struct {
	TaskID ID `json:"taskID"`
}

// Copy task status values.
const (
	CopyRunning = 1
	CopyDone    = 2
	CopyFailed  = 3
	CopyWaiting = 4
)

// CopyProcessData is copy/process's data.
type CopyProcessData struct {
	Status  int    `json:"status"`
	FailMsg string `json:"failMsg"`
}

// CopyFailData is copy/fail's data.
type CopyFailData struct {
	Total Int            `json:"total"`
	List  []CopyFailItem `json:"list"`
}

// CopyFailItem is one file a copy task could not copy.
type CopyFailItem struct {
	FileID   ID     `json:"fileId"`
	Filename string `json:"filename"`
}

// OfflineRequest starts an offline migration (the service fetches URL).
type OfflineRequest struct {
	URL           string `json:"url"`
	FileName      string `json:"fileName,omitempty"`
	BusinessDirID string `json:"businessDirID,omitempty"`
	CallBackURL   string `json:"callBackUrl,omitempty"`
	Type          int    `json:"type"`
}

// OfflineData is the offline call's data; the task ID is a JSON number.
type OfflineData struct {
	TaskID ID `json:"taskID"`
}

// Offline task status values.
const (
	OfflineRunning  = 0
	OfflineFailed   = 1
	OfflineDone     = 2
	OfflineRetrying = 3
)

// OfflineProcessData is offline/download/process's data; Process is an
// integer 0–100 (a string or a fraction is accepted).
type OfflineProcessData struct {
	Status  int `json:"status"`
	Process Int `json:"process"`
}

// OfflineDefaultDir is the folder offline migrations land in by default.
const OfflineDefaultDir = "来自:离线下载"

// CopyExtensions are the file types copy and offline tasks accept, and
// CopyMaxSize their size limit.
var CopyExtensions = []string{"png", "gif", "jpeg", "jpg", "tiff", "tif", "webp", "svg", "bmp"}

// CopyMaxSize is the largest file a copy or offline task accepts.
const CopyMaxSize = 100 << 20

// MaxFileSize is the largest file pan123fs uploads. The image host
// documents no limit for its own uploads; 10 GiB is the open platform's
// documented limit for a developer's uploads to the cloud drive
// ("开发者上传单文件大小限制10GB", upload/v2/file/create), the nearest
// figure 123pan publishes.
const MaxFileSize = 10 << 30
