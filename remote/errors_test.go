package remote

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote/wire"
)

func TestDecodeEnvelopeGood(t *testing.T) {
	body := `{"code":0,"message":"ok","data":{"fileId":12345678901,"filename":"a.jpg","s3KeyFlag":"x","ossIndex":3,"parentFileId":"p"},"x-traceID":"tr-1","extra":[1,2]}`
	data, err := decodeEnvelope("detail", 200, []byte(body), http.Header{})
	require.NoError(t, err)
	var e wire.Entry
	require.NoError(t, json.Unmarshal(data, &e))
	assert.Equal(t, wire.ID("12345678901"), e.FileID)
	assert.Equal(t, "a.jpg", e.Filename)
	assert.Equal(t, wire.ID("p"), e.ParentFileID)

	// code as a numeric string, data null
	data, err = decodeEnvelope("delete", 200, []byte(` {"code":"0","message":"ok","data":null} `), nil)
	require.NoError(t, err)
	assert.Equal(t, "null", string(data))
}

func TestDecodeEnvelopeErrors(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		code       int
		is         error
		temporary  bool
		ambiguous  bool
		msgHas     string
	}{
		{"not found", `{"code":5066,"message":"文件不存在","data":null,"x-traceID":"t5066"}`, 200, 5066, ErrNotFound, false, false, "文件不存在"},
		{"rate body", `{"code":429,"message":"请求太频繁","data":null}`, 200, 429, ErrRateLimited, true, false, "请求太频繁"},
		{"rate http", `{"code":429,"message":"slow down"}`, 429, 429, ErrRateLimited, true, false, "slow down"},
		{"rate http no body", ``, 429, 0, ErrRateLimited, true, false, "Too Many Requests"},
		{"auth", `{"code":401,"message":"access_token无效"}`, 200, 401, ErrAuth, false, false, "无效"},
		{"auth http", `<html>401</html>`, 401, 0, ErrAuth, false, false, "not a 123pan envelope"},
		{"clash", `{"code":1,"message":"当前目录有重名文件"}`, 200, 1, ErrNameClash, false, false, "重名"},
		{"clash mkdir", `{"code":1,"message":"已经有同名文件夹"}`, 200, 1, ErrNameClash, false, false, "同名"},
		{"clash create", `{"code":1,"message":"该目录下文件名重复无法创建"}`, 200, 1, ErrNameClash, false, false, "重复"},
		{"already there", `{"code":1,"message":"文件已在当前文件夹中，请选择其他文件夹"}`, 200, 1, ErrAlreadyThere, false, false, "已在"},
		{"bad login", `{"code":401,"message":"无效的登录信息"}`, 200, 401, ErrAuth, false, false, "无效的登录信息"},
		{"clash en", `{"code":1,"message":"A file with the same name already exists"}`, 200, 1, ErrNameClash, false, false, "same name"},
		{"verifying", `{"code":20103,"message":"文件正在校验中,请间隔1秒后再试"}`, 200, 20103, ErrVerifying, true, false, "校验"},
		{"quota", `{"code":5113,"message":"流量超限"}`, 200, 5113, ErrQuota, false, false, "流量"},
		{"validation", `{"code":1,"message":"参数错误"}`, 200, 1, nil, false, false, "参数错误"},
		{"5xx html", `<html>bad gateway</html>`, 502, 0, nil, true, true, "bad gateway"},
		{"5xx empty", ``, 503, 0, nil, true, true, "Service Unavailable"},
		{"200 empty", ``, 200, 0, nil, true, true, "empty answer"},
		{"200 garbage", `hello`, 200, 0, nil, true, true, "hello"},
		{"no code", `{"message":"ok"}`, 200, 0, nil, true, true, "not a 123pan envelope"},
		{"array", `[1,2]`, 200, 0, nil, true, true, "not a 123pan envelope"},
		{"bad code", `{"code":"x"}`, 200, 0, nil, true, true, "bad code"},
		{"404 html", `<h1>nope</h1>`, 404, 0, nil, false, false, "(HTTP 404)"},
		{"5xx body code", `{"code":500,"message":"internal"}`, 200, 500, nil, true, true, "internal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := decodeEnvelope("mkdir", tc.status, []byte(tc.body), http.Header{"X-Traceid": {"hdr-trace"}})
			require.Error(t, err)
			assert.Nil(t, data)
			var e *APIError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.code, e.Code)
			assert.Equal(t, tc.status, e.HTTPStatus)
			assert.Contains(t, err.Error(), "mkdir")
			assert.Contains(t, err.Error(), tc.msgHas)
			assert.Contains(t, err.Error(), "x-traceID")
			if tc.is != nil {
				wrapped := fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", err))
				assert.ErrorIs(t, wrapped, tc.is)
			}
			for _, s := range []error{ErrNotFound, ErrRateLimited, ErrAuth, ErrNameClash, ErrVerifying, ErrQuota} {
				if s != tc.is {
					assert.NotErrorIs(t, err, s)
				}
			}
			assert.Equal(t, tc.temporary, IsTemporary(err), "temporary")
			assert.Equal(t, tc.ambiguous, IsAmbiguous(err), "ambiguous")
		})
	}
}

func TestTraceIDInError(t *testing.T) {
	_, err := decodeEnvelope("list", 200, []byte(`{"code":1,"message":"boom","x-traceID":"abc-123"}`), nil)
	assert.Contains(t, err.Error(), "x-traceID abc-123")
	assert.Contains(t, err.Error(), "code 1")
	_, err = decodeEnvelope("list", 200, []byte(`{"code":1,"message":"boom"}`), http.Header{"X-Traceid": {"from-header"}})
	assert.Contains(t, err.Error(), "from-header")
}

func TestRetryAfterHeader(t *testing.T) {
	_, err := decodeEnvelope("list", 429, nil, http.Header{"Retry-After": {"3"}})
	var e *APIError
	require.ErrorAs(t, err, &e)
	assert.Equal(t, int64(3e9), int64(e.retryAfter))
	p := backoff.Policy{Initial: 1, Max: 10e9, Jitter: true}
	assert.GreaterOrEqual(t, int64(retryDelay(p, 0, err)), int64(3e9))
}

func TestInvalidNameSentinel(t *testing.T) {
	err := invalidName("a/b", wire.ValidateName("a/b"))
	assert.ErrorIs(t, fmt.Errorf("wrap: %w", err), ErrInvalidName)
	assert.ErrorIs(t, err, wire.ErrNameBadChar)
	assert.False(t, IsTemporary(err))
}

func TestTransportClassification(t *testing.T) {
	refused := &APIError{Endpoint: "mkdir", Err: syscall.ECONNREFUSED, sent: false}
	assert.True(t, IsTemporary(refused))
	assert.False(t, IsAmbiguous(refused))
	reset := &APIError{Endpoint: "mkdir", Err: syscall.ECONNRESET, sent: true}
	assert.True(t, IsTemporary(reset))
	assert.True(t, IsAmbiguous(reset))
	canceled := &APIError{Endpoint: "mkdir", Err: errors.New("context canceled"), sent: true, canceled: true}
	assert.False(t, IsTemporary(canceled))
	assert.True(t, IsAmbiguous(canceled))
	assert.True(t, IsTemporary(io.ErrUnexpectedEOF))
	assert.False(t, IsTemporary(errors.New("plain")))
	assert.False(t, IsTemporary(nil))
	presign := &APIError{Endpoint: EndpointPutSlice, HTTPStatus: 403}
	assert.ErrorIs(t, presign, ErrPresignExpired)
	assert.NotErrorIs(t, &APIError{Endpoint: "list", HTTPStatus: 403}, ErrPresignExpired)
	assert.ErrorIs(t, &APIError{Endpoint: EndpointFetch, HTTPStatus: 404}, ErrNotFound)
	assert.NotErrorIs(t, &APIError{Endpoint: "list", HTTPStatus: 404}, ErrNotFound)
}

func TestConfigRedaction(t *testing.T) {
	cfg := Config{BaseURL: "https://x", ClientID: "id", ClientSecret: testSecret, StateDir: "/tmp/s"}
	for _, s := range []string{
		fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", cfg),
		fmt.Sprint(cfg), fmt.Sprintf("%v", &cfg), fmt.Sprintf("%+v", []Config{cfg}), cfg.String(), cfg.GoString(),
	} {
		assert.NotContains(t, s, testSecret)
		assert.Contains(t, s, "REDACTED")
	}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.NotContains(t, string(b), testSecret)
	var sb strings.Builder
	testLog := slogTo(&sb)
	testLog.Info("cfg", "cfg", cfg)
	assert.NotContains(t, sb.String(), testSecret)
	assert.Contains(t, sb.String(), "REDACTED")

	c, err := New(cfg)
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v %s", c, c, c, c), testSecret)
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"code":0,"message":"ok","data":null}`, `{"code":5066}`, `{"code":"0","data":{"a":1}}`, ``, `null`,
		`{"code":1.5}`, `{"code":0,"message":{"x":1},"x-traceID":7}`, `[]`, `<html>`, `{"code":0,"data":`,
	} {
		f.Add(s, 200)
		f.Add(s, 502)
	}
	f.Fuzz(func(t *testing.T, body string, status int) {
		data, err := decodeEnvelope("fuzz", status, []byte(body), http.Header{})
		if err != nil {
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *APIError", err)
			}
			if data != nil {
				t.Fatal("data with an error")
			}
			_ = e.Error()
			IsTemporary(err)
			IsAmbiguous(err)
			return
		}
		if status/100 != 2 {
			t.Fatalf("success with HTTP %d", status)
		}
		var env struct {
			Code json.RawMessage `json:"code"`
		}
		if json.Unmarshal([]byte(strings.TrimSpace(body)), &env) != nil {
			t.Fatalf("success on a body that is not JSON: %q", body)
		}
		if c, ok := parseCode(env.Code); !ok || c != 0 {
			t.Fatalf("success with code %s", env.Code)
		}
	})
}
