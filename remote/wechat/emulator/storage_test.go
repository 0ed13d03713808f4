package emulator_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pan123fs/pan123fs/remote/wechat/emulator"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

func TestUploadThenDownloadWithRangeAndHead(t *testing.T) {
	r := newRig(t, emulator.Options{})
	data := []byte("hello, cloud storage: 0123456789")
	path := "pan123fs/6f3e/1 名字?#%.txt"
	u := r.uploadFile(path)
	if u.FileID != "cloud://"+testEnv+".7465-"+testEnv+"-1250000000/"+path {
		t.Fatalf("file_id %q", u.FileID)
	}
	if !strings.Contains(u.URL, "/cos/7465-"+testEnv+"-1250000000/") || u.Token == "" || u.CosFileID == "" ||
		!strings.HasPrefix(u.Authorization, "q-sign-algorithm=sha1&") {
		t.Fatalf("uploadfile answer %+v", u)
	}
	status, etag, body := r.cosPost(u.URL, formFields(u, path), data)
	if status != http.StatusNoContent || etag != `"`+md5hex(data)+`"` || body != "" {
		t.Fatalf("COS POST: %d %s %q", status, etag, body)
	}
	link := r.link(u.FileID)

	resp, got := fetch(t, http.MethodGet, link)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("GET: %d %q, want the uploaded bytes", resp.StatusCode, got)
	}
	if resp.Header.Get("ETag") != `"`+md5hex(data)+`"` || resp.Header.Get("Content-Length") != fmt.Sprint(len(data)) ||
		resp.Header.Get("Last-Modified") == "" {
		t.Fatalf("GET headers %v", resp.Header)
	}
	resp, got = fetch(t, http.MethodGet, link, "Range", "bytes=7-11")
	if resp.StatusCode != http.StatusPartialContent || string(got) != "cloud" ||
		resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 7-11/%d", len(data)) {
		t.Fatalf("Range GET: %d %q %v", resp.StatusCode, got, resp.Header)
	}
	resp, got = fetch(t, http.MethodHead, link)
	if resp.StatusCode != http.StatusOK || len(got) != 0 || resp.Header.Get("Content-Length") != fmt.Sprint(len(data)) {
		t.Fatalf("HEAD: %d %q %v", resp.StatusCode, got, resp.Header)
	}
}

func TestUploadToTheSamePathOverwritesAndKeepsTheFileID(t *testing.T) {
	r := newRig(t, emulator.Options{})
	id1 := r.upload("a/b.bin", []byte("first"))
	id2 := r.upload("a/b.bin", []byte("second version"))
	if id1 != id2 {
		t.Fatalf("file IDs %q and %q differ", id1, id2)
	}
	if _, got := fetch(t, http.MethodGet, r.link(id2)); string(got) != "second version" {
		t.Fatalf("after overwrite: %q", got)
	}
}

func TestUploadFileRefusesInvalidPaths(t *testing.T) {
	r := newRig(t, emulator.Options{})
	for _, p := range []string{"", "/abs", "a//b", strings.Repeat("x", 851), "a\x1bb"} {
		var resp wire.UploadFileResponse
		r.call(wire.PathUploadFile, wire.UploadFileRequest{Env: testEnv, Path: p}, &resp)
		if resp.ErrCode != wire.CodeInvalidArg || resp.URL != "" {
			t.Errorf("uploadfile %q: %+v, want errcode %d", p, resp.Envelope, wire.CodeInvalidArg)
		}
	}
}

func TestCosPostRefusals(t *testing.T) {
	r := newRig(t, emulator.Options{MaxObjectSize: 10})
	u := r.uploadFile("k")
	other := r.uploadFile("other")
	good := formFields(u, "k")
	with := func(name, value string) []field {
		out := []field{}
		for _, f := range good {
			if f.name == name {
				if value == "" {
					continue
				}
				f.value = value
			}
			out = append(out, f)
		}
		return out
	}
	cases := []struct {
		name   string
		fields []field
		data   []byte
		status int
		code   string
	}{
		{"no key", with(wire.FormKey, ""), []byte("x"), 400, wire.CosInvalidArgument},
		{"no Signature", with(wire.FormSignature, ""), []byte("x"), 400, wire.CosInvalidArgument},
		{"no file", good, nil, 400, wire.CosInvalidArgument},
		{"forged signature", with(wire.FormSignature, strings.Replace(u.Authorization, "q-signature=", "q-signature=00", 1)), []byte("x"), 403, wire.CosAccessDenied},
		{"signature of another key", with(wire.FormSignature, other.Authorization), []byte("x"), 403, wire.CosAccessDenied},
		{"key other than signed", with(wire.FormKey, "other"), []byte("x"), 403, wire.CosAccessDenied},
		{"security token of another upload", with(wire.FormSecurityToken, other.Token), []byte("x"), 403, wire.CosAccessDenied},
		{"too large", good, []byte("12345678901"), 400, wire.CosEntityTooLarge},
	}
	for _, c := range cases {
		status, _, body := r.cosPost(u.URL, c.fields, c.data)
		if status != c.status || !hasCosError(body, c.code) {
			t.Errorf("%s: %d %s, want %d %s", c.name, status, body, c.status, c.code)
		}
	}
	if st := r.emu.Stats(); st.Objects != 0 {
		t.Fatalf("refused uploads stored %d objects", st.Objects)
	}
	if status, _, body := r.cosPost(u.URL, good, []byte("1234567890")); status != http.StatusNoContent {
		t.Fatalf("upload of exactly the limit: %d %s", status, body)
	}
}

func TestCosPostAfterTheUploadWindowIsDenied(t *testing.T) {
	r := newRig(t, emulator.Options{})
	u := r.uploadFile("late")
	r.clock.Advance(900*time.Second + 2*time.Second)
	status, _, body := r.cosPost(u.URL, formFields(u, "late"), []byte("x"))
	if status != http.StatusForbidden || !hasCosError(body, wire.CosAccessDenied) {
		t.Fatalf("upload after 900 s: %d %s, want 403 AccessDenied", status, body)
	}
}

func TestUploadWithoutTheRightMetaFileIDIsInvisible(t *testing.T) {
	r := newRig(t, emulator.Options{})
	for _, meta := range []string{"", "wrong"} {
		path := "meta-" + meta
		u := r.uploadFile(path)
		fields := formFields(u, path)
		fields[3].value = meta
		if meta == "" {
			fields = fields[:3]
		}
		if status, _, body := r.cosPost(u.URL, fields, []byte("x")); status != http.StatusNoContent {
			t.Fatalf("COS POST with meta %q: %d %s", meta, status, body)
		}
		res := r.downloadLinks(60, u.FileID)
		it := res.FileList[0]
		if res.ErrCode != 0 || it.Status != wire.StatusNonexist || it.ErrMsg != wire.ErrMsgFileNonexist || it.DownloadURL != "" {
			t.Errorf("download link of an upload with meta %q: %+v", meta, res)
		}
	}
	if st := r.emu.Stats(); st.Objects != 2 {
		t.Fatalf("objects stored: %d, want 2 (stored but invisible)", st.Objects)
	}
}

func TestDownloadLinkExpiresAndCannotBeForged(t *testing.T) {
	r := newRig(t, emulator.Options{})
	id := r.upload("f", []byte("data"))
	res := r.downloadLinks(60, id)
	link := res.FileList[0].DownloadURL
	forged := strings.Replace(link, "sign=", "sign=0", 1)
	if resp, body := fetch(t, http.MethodGet, forged); resp.StatusCode != http.StatusForbidden || !hasCosError(string(body), wire.CosAccessDenied) {
		t.Fatalf("forged link: %d %s", resp.StatusCode, body)
	}
	other := strings.Replace(link, "/f?", "/g?", 1)
	if resp, _ := fetch(t, http.MethodGet, other); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("link of another key: %d", resp.StatusCode)
	}
	r.clock.Advance(59 * time.Second)
	if resp, body := fetch(t, http.MethodGet, link); resp.StatusCode != http.StatusOK || string(body) != "data" {
		t.Fatalf("link within max_age: %d %q", resp.StatusCode, body)
	}
	r.clock.Advance(2 * time.Second)
	if resp, _ := fetch(t, http.MethodGet, link); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("link after max_age: %d, want 403", resp.StatusCode)
	}
}

func TestBatchCallArgumentLimits(t *testing.T) {
	r := newRig(t, emulator.Options{})
	id := r.upload("f", []byte("x"))
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = id
		}
		return out
	}
	if res := r.downloadLinks(60, ids(51)...); res.ErrCode != wire.CodeInvalidArg {
		t.Errorf("batchdownloadfile of 51: %+v", res.Envelope)
	}
	if res := r.downloadLinks(60, ids(50)...); res.ErrCode != 0 || len(res.FileList) != 50 {
		t.Errorf("batchdownloadfile of 50: %+v, %d items", res.Envelope, len(res.FileList))
	}
	for _, age := range []int{0, -1, 86401} {
		if res := r.downloadLinks(age, id); res.ErrCode != wire.CodeInvalidArg {
			t.Errorf("max_age %d: %+v", age, res.Envelope)
		}
	}
	if res := r.downloadLinks(86400, id); res.ErrCode != 0 || res.FileList[0].Status != 0 {
		t.Errorf("max_age 86400: %+v", res)
	}
	var del wire.DeleteFileResponse
	r.call(wire.PathBatchDeleteFile, wire.DeleteFileRequest{Env: testEnv, FileIDList: ids(51)}, &del)
	if del.ErrCode != wire.CodeInvalidArg {
		t.Errorf("batchdeletefile of 51: %+v", del.Envelope)
	}
}

func TestUnknownFileIDsAreNonexistItemByItem(t *testing.T) {
	r := newRig(t, emulator.Options{})
	id := r.upload("real", []byte("x"))
	unknown := []string{
		wire.FileID(testEnv, wire.Bucket(testEnv), "never-uploaded"),
		wire.FileID("other-env", wire.Bucket("other-env"), "real"),
		"not a file id",
	}
	res := r.downloadLinks(60, append([]string{id}, unknown...)...)
	if res.ErrCode != 0 || len(res.FileList) != 4 || res.FileList[0].Status != 0 || res.FileList[0].FileID != id {
		t.Fatalf("batchdownloadfile: %+v", res)
	}
	for i, it := range res.FileList[1:] {
		if it.FileID != unknown[i] || it.Status != wire.StatusNonexist || it.ErrMsg != wire.ErrMsgFileNonexist || it.DownloadURL != "" {
			t.Errorf("item %d: %+v, want STORAGE_FILE_NONEXIST for %q", i+1, it, unknown[i])
		}
	}
}

func TestBatchDeleteRemovesAndThenReportsNonexist(t *testing.T) {
	r := newRig(t, emulator.Options{})
	a := r.upload("a", []byte("a"))
	b := r.upload("b", []byte("b"))
	link := r.link(a)
	var del wire.DeleteFileResponse
	r.call(wire.PathBatchDeleteFile, wire.DeleteFileRequest{Env: testEnv, FileIDList: []string{a, b}}, &del)
	if del.ErrCode != 0 || len(del.DeleteList) != 2 || del.DeleteList[0].Status != 0 || del.DeleteList[1].Status != 0 {
		t.Fatalf("first delete: %+v", del)
	}
	r.call(wire.PathBatchDeleteFile, wire.DeleteFileRequest{Env: testEnv, FileIDList: []string{a}}, &del)
	if it := del.DeleteList[0]; del.ErrCode != 0 || it.FileID != a || it.Status != wire.StatusNonexist || it.ErrMsg != wire.ErrMsgFileNonexist {
		t.Fatalf("second delete: %+v", del)
	}
	if res := r.downloadLinks(60, a); res.FileList[0].Status != wire.StatusNonexist {
		t.Fatalf("link of a deleted file: %+v", res)
	}
	if resp, body := fetch(t, http.MethodGet, link); resp.StatusCode != http.StatusNotFound || !hasCosError(string(body), wire.CosNoSuchKey) {
		t.Fatalf("old link of a deleted file: %d %s", resp.StatusCode, body)
	}
}
