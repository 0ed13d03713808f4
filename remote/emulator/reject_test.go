package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

func TestRejects(t *testing.T) {
	e := newEnv(t, Config{})
	dir := e.mkdir("", "dir")
	file := e.upload("", "a.jpg", []byte("abc"))
	root := string(e.detail(file).ParentFileID)
	ids := make([]string, 101)
	for i := range ids {
		ids[i] = fmt.Sprint("id", i)
	}
	okHdr := map[string]string{wire.HeaderPlatform: wire.PlatformValue, wire.HeaderAuth: "Bearer " + e.token}
	good := md5hex([]byte("x"))
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		hdr    map[string]string
		code   int
		msg    string // substring of the message
	}{
		{"no Platform", "POST", wire.PathList, map[string]any{"limit": 10, "type": 1}, map[string]string{wire.HeaderAuth: "Bearer " + e.token}, 1, "Platform"},
		{"wrong Platform", "POST", wire.PathList, map[string]any{"limit": 10, "type": 1}, map[string]string{wire.HeaderPlatform: "web", wire.HeaderAuth: "Bearer " + e.token}, 1, "Platform"},
		{"token call without Platform", "POST", wire.PathAccessToken, map[string]string{"clientID": "a", "clientSecret": "b"}, map[string]string{}, 1, "Platform"},
		{"no token", "POST", wire.PathList, map[string]any{"limit": 10, "type": 1}, map[string]string{wire.HeaderPlatform: wire.PlatformValue}, 401, "Authorization"},
		{"bad token", "POST", wire.PathList, map[string]any{"limit": 10, "type": 1}, map[string]string{wire.HeaderPlatform: wire.PlatformValue, wire.HeaderAuth: "Bearer nope"}, 401, "无效的登录信息"},
		{"not bearer", "POST", wire.PathList, map[string]any{"limit": 10, "type": 1}, map[string]string{wire.HeaderPlatform: wire.PlatformValue, wire.HeaderAuth: e.token}, 401, "Bearer"},
		{"empty credentials", "POST", wire.PathAccessToken, map[string]string{"clientID": "", "clientSecret": ""}, nil, 1, "clientID"},
		{"missing credentials", "POST", wire.PathAccessToken, map[string]string{}, nil, 1, "clientID"},
		{"not JSON", "POST", wire.PathList, "limit=3", okHdr, 1, "JSON"},
		{"list limit missing", "POST", wire.PathList, map[string]any{"type": 1}, nil, 1, "limit"},
		{"list limit 0", "POST", wire.PathList, map[string]any{"limit": 0, "type": 1}, nil, 1, "limit"},
		{"list limit 101", "POST", wire.PathList, map[string]any{"limit": 101, "type": 1}, nil, 1, "limit"},
		{"list type missing", "POST", wire.PathList, map[string]any{"limit": 5}, nil, 1, "type"},
		{"list type 0", "POST", wire.PathList, map[string]any{"limit": 5, "type": 0}, nil, 1, "type"},
		{"list unknown folder", "POST", wire.PathList, map[string]any{"limit": 5, "type": 1, "parentFileId": "nope"}, nil, 5066, "nope"},
		{"list a file", "POST", wire.PathList, map[string]any{"limit": 5, "type": 1, "parentFileId": file}, nil, 5066, "not a folder"},
		{"list limit as string", "POST", wire.PathList, map[string]any{"limit": "5", "type": 1}, nil, 1, "invalid"},
		{"delete 101 IDs", "POST", wire.PathDelete, map[string]any{"fileIDs": ids}, nil, 1, "100"},
		{"delete no IDs", "POST", wire.PathDelete, map[string]any{"fileIDs": []string{}}, nil, 1, "empty"},
		{"move 101 IDs", "POST", wire.PathMove, map[string]any{"fileIDs": ids, "toParentFileID": ""}, nil, 1, "100"},
		{"move unknown target", "POST", wire.PathMove, map[string]any{"fileIDs": []string{file}, "toParentFileID": "zz"}, nil, 5066, "zz"},
		{"move unknown file", "POST", wire.PathMove, map[string]any{"fileIDs": []string{"zz"}, "toParentFileID": dir}, nil, 5066, "zz"},
		{"detail unknown", "GET", wire.PathDetail + "?fileID=zz", nil, nil, 5066, "zz"},
		{"detail no ID", "GET", wire.PathDetail, nil, nil, 1, "fileID"},
		{"mkdir bad char", "POST", wire.PathMkdir, map[string]any{"name": "a/b", "parentID": "", "type": 1}, nil, 1, "name"},
		{"mkdir all spaces", "POST", wire.PathMkdir, map[string]any{"name": "   ", "parentID": "", "type": 1}, nil, 1, "name"},
		{"mkdir too long", "POST", wire.PathMkdir, map[string]any{"name": strings.Repeat("图", 255), "parentID": "", "type": 1}, nil, 1, "name"},
		{"mkdir type 2", "POST", wire.PathMkdir, map[string]any{"name": "x", "parentID": "", "type": 2}, nil, 1, "type"},
		{"mkdir unknown parent", "POST", wire.PathMkdir, map[string]any{"name": "x", "parentID": "nope", "type": 1}, nil, 5066, "nope"},
		{"mkdir clash", "POST", wire.PathMkdir, map[string]any{"name": "dir", "parentID": "", "type": 1}, nil, 1, "已经有同名文件夹"},
		{"mkdir clash with file", "POST", wire.PathMkdir, map[string]any{"name": "a.jpg", "parentID": "", "type": 1}, nil, 1, "已经有同名文件夹"},
		{"mkdir twice same", "POST", wire.PathMkdir, map[string]any{"name": []string{"q", "q"}, "parentID": "", "type": 1}, nil, 1, "已经有同名文件夹"},
		{"mkdir name number", "POST", wire.PathMkdir, map[string]any{"name": 5, "parentID": "", "type": 1}, nil, 1, "name"},
		{"create bad name", "POST", wire.PathCreate, map[string]any{"parentFileID": "", "filename": "a?.jpg", "etag": good, "size": 1, "type": 1}, nil, 1, "filename"},
		{"create bad etag", "POST", wire.PathCreate, map[string]any{"parentFileID": "", "filename": "b.jpg", "etag": "xyz", "size": 1, "type": 1}, nil, 1, "etag"},
		{"create size missing", "POST", wire.PathCreate, map[string]any{"parentFileID": "", "filename": "b.jpg", "etag": good, "type": 1}, nil, 1, "size"},
		{"create negative size", "POST", wire.PathCreate, map[string]any{"parentFileID": "", "filename": "b.jpg", "etag": good, "size": -1, "type": 1}, nil, 1, "size"},
		{"create type missing", "POST", wire.PathCreate, map[string]any{"parentFileID": "", "filename": "b.jpg", "etag": good, "size": 1}, nil, 1, "type"},
		{"create clash", "POST", wire.PathCreate, map[string]any{"parentFileID": "", "filename": "a.jpg", "etag": good, "size": 1, "type": 1}, nil, 1, "该目录下文件名重复无法创建"},
		{"create clash with folder", "POST", wire.PathCreate, map[string]any{"parentFileID": "", "filename": "dir", "etag": good, "size": 1, "type": 1}, nil, 1, "该目录下文件名重复无法创建"},
		{"create unknown parent", "POST", wire.PathCreate, map[string]any{"parentFileID": "nope", "filename": "b.jpg", "etag": good, "size": 1, "type": 1}, nil, 5066, "nope"},
		{"get_upload_url unknown", "POST", wire.PathGetUploadURL, map[string]any{"preuploadID": "nope", "sliceNo": 1}, nil, 1, "preuploadID"},
		{"complete unknown", "POST", wire.PathUploadComplete, map[string]any{"preuploadID": "nope"}, nil, 1, "preuploadID"},
		{"async unknown", "POST", wire.PathUploadAsyncResult, map[string]any{"preuploadID": "nope"}, nil, 1, "preuploadID"},
		{"complete empty preuploadID", "POST", wire.PathUploadComplete, map[string]any{"preuploadID": ""}, nil, 1, "预上传ID不能为空"},
		{"move empty target", "POST", wire.PathMove, map[string]any{"fileIDs": []string{file}, "toParentFileID": ""}, nil, 1, "不能为空"},
		{"move into the folder it is in", "POST", wire.PathMove, map[string]any{"fileIDs": []string{file}, "toParentFileID": root}, nil, 1, "文件已在当前文件夹中，请选择其他文件夹"},
		{"copy sourceType", "POST", wire.PathCopy, map[string]any{"fileIDs": []string{"1"}, "toParentFileID": "", "sourceType": "2", "type": 1}, nil, 1, "sourceType"},
		{"offline not loopback", "POST", wire.PathOffline, map[string]any{"url": "http://10.1.2.3/a.png", "type": 1}, nil, 1, "loopback"},
		{"offline root dir", "POST", wire.PathOffline, map[string]any{"url": "http://127.0.0.1:1/a.png", "businessDirID": e.s.st.meta.RootID, "type": 1}, nil, 1, "root"},
		{"offline ftp", "POST", wire.PathOffline, map[string]any{"url": "ftp://127.0.0.1/a.png", "type": 1}, nil, 1, "http"},
		{"copy process unknown", "GET", wire.PathCopyProcess + "?taskID=zz", nil, nil, 1, "not found"},
		{"offline process unknown", "GET", wire.PathOfflineProcess + "?taskID=5", nil, nil, 1, "not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := e.call(tc.method, tc.path, tc.body, tc.hdr)
			assert.Equal(t, tc.code, env.Code, env.Message)
			assert.Contains(t, env.Message, tc.msg)
			assert.Equal(t, "null", string(env.Data))
		})
	}
	// Nothing was created by the refused calls.
	names := map[string]bool{}
	for _, en := range e.listAll("") {
		names[en.Filename] = true
	}
	assert.Equal(t, map[string]bool{"dir": true, "a.jpg": true}, names)
}

func TestTraceIDsAreFresh(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.call("POST", wire.PathList, map[string]any{"limit": 1, "type": 1}, nil)
	b := e.call("POST", wire.PathList, map[string]any{"limit": 1, "type": 1}, nil)
	assert.NotEqual(t, a.TraceID, b.TraceID)
}

func TestTokens(t *testing.T) {
	e := newEnv(t, Config{ClientID: "id", ClientSecret: "secret"})
	// Wrong credentials.
	env := e.call("POST", wire.PathAccessToken, map[string]string{"clientID": "id", "clientSecret": "wrong"}, nil)
	assert.Equal(t, 1, env.Code)
	assert.Contains(t, env.Message, "invalid clientID or clientSecret")
	// expiredAt is RFC 3339 in +08:00, ~30 days out.
	var d wire.AccessTokenData
	e.ok("POST", wire.PathAccessToken, map[string]string{"clientID": "id", "clientSecret": "secret"}, &d)
	exp, err := time.Parse(time.RFC3339, d.ExpiredAt)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(d.ExpiredAt, "+08:00"), d.ExpiredAt)
	assert.WithinDuration(t, time.Now().Add(DefaultTokenTTL), exp, time.Minute)
	// e.token, d.AccessToken, t3 are valid; the 4th knocks out e.token.
	t3 := e.newToken("id", "secret")
	list := map[string]any{"limit": 1, "type": 1}
	for _, tok := range []string{e.token, d.AccessToken, t3} {
		assert.Equal(t, 0, e.call("POST", wire.PathList, list, bearer(tok)).Code)
	}
	t4 := e.newToken("id", "secret")
	assert.Equal(t, 401, e.call("POST", wire.PathList, list, bearer(e.token)).Code)
	for _, tok := range []string{d.AccessToken, t3, t4} {
		assert.Equal(t, 0, e.call("POST", wire.PathList, list, bearer(tok)).Code)
	}
}

func TestTokenExpires(t *testing.T) {
	e := newEnv(t, Config{TokenTTL: 300 * time.Millisecond})
	list := map[string]any{"limit": 1, "type": 1}
	assert.Equal(t, 0, e.call("POST", wire.PathList, list, nil).Code)
	time.Sleep(400 * time.Millisecond)
	env := e.call("POST", wire.PathList, list, nil)
	assert.Equal(t, 401, env.Code)
	assert.Contains(t, env.Message, "expired")
}

func bearer(tok string) map[string]string {
	return map[string]string{wire.HeaderPlatform: wire.PlatformValue, wire.HeaderAuth: "Bearer " + tok}
}

func TestWrongMethod(t *testing.T) {
	e := newEnv(t, Config{})
	resp, _, err := e.do(http.MethodGet, wire.PathList, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
