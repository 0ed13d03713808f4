package emulator

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// env is a started emulator plus a raw HTTP client with a token.
type env struct {
	t     *testing.T
	s     *Server
	url   string
	token string
	hc    *http.Client
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	if cfg.AsyncDelay == 0 {
		cfg.AsyncDelay = 150 * time.Millisecond
	}
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	s, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, s.Start("127.0.0.1:0"))
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	e := &env{t: t, s: s, url: s.URL(), hc: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{}}}
	e.token = e.newToken("id", "secret")
	return e
}

func (e *env) newToken(id, secret string) string {
	e.t.Helper()
	var d wire.AccessTokenData
	e.ok(http.MethodPost, wire.PathAccessToken, map[string]string{"clientID": id, "clientSecret": secret}, &d)
	require.NotEmpty(e.t, d.AccessToken)
	return d.AccessToken
}

// do sends one API call with the given headers (nil = Platform + token).
func (e *env) do(method, path string, body any, hdr map[string]string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			require.NoError(e.t, err)
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	if hdr == nil {
		hdr = map[string]string{wire.HeaderPlatform: wire.PlatformValue, wire.HeaderAuth: "Bearer " + e.token}
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// call sends an API call and decodes the envelope.
func (e *env) call(method, path string, body any, hdr map[string]string) wire.Envelope {
	e.t.Helper()
	resp, b, err := e.do(method, path, body, hdr)
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, resp.StatusCode, "body %s", b)
	var env wire.Envelope
	require.NoError(e.t, json.Unmarshal(b, &env), "body %s", b)
	require.NotEmpty(e.t, env.TraceID)
	return env
}

// ok sends an API call that must succeed and decodes its data into out.
func (e *env) ok(method, path string, body, out any) {
	e.t.Helper()
	env := e.call(method, path, body, nil)
	require.Equal(e.t, 0, env.Code, "%s %s: %s", method, path, env.Message)
	if out != nil {
		require.NoError(e.t, json.Unmarshal(env.Data, out))
	}
}

// fail sends an API call that must fail with code; it returns the message.
func (e *env) fail(code int, method, path string, body any) string {
	e.t.Helper()
	env := e.call(method, path, body, nil)
	require.Equal(e.t, code, env.Code, "%s %s: %s", method, path, env.Message)
	require.Equal(e.t, "null", string(env.Data))
	require.NotEmpty(e.t, env.Message)
	return env.Message
}

func (e *env) mkdir(parent, name string) string {
	e.t.Helper()
	var d wire.MkdirData
	e.ok(http.MethodPost, wire.PathMkdir, map[string]any{"name": name, "parentID": parent, "type": 1}, &d)
	require.Len(e.t, d.List, 1)
	return string(d.List[0].DirID)
}

func md5hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

func (e *env) create(parent, name string, data []byte) wire.CreateData {
	e.t.Helper()
	var d wire.CreateData
	e.ok(http.MethodPost, wire.PathCreate, map[string]any{"parentFileID": parent, "filename": name,
		"etag": md5hex(data), "size": len(data), "type": 1}, &d)
	return d
}

func (e *env) uploadURL(pre string, n int) string {
	e.t.Helper()
	var d wire.GetUploadURLData
	e.ok(http.MethodPost, wire.PathGetUploadURL, map[string]any{"preuploadID": pre, "sliceNo": n}, &d)
	return d.PresignedURL
}

// put PUTs raw bytes to a presigned URL and returns the HTTP status.
func (e *env) put(u string, data []byte, hdr map[string]string) int {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(data))
	require.NoError(e.t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.hc.Do(req)
	require.NoError(e.t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// putSlices uploads every slice of data for preupload pre.
func (e *env) putSlices(pre string, sliceSize int64, data []byte) {
	e.t.Helper()
	n := max(1, (int64(len(data))+sliceSize-1)/sliceSize)
	for i := int64(0); i < n; i++ {
		chunk := data[i*sliceSize : min(int64(len(data)), (i+1)*sliceSize)]
		require.Equal(e.t, http.StatusOK, e.put(e.uploadURL(pre, int(i+1)), chunk, nil))
	}
}

// upload runs the whole flow and returns the new file's ID.
func (e *env) upload(parent, name string, data []byte) string {
	e.t.Helper()
	c := e.create(parent, name, data)
	if c.Reuse {
		return string(c.FileID)
	}
	e.putSlices(c.PreuploadID, c.SliceSize, data)
	var d wire.UploadCompleteData
	e.ok(http.MethodPost, wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}, &d)
	if d.Completed {
		return string(d.FileID)
	}
	require.True(e.t, bool(d.Async))
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var r wire.UploadAsyncResultData
		e.ok(http.MethodPost, wire.PathUploadAsyncResult, map[string]string{"preuploadID": c.PreuploadID}, &r)
		if r.Completed {
			return string(r.FileID)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatal("upload never completed")
	return ""
}

func (e *env) detail(id string) wire.Entry {
	e.t.Helper()
	var d wire.Entry
	e.ok(http.MethodGet, wire.PathDetail+"?fileID="+id, nil, &d)
	return d
}

func (e *env) list(parent string, limit int, last string) wire.ListData {
	e.t.Helper()
	var d wire.ListData
	e.ok(http.MethodPost, wire.PathList, map[string]any{"parentFileId": parent, "limit": limit, "lastFileId": last, "type": 1}, &d)
	return d
}

// listAll follows the cursor to the end.
func (e *env) listAll(parent string) []wire.Entry {
	e.t.Helper()
	var all []wire.Entry
	last := ""
	for i := 0; i < 1000; i++ {
		d := e.list(parent, 100, last)
		all = append(all, d.FileList...)
		if d.LastFileID == wire.ListEnd {
			return all
		}
		last = string(d.LastFileID)
	}
	e.t.Fatal("list never ended")
	return nil
}

// get downloads a URL with optional headers.
func (e *env) get(method, u string, hdr map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, u, nil)
	require.NoError(e.t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.hc.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp, b
}

// admin posts to /__emulator/.
func (e *env) admin(path, body string) []byte {
	e.t.Helper()
	resp, err := e.hc.Post(e.url+"/__emulator/"+path, "text/plain", strings.NewReader(body))
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(e.t, http.StatusOK, resp.StatusCode, "%s", b)
	return b
}

func randBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

// waitFor polls cond until it holds or the time runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
