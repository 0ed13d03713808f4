package remote

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote/wire"
)

const (
	testClientID = "client-id-1"
	testSecret   = "S3CRET-do-not-leak-7f3a"
)

// fastRetry keeps tests quick.
var fastRetry = backoff.Policy{Attempts: 5, Initial: time.Millisecond, Max: 4 * time.Millisecond, Jitter: true}

func noLimits() map[string]float64 {
	m := map[string]float64{}
	for k := range DefaultLimits {
		m[k] = 0
	}
	return m
}

// testClient is a Client on url with tiny delays and no rate limits.
func testClient(t *testing.T, url string, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL: url, ClientID: testClientID, ClientSecret: testSecret,
		Retry: fastRetry, Limits: noLimits(), AsyncPollInterval: 2 * time.Millisecond,
		AsyncTimeout: 5 * time.Second, Logger: testLogger(t),
	}
	for _, f := range mod {
		f(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c
}

// testLogger logs to t at debug level so every line is exercised.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func writeEnv(w http.ResponseWriter, code int, msg string, data any) {
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(map[string]any{"code": code, "message": msg, "data": data, "x-traceID": "trace-" + strconv.Itoa(code)})
	_, _ = w.Write(b)
}

// resetConn drops the connection without an answer.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

// fakePan is a small in-memory 123pan for tests: tokens, folders, uploads,
// list, detail, delete, move and downloads. Hooks inject faults.
type fakePan struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	calls      map[string]int // by endpoint name, plus "PUT" and "GET dl"
	tokens     []string
	tokenTTL   time.Duration
	tokenExp   map[string]time.Time
	entries    map[string]*wire.Entry
	order      []string // creation order
	blobs      map[string][]byte
	nextID     int
	sliceSize  int64
	pageSize   int
	emptyEnd   bool // answer the last ID on the last page, "-1" only on the next (empty) page
	uploads    map[string]*fakeUpload
	asyncPolls int  // upload_async_result answers completed only after this many polls
	discard    bool // keep no slice bytes (large uploads): md5 is not verified
	ignoreRng  bool
	putHeaders []http.Header

	// before runs first for every request; returning true means it answered.
	before func(name string, w http.ResponseWriter, r *http.Request) bool
	// after runs once the request was applied; returning true drops the
	// connection instead of sending the answer.
	after func(name string, r *http.Request) bool
}

type fakeUpload struct {
	parent, name, etag string
	size               int64
	slices             map[int][]byte
	sliceMD5           map[int]string
	sliceLen           map[int]int64
	done               bool
	fileID             string
	polls              int
}

func newFakePan(t *testing.T) *fakePan {
	f := &fakePan{t: t, calls: map[string]int{}, tokenExp: map[string]time.Time{}, entries: map[string]*wire.Entry{},
		blobs: map[string][]byte{}, uploads: map[string]*fakeUpload{}, sliceSize: 4, pageSize: 100, tokenTTL: time.Hour}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePan) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *fakePan) newID() string {
	f.nextID++
	return fmt.Sprintf("id%04d", f.nextID)
}

func (f *fakePan) serve(w http.ResponseWriter, r *http.Request) {
	name := endpointName(r.URL.Path)
	switch {
	case r.Method == http.MethodPut:
		name = "PUT"
	case strings.HasPrefix(r.URL.Path, "/dl/"):
		name = "GET dl"
	}
	f.mu.Lock()
	f.calls[name]++
	before := f.before
	f.mu.Unlock()
	if before != nil && before(name, w, r) {
		return
	}
	rec := httptest.NewRecorder()
	switch name {
	case "PUT":
		f.put(rec, r)
	case "GET dl":
		f.download(rec, r)
	default:
		f.api(name, rec, r)
	}
	f.mu.Lock()
	after := f.after
	f.mu.Unlock()
	if after != nil && after(name, r) {
		resetConn(w)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (f *fakePan) api(name string, w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(wire.HeaderPlatform) != wire.PlatformValue {
		writeEnv(w, 1, "missing Platform header", nil)
		return
	}
	var body map[string]json.RawMessage
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeEnv(w, 1, "bad json", nil)
			return
		}
	}
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(body[k], &s)
		return s
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if name == "access_token" {
		if str("clientID") != testClientID || str("clientSecret") != testSecret {
			writeEnv(w, 401, "bad credentials", nil)
			return
		}
		tok := fmt.Sprintf("tok-%d", len(f.tokens)+1)
		f.tokens = append(f.tokens, tok)
		exp := time.Now().Add(f.tokenTTL)
		f.tokenExp[tok] = exp
		writeEnv(w, 0, "ok", map[string]any{"accessToken": tok, "expiredAt": exp.Format(time.RFC3339Nano)})
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if exp, ok := f.tokenExp[tok]; !ok || time.Now().After(exp) {
		writeEnv(w, 401, "access_token无效", nil)
		return
	}
	switch name {
	case "mkdir":
		var names wire.Names
		_ = json.Unmarshal(body["name"], &names)
		parent := str("parentID")
		if f.child(parent, names[0]) != nil {
			writeEnv(w, 1, "当前目录有重名文件", nil)
			return
		}
		e := f.add(parent, names[0], wire.EntryFolder, "", 0)
		writeEnv(w, 0, "ok", map[string]any{"list": []any{map[string]any{"filename": names[0], "dirID": e.FileID}}})
	case "create":
		var size int64
		_ = json.Unmarshal(body["size"], &size)
		parent, fname, etag := str("parentFileID"), str("filename"), str("etag")
		if f.child(parent, fname) != nil {
			writeEnv(w, 1, "当前目录有重名文件", nil)
			return
		}
		if _, ok := f.blobs[etag]; ok && !f.discard {
			e := f.add(parent, fname, wire.EntryFile, etag, size)
			writeEnv(w, 0, "ok", map[string]any{"fileID": e.FileID, "reuse": true, "preuploadID": "", "sliceSize": f.sliceSize})
			return
		}
		pid := "pre-" + f.newID()
		f.uploads[pid] = &fakeUpload{parent: parent, name: fname, etag: etag, size: size,
			slices: map[int][]byte{}, sliceMD5: map[int]string{}, sliceLen: map[int]int64{}}
		writeEnv(w, 0, "ok", map[string]any{"fileID": "", "reuse": false, "preuploadID": pid, "sliceSize": f.sliceSize})
	case "get_upload_url":
		var no int
		_ = json.Unmarshal(body["sliceNo"], &no)
		if f.uploads[str("preuploadID")] == nil {
			writeEnv(w, 1, "no such upload", nil)
			return
		}
		writeEnv(w, 0, "ok", map[string]any{"presignedURL": fmt.Sprintf("%s/put/%s/%d?sig=x", f.srv.URL, str("preuploadID"), no), "isMultipart": true})
	case "list_upload_parts":
		u := f.uploads[str("preuploadID")]
		parts := []wire.Part{}
		for no, sum := range u.sliceMD5 {
			parts = append(parts, wire.Part{PartNumber: no, Size: u.sliceLen[no], Etag: sum})
		}
		writeEnv(w, 0, "ok", map[string]any{"parts": parts})
	case "upload_complete":
		f.complete(w, str("preuploadID"))
	case "upload_async_result":
		u := f.uploads[str("preuploadID")]
		u.polls++
		if u.polls <= f.asyncPolls {
			writeEnv(w, 0, "ok", map[string]any{"completed": false, "fileID": ""})
			return
		}
		writeEnv(w, 0, "ok", map[string]any{"completed": true, "fileID": u.fileID})
	case "detail":
		e := f.entries[r.URL.Query().Get("fileID")]
		if e == nil {
			writeEnv(w, 5066, "文件不存在", nil)
			return
		}
		writeEnv(w, 0, "ok", e)
	case "list":
		f.list(w, str("parentFileId"), str("lastFileId"))
	case "delete":
		var ids []string
		_ = json.Unmarshal(body["fileIDs"], &ids)
		for _, id := range ids {
			delete(f.entries, id)
		}
		writeEnv(w, 0, "ok", nil)
	case "move":
		var ids []string
		_ = json.Unmarshal(body["fileIDs"], &ids)
		for _, id := range ids {
			if e := f.entries[id]; e != nil {
				e.ParentFileID = wire.ID(str("toParentFileID"))
			}
		}
		writeEnv(w, 0, "ok", nil)
	default:
		writeEnv(w, 1, "unknown call "+name, nil)
	}
}

func (f *fakePan) complete(w http.ResponseWriter, pid string) {
	u := f.uploads[pid]
	if u == nil {
		writeEnv(w, 1, "no such upload", nil)
		return
	}
	if u.done {
		writeEnv(w, 0, "ok", map[string]any{"completed": true, "async": false, "fileID": u.fileID})
		return
	}
	n := 1
	if u.size > 0 {
		n = int((u.size + f.sliceSize - 1) / f.sliceSize)
	}
	var all bytes.Buffer
	var got int64
	for i := 1; i <= n; i++ {
		l, ok := u.sliceLen[i]
		if !ok && u.size > 0 {
			writeEnv(w, 1, fmt.Sprintf("slice %d missing", i), nil)
			return
		}
		got += l
		all.Write(u.slices[i])
	}
	sum := md5.Sum(all.Bytes())
	if got != u.size || (!f.discard && hex.EncodeToString(sum[:]) != u.etag) {
		writeEnv(w, 1, "md5 mismatch", nil)
		return
	}
	if !f.discard {
		f.blobs[u.etag] = all.Bytes()
	}
	e := f.add(u.parent, u.name, wire.EntryFile, u.etag, u.size)
	u.done, u.fileID = true, string(e.FileID)
	if n > 1 {
		writeEnv(w, 0, "ok", map[string]any{"completed": false, "async": true, "fileID": ""})
		return
	}
	writeEnv(w, 0, "ok", map[string]any{"completed": true, "async": false, "fileID": e.FileID})
}

func (f *fakePan) child(parent, name string) *wire.Entry {
	for _, id := range f.order {
		if e := f.entries[id]; e != nil && string(e.ParentFileID) == parent && e.Filename == name {
			return e
		}
	}
	return nil
}

func (f *fakePan) add(parent, name string, typ int, etag string, size int64) *wire.Entry {
	id := f.newID()
	e := &wire.Entry{FileID: wire.ID(id), Filename: name, Type: typ, Etag: etag, Size: size, ParentFileID: wire.ID(parent),
		Status: 2, CreateAt: wire.FormatTime(time.Now())}
	if typ == wire.EntryFile {
		e.DownloadURL = f.srv.URL + "/dl/" + id
	}
	f.entries[id] = e
	f.order = append(f.order, id)
	return e
}

func (f *fakePan) list(w http.ResponseWriter, parent, last string) {
	var kids []*wire.Entry
	for _, id := range f.order {
		if e := f.entries[id]; e != nil && string(e.ParentFileID) == parent {
			kids = append(kids, e)
		}
	}
	start := 0
	if last != "" {
		for i, e := range kids {
			if string(e.FileID) == last {
				start = i + 1
			}
		}
	}
	end := min(start+f.pageSize, len(kids))
	page := kids[start:end]
	cursor := wire.ListEnd
	if len(page) > 0 && (end < len(kids) || f.emptyEnd) {
		cursor = string(page[len(page)-1].FileID)
	}
	if page == nil {
		page = []*wire.Entry{}
	}
	writeEnv(w, 0, "ok", map[string]any{"lastFileId": cursor, "fileList": page})
}

func (f *fakePan) put(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.putHeaders = append(f.putHeaders, r.Header.Clone())
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "" || r.Header.Get("Platform") != "" {
		http.Error(w, "auth headers on a presigned PUT", http.StatusBadRequest)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/put/"), "/")
	no, _ := strconv.Atoi(parts[1])
	h := md5.New()
	var buf bytes.Buffer
	var dst io.Writer = io.MultiWriter(h, &buf)
	if f.discard {
		dst = h
	}
	n, err := io.Copy(dst, r.Body)
	if err != nil || n != r.ContentLength {
		http.Error(w, "short body", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.uploads[parts[0]]
	if u == nil {
		http.Error(w, "no upload", http.StatusNotFound)
		return
	}
	if !f.discard {
		u.slices[no] = buf.Bytes()
	}
	u.sliceMD5[no] = hex.EncodeToString(h.Sum(nil))
	u.sliceLen[no] = n
}

func (f *fakePan) download(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/dl/")
	f.mu.Lock()
	e := f.entries[id]
	var data []byte
	if e != nil {
		data = f.blobs[e.Etag]
	}
	ignore := f.ignoreRng
	f.mu.Unlock()
	if e == nil {
		http.NotFound(w, r)
		return
	}
	if ignore {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
		return
	}
	http.ServeContent(w, r, e.Filename, time.Time{}, bytes.NewReader(data))
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
