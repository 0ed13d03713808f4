package emulator_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/pan123fs/pan123fs/remote/wechat/emulator"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

const (
	testAppID  = "wx-app"
	testSecret = "s3cret"
	testEnv    = "test2-4a89da"
)

// rig is an emulator on a loopback HTTP server, a fake clock, and a token.
type rig struct {
	t     *testing.T
	emu   *emulator.Server
	url   string
	clock *clockwork.FakeClock
	token string
}

// newRig starts an emulator for opt (AppID, Secret, Env and Clock filled in
// when empty) and gets a token.
func newRig(t *testing.T, opt emulator.Options) *rig {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	if opt.AppID == "" {
		opt.AppID, opt.Secret = testAppID, testSecret
	}
	if opt.Env == "" {
		opt.Env = testEnv
	}
	if opt.Clock == nil {
		opt.Clock = clock
	}
	emu := emulator.New(opt)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	r := &rig{t: t, emu: emu, url: srv.URL, clock: clock}
	r.token = r.getToken().AccessToken
	return r
}

// getToken calls GET /cgi-bin/token with the rig's credentials.
func (r *rig) getToken() wire.TokenResponse {
	r.t.Helper()
	var resp wire.TokenResponse
	r.get(wire.PathToken+"?grant_type=client_credential&appid="+testAppID+"&secret="+testSecret, &resp)
	if resp.ErrCode != 0 || resp.AccessToken == "" {
		r.t.Fatalf("token: %+v", resp)
	}
	return resp
}

// get does a GET of path and decodes the JSON answer into out.
func (r *rig) get(path string, out any) {
	r.t.Helper()
	resp, err := http.Get(r.url + path)
	if err != nil {
		r.t.Fatal(err)
	}
	decodeBody(r.t, resp, out)
}

// post sends body (JSON-encoded unless a string) to path?query and decodes
// the JSON answer into out.
func (r *rig) post(pathQuery string, body, out any) {
	r.t.Helper()
	var b []byte
	if s, ok := body.(string); ok {
		b = []byte(s)
	} else {
		var err error
		if b, err = json.Marshal(body); err != nil {
			r.t.Fatal(err)
		}
	}
	resp, err := http.Post(r.url+pathQuery, "application/json", bytes.NewReader(b))
	if err != nil {
		r.t.Fatal(err)
	}
	decodeBody(r.t, resp, out)
}

// call posts body to a tcb path with the rig's token.
func (r *rig) call(path string, body, out any) {
	r.t.Helper()
	r.post(path+"?access_token="+url.QueryEscape(r.token), body, out)
}

func decodeBody(t *testing.T, resp *http.Response, out any) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

// uploadFile asks for an upload credential for path.
func (r *rig) uploadFile(path string) wire.UploadFileResponse {
	r.t.Helper()
	var u wire.UploadFileResponse
	r.call(wire.PathUploadFile, wire.UploadFileRequest{Env: testEnv, Path: path}, &u)
	if u.ErrCode != 0 {
		r.t.Fatalf("uploadfile %q: %+v", path, u.Envelope)
	}
	return u
}

// field is one form field, in order.
type field struct{ name, value string }

// formFields are the documented fields for u and path, without file.
func formFields(u wire.UploadFileResponse, path string) []field {
	return []field{
		{wire.FormKey, path},
		{wire.FormSignature, u.Authorization},
		{wire.FormSecurityToken, u.Token},
		{wire.FormMetaFileID, u.CosFileID},
	}
}

// cosPost posts fields then (unless data is nil) the file part to url and
// returns the status, the ETag and the body.
func (r *rig) cosPost(url string, fields []field, data []byte) (int, string, string) {
	r.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f.name, f.value)
	}
	if data != nil {
		fw, _ := mw.CreateFormFile(wire.FormFile, "blob")
		fw.Write(data)
	}
	mw.Close()
	resp, err := http.Post(url, mw.FormDataContentType(), &buf)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag"), string(b)
}

// upload stores data under path the documented way and returns the file ID.
func (r *rig) upload(path string, data []byte) string {
	r.t.Helper()
	u := r.uploadFile(path)
	status, etag, body := r.cosPost(u.URL, formFields(u, path), data)
	if status != http.StatusNoContent {
		r.t.Fatalf("COS POST %q: %d %s", path, status, body)
	}
	if want := `"` + md5hex(data) + `"`; etag != want {
		r.t.Fatalf("COS POST %q: ETag %s, want %s", path, etag, want)
	}
	return u.FileID
}

// downloadLinks calls batchdownloadfile for ids with max_age.
func (r *rig) downloadLinks(maxAge int, ids ...string) wire.DownloadFileResponse {
	r.t.Helper()
	req := wire.DownloadFileRequest{Env: testEnv}
	for _, id := range ids {
		req.FileList = append(req.FileList, wire.DownloadFileItem{FileID: id, MaxAge: maxAge})
	}
	var resp wire.DownloadFileResponse
	r.call(wire.PathBatchDownloadFile, req, &resp)
	return resp
}

// link returns the download URL of one file that must exist.
func (r *rig) link(id string) string {
	r.t.Helper()
	resp := r.downloadLinks(3600, id)
	if resp.ErrCode != 0 || len(resp.FileList) != 1 || resp.FileList[0].Status != 0 {
		r.t.Fatalf("batchdownloadfile %s: %+v", id, resp)
	}
	return resp.FileList[0].DownloadURL
}

// fetch GETs (or HEADs) url with optional headers ("Range", "bytes=1-2").
func fetch(t *testing.T, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// db runs a database query on path and decodes the answer into out.
func (r *rig) db(path, query string, out any) {
	r.t.Helper()
	r.call(path, wire.DatabaseRequest{Env: testEnv, Query: query}, out)
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// hasCosError says whether body is a COS XML error with code.
func hasCosError(body, code string) bool {
	return strings.Contains(body, "<Code>"+code+"</Code>")
}
