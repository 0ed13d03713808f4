package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// startWechatEmulator runs `pan123fs emulator --backend wechat-cloudbase`
// with args and returns its URL.
func startWechatEmulator(t *testing.T, args ...string) string {
	t.Helper()
	return runEmulator(t, "wechat emulator", append([]string{"emulator", "--backend", "wechat-cloudbase"}, args...)...)
}

// wxPost posts body as JSON to base+path and decodes the answer into out.
func wxPost(t *testing.T, base, path string, body, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := http.Post(base+path, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(out), path)
}

func TestEmulatorWechatRoundTrip(t *testing.T) {
	base := startWechatEmulator(t, "--appid", "wxA", "--secret", "S", "--env", "e2e-1a2b3c")

	var tok wire.TokenResponse
	resp, err := http.Get(base + wire.PathToken + "?grant_type=client_credential&appid=wxA&secret=S")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	require.Zero(t, tok.ErrCode, "token: %+v", tok)
	require.Equal(t, 7200, tok.ExpiresIn)
	q := "?access_token=" + url.QueryEscape(tok.AccessToken)

	var up wire.UploadFileResponse
	wxPost(t, base, wire.PathUploadFile+q, wire.UploadFileRequest{Env: "e2e-1a2b3c", Path: "dir/hello.txt"}, &up)
	require.Zero(t, up.ErrCode, "uploadfile: %+v", up)
	require.Equal(t, "cloud://e2e-1a2b3c.7465-e2e-1a2b3c-1250000000/dir/hello.txt", up.FileID)

	data := []byte("hello from the wechat emulator")
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField(wire.FormKey, "dir/hello.txt")
	mw.WriteField(wire.FormSignature, up.Authorization)
	mw.WriteField(wire.FormSecurityToken, up.Token)
	mw.WriteField(wire.FormMetaFileID, up.CosFileID)
	fw, err := mw.CreateFormFile(wire.FormFile, "hello.txt")
	require.NoError(t, err)
	fw.Write(data)
	require.NoError(t, mw.Close())
	resp, err = http.Post(up.URL, mw.FormDataContentType(), &form)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "COS form POST")

	var dl wire.DownloadFileResponse
	wxPost(t, base, wire.PathBatchDownloadFile+q, wire.DownloadFileRequest{Env: "e2e-1a2b3c",
		FileList: []wire.DownloadFileItem{{FileID: up.FileID, MaxAge: 600}}}, &dl)
	require.Zero(t, dl.ErrCode, "batchdownloadfile: %+v", dl)
	require.Len(t, dl.FileList, 1)
	require.Zero(t, dl.FileList[0].Status, "%+v", dl.FileList[0])
	resp, err = http.Get(dl.FileList[0].DownloadURL)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, data, got)

	var stats struct{ Calls map[string]int64 }
	resp, err = http.Get(base + "/__emulator/stats")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&stats))
	resp.Body.Close()
	require.Equal(t, int64(1), stats.Calls["POST /cos"], "%v", stats.Calls)
}

func TestEmulatorWechatRefusesFlagsOfTheOtherBackend(t *testing.T) {
	for _, args := range [][]string{
		{"emulator", "--backend", "wechat-cloudbase", "--data", t.TempDir()},
		{"emulator", "--appid", "a", "--secret", "s"},
		{"emulator", "--backend", "other"},
		{"emulator", "--backend", "wechat-cloudbase", "--appid", "a"},
		{"emulator", "--backend", "wechat-cloudbase", "--env", "a.b"},
	} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		require.Error(t, err, "%v: %s", args, out)
	}
}
