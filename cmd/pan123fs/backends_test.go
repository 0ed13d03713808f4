package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote"
)

// The fs-level suites (shell tools, crash, faults) run one test body
// against each service a mount speaks to. A backendFixture starts that
// service's emulator as a process of its own, says how to mount it, and
// looks at what the service holds through the service's own API over
// HTTP: the 123pan checker client, or raw WeChat API calls. Neither goes
// through the backend under test (remote/pan123, remote/wechat).

// heldFile is one entry the service holds.
type heldFile struct {
	Size int64
	MD5  string // as the service lists it
	ID   string // the service's ID of the entry, which a rename keeps
	Dir  bool
	src  string // where the content is: a 123pan download link, a WeChat file ID
}

// serviceView is what a fixture needs of one service's API.
type serviceView interface {
	// entries walks the namespace: path → every entry there (more than one
	// is a duplicate the service should never hold); folders as "dir/".
	entries(t *testing.T) map[string][]heldFile
	// content downloads an entry's bytes.
	content(e heldFile) ([]byte, error)
	// fill makes a top-level folder of n files of the same content, as
	// another client of the service would.
	fill(t *testing.T, folder string, n int, data []byte)
}

// backendFixture is one service, served by its emulator process.
type backendFixture struct {
	kind  string // backend123pan or backendWechat
	url   string // the emulator's
	flags []string
	env   []string // the mount's environment: the service's credentials
	// deleteCall is the stats key of the service's delete call.
	deleteCall string
	serviceView
}

// emuArgs are each emulator's extra arguments.
type emuArgs struct{ pan123, wechat []string }

// The WeChat emulator's environment and credentials in these tests.
const (
	wxEnv    = "e2e-5f6a7b"
	wxAppID  = "wxe2e0123456789"
	wxSecret = "e2e-wechat-secret"
)

// eachBackend runs body as subtests 123pan and wechat-cloudbase, each
// with a fresh emulator of its service.
func eachBackend(t *testing.T, args emuArgs, body func(t *testing.T, b *backendFixture)) {
	for _, kind := range []string{backend123pan, backendWechat} {
		t.Run(kind, func(t *testing.T) { body(t, startBackend(t, kind, args)) })
	}
}

// startBackend starts the emulator of kind.
func startBackend(t *testing.T, kind string, args emuArgs) *backendFixture {
	t.Helper()
	if kind == backend123pan {
		u := startEmulator(t, args.pan123...)
		return &backendFixture{kind: kind, url: u, flags: []string{"--api-base", u},
			env:        []string{"PAN123_CLIENT_ID=e2e", "PAN123_CLIENT_SECRET=e2e-secret"},
			deleteCall: "POST /api/v1/oss/file/delete", serviceView: pan123Service{checker(t, u)}}
	}
	u := startWechatEmulator(t, append([]string{"--appid", wxAppID, "--secret", wxSecret, "--env", wxEnv}, args.wechat...)...)
	return &backendFixture{kind: kind, url: u,
		flags:      []string{"--backend", backendWechat, "--api-base", u, "--wechat-env", wxEnv},
		env:        []string{"WECHAT_APPID=" + wxAppID, "WECHAT_SECRET=" + wxSecret},
		deleteCall: "POST /tcb/batchdeletefile", serviceView: &wechatService{base: u}}
}

// mount mounts the service on a new mount point with a new state
// directory; args are further mount flags.
func (b *backendFixture) mount(t *testing.T, args ...string) *mountProc {
	t.Helper()
	return b.mountAt(t, t.TempDir(), t.TempDir(), args...)
}

// mountAt mounts the service on mnt with the state directory state.
func (b *backendFixture) mountAt(t *testing.T, mnt, state string, args ...string) *mountProc {
	t.Helper()
	cmd := exec.Command(binary, append(append([]string{"mount", mnt, "--state-dir", state}, b.flags...), args...)...)
	cmd.Env = append(withoutCredentials(os.Environ()), b.env...)
	cmd.Stderr = testWriter(t, "mount")
	return waitForMount(t, cmd, mnt)
}

// run runs pan123fs with args and the service's flags and credentials, to
// its end, and returns its combined output.
func (b *backendFixture) run(args ...string) (string, error) {
	cmd := exec.Command(binary, append(args, b.flags...)...)
	cmd.Env = append(withoutCredentials(os.Environ()), b.env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// withoutCredentials drops the services' credential variables from env.
func withoutCredentials(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PAN123_CLIENT_") && !strings.HasPrefix(kv, "WECHAT_") {
			out = append(out, kv)
		}
	}
	return out
}

// rateLimit is --rate-limit spec for 123pan, whose client paces each
// endpoint; nothing for WeChat, whose backend has no such flag.
func (b *backendFixture) rateLimit(spec string) []string {
	if b.kind != backend123pan {
		return nil
	}
	return []string{"--rate-limit", spec}
}

// held is what the service holds, path → entry; a duplicate fails t.
func (b *backendFixture) held(t *testing.T) map[string]heldFile {
	t.Helper()
	out := map[string]heldFile{}
	for p, es := range b.entries(t) {
		require.Len(t, es, 1, "%s: entries at %s", b.kind, p)
		out[p] = es[0]
	}
	return out
}

// bytesOf downloads the file at path from the service.
func (b *backendFixture) bytesOf(t *testing.T, path string) []byte {
	t.Helper()
	e, ok := b.held(t)[path]
	require.True(t, ok, "%s holds no %s", b.kind, path)
	data, err := b.content(e)
	require.NoError(t, err, "downloading %s from %s", path, b.kind)
	return data
}

// pan123Service looks at 123pan through a client of its own.
type pan123Service struct{ rc *remote.Client }

func (s pan123Service) entries(t *testing.T) map[string][]heldFile {
	t.Helper()
	out := map[string][]heldFile{}
	for p, es := range remoteAll(t, s.rc) {
		for _, e := range es {
			h := heldFile{Size: e.Size, MD5: e.Etag, ID: string(e.FileID), Dir: e.IsDir(), src: e.DownloadURL}
			if h.Dir {
				p += "/"
			}
			out[p] = append(out[p], h)
		}
	}
	return out
}

func (s pan123Service) content(e heldFile) ([]byte, error) { return httpGet(e.src) }

// fill uploads the files with 123pan's instant upload: after the first,
// the same md5 and size take no transfer.
func (s pan123Service) fill(t *testing.T, folder string, n int, data []byte) {
	t.Helper()
	ctx := context.Background()
	dir, err := s.rc.Mkdir(ctx, "", folder)
	require.NoError(t, err)
	for i := range n {
		res, err := s.rc.Upload(ctx, uploadInput(dir, fmt.Sprintf("%04d.png", i), data))
		require.NoError(t, err)
		require.Equal(t, i > 0, res.Reused, "same md5 and size: instant after the first")
	}
}

func httpGet(u string) ([]byte, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// wechatService looks at a WeChat CloudBase environment with plain HTTP
// calls of the documented API: a token from cgi-bin/stable_token, the
// namespace collection read with tcb/databasequery, content through
// tcb/batchdownloadfile and the link it gives.
type wechatService struct {
	base string
	mu   sync.Mutex
	tok  string // GUARDED_BY(mu)
}

// wxCollection is the namespace collection the backend keeps by default.
const wxCollection = "pan123fs_entries"

// wxDoc is a namespace document, as the design in the spec lays it out.
type wxDoc struct {
	ID     string `json:"_id"`
	Parent string `json:"parent"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	FileID string `json:"fileid"`
	Size   int64  `json:"size"`
	MD5    string `json:"md5"`
}

// token is the stable access token of the test's appid.
func (s *wechatService) token() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != "" {
		return s.tok, nil
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
	}
	body := map[string]any{"grant_type": "client_credential", "appid": wxAppID, "secret": wxSecret}
	if err := postJSON(s.base+"/cgi-bin/stable_token", body, &out); err != nil {
		return "", err
	}
	if out.ErrCode != 0 || out.AccessToken == "" {
		return "", fmt.Errorf("stable_token: errcode %d: %s", out.ErrCode, out.ErrMsg)
	}
	s.tok = out.AccessToken
	return s.tok, nil
}

// call posts body to a tcb path with the token and decodes the answer;
// a non-zero errcode is an error that names it.
func (s *wechatService) call(path string, body map[string]any, out any) error {
	tok, err := s.token()
	if err != nil {
		return err
	}
	body["env"] = wxEnv
	var raw json.RawMessage
	if err := postJSON(s.base+path+"?access_token="+url.QueryEscape(tok), body, &raw); err != nil {
		return err
	}
	var env struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if env.ErrCode != 0 {
		return &wxCodeError{path: path, code: env.ErrCode, msg: env.ErrMsg}
	}
	return json.Unmarshal(raw, out)
}

type wxCodeError struct {
	path string
	code int
	msg  string
}

func (e *wxCodeError) Error() string { return fmt.Sprintf("%s: errcode %d: %s", e.path, e.code, e.msg) }

func postJSON(u string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	resp, err := http.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// docs reads every document of the namespace collection, 1000 a query
// in _id order; none when the collection is not there yet (-502005).
func (s *wechatService) docs() ([]wxDoc, error) {
	var out []wxDoc
	for skip := 0; ; {
		var resp struct {
			Data []string `json:"data"`
		}
		q := fmt.Sprintf(`db.collection(%q).where({}).orderBy("_id","asc").skip(%d).limit(1000).get()`, wxCollection, skip)
		err := s.call("/tcb/databasequery", map[string]any{"query": q}, &resp)
		if e, ok := err.(*wxCodeError); ok && e.code == -502005 {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, text := range resp.Data {
			var d wxDoc
			if err := json.Unmarshal([]byte(text), &d); err != nil {
				return nil, fmt.Errorf("document %q: %w", text, err)
			}
			out = append(out, d)
		}
		skip += len(resp.Data)
		if len(resp.Data) < 1000 {
			return out, nil
		}
	}
}

// entries builds each document's path by walking its parents. A document
// whose parent is gone is listed under "?orphan/", so that a check of the
// paths sees it.
func (s *wechatService) entries(t *testing.T) map[string][]heldFile {
	t.Helper()
	docs, err := s.docs()
	require.NoError(t, err, "reading the namespace collection")
	byID := map[string]wxDoc{}
	for _, d := range docs {
		byID[d.ID] = d
	}
	var pathOf func(d wxDoc, depth int) string
	pathOf = func(d wxDoc, depth int) string {
		p := d.Name
		if d.Type == "dir" {
			p += "/"
		}
		if d.Parent == "" {
			return p
		}
		parent, ok := byID[d.Parent]
		if !ok || depth > 100 {
			return "?orphan/" + p
		}
		return pathOf(parent, depth+1) + p
	}
	out := map[string][]heldFile{}
	for _, d := range docs {
		p := pathOf(d, 0)
		out[p] = append(out[p], heldFile{Size: d.Size, MD5: d.MD5, ID: d.ID, Dir: d.Type == "dir", src: d.FileID})
	}
	return out
}

// content asks a download link for the entry's file ID and gets it.
func (s *wechatService) content(e heldFile) ([]byte, error) {
	var resp struct {
		FileList []struct {
			FileID      string `json:"fileid"`
			DownloadURL string `json:"download_url"`
			Status      int    `json:"status"`
			ErrMsg      string `json:"errmsg"`
		} `json:"file_list"`
	}
	body := map[string]any{"file_list": []map[string]any{{"fileid": e.src, "max_age": 600}}}
	if err := s.call("/tcb/batchdownloadfile", body, &resp); err != nil {
		return nil, err
	}
	if len(resp.FileList) != 1 || resp.FileList[0].Status != 0 {
		return nil, fmt.Errorf("batchdownloadfile %s: %+v", e.src, resp.FileList)
	}
	return httpGet(resp.FileList[0].DownloadURL)
}

// fill uploads n objects (tcb/uploadfile, then the COS form POST) and
// adds the folder's document and theirs to the namespace collection in
// the layout of the spec ("How a mount maps onto it"), each file with an
// object of its own.
func (s *wechatService) fill(t *testing.T, folder string, n int, data []byte) {
	t.Helper()
	now := time.Now().UnixMilli()
	var ids struct {
		IDList []string `json:"id_list"`
	}
	add := func(docs any) {
		q := fmt.Sprintf(`db.collection(%q).add({data:%s})`, wxCollection, mustJSON(t, docs))
		require.NoError(t, s.call("/tcb/databaseadd", map[string]any{"query": q}, &ids))
	}
	add(map[string]any{"parent": "", "name": folder, "type": "dir", "size": 0, "mtime": now, "ctime": now, "gen": 0})
	require.Len(t, ids.IDList, 1)
	dir := ids.IDList[0]
	sum := md5sumOf(data)
	docs := make([]map[string]any, 0, n)
	for i := range n {
		key := fmt.Sprintf("e2e/%s/%04d.png", folder, i)
		docs = append(docs, map[string]any{"parent": dir, "name": fmt.Sprintf("%04d.png", i), "type": "file",
			"fileid": s.upload(t, key, data), "key": key, "size": len(data), "md5": sum, "mtime": now, "ctime": now, "gen": 1})
	}
	add(docs)
	require.Len(t, ids.IDList, n)
}

// upload stores data under the cloud path key and returns its file ID.
func (s *wechatService) upload(t *testing.T, key string, data []byte) string {
	t.Helper()
	var form struct {
		URL           string `json:"url"`
		Token         string `json:"token"`
		Authorization string `json:"authorization"`
		FileID        string `json:"file_id"`
		CosFileID     string `json:"cos_file_id"`
	}
	require.NoError(t, s.call("/tcb/uploadfile", map[string]any{"path": key}, &form))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range [][2]string{{"key", key}, {"Signature", form.Authorization}, {"x-cos-security-token", form.Token}, {"x-cos-meta-fileid", form.CosFileID}} {
		require.NoError(t, mw.WriteField(f[0], f[1]))
	}
	fw, err := mw.CreateFormFile("file", path.Base(key))
	require.NoError(t, err)
	fw.Write(data)
	require.NoError(t, mw.Close())
	resp, err := http.Post(form.URL, mw.FormDataContentType(), &body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "COS form POST of %s", key)
	return form.FileID
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// objects is how many storage objects the WeChat emulator holds.
func (b *backendFixture) objects(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(b.url + "/__emulator/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st struct {
		Objects int `json:"objects"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st.Objects
}

// startFaults makes the emulator fail about one call in five until the
// returned function is called, which stops the faults and clears them.
// 123pan's emulator draws them itself (faultList: 5xx, resets, slow
// answers, and its own 429 and "verifying"). The WeChat emulator takes
// faults one at a time, so a goroutine adds one each time about five calls
// went by since the last: errcode -1 or -501002 on the database and
// uploadfile calls (only there: on the COS upload a JSON answer with HTTP
// 200 would be a success, which COS never fakes), a COS 503, a bare 502,
// a connection reset, or a slow answer.
func (b *backendFixture) startFaults(t *testing.T, rng *rand.Rand) (stop func()) {
	t.Helper()
	if b.kind == backend123pan {
		setEmulatorFaults(t, b.url, faultList)
		return func() { setEmulatorFaults(t, b.url, "") }
	}
	type fault struct { // the emulator's Fault (remote/wechat/emulator)
		Path    string `json:"path,omitempty"`
		ErrCode int    `json:"errcode,omitempty"`
		Status  int    `json:"status,omitempty"`
		Reset   bool   `json:"reset,omitempty"`
		DelayMS int    `json:"delay_ms,omitempty"`
		Count   int    `json:"count"`
	}
	kinds := []fault{{Path: "/tcb/uploadfile", ErrCode: -1}, {Path: "/tcb/databaseadd", ErrCode: -1},
		{Path: "/tcb/databasequery", ErrCode: -501002}, {Path: "/tcb/databaseadd", ErrCode: -501002},
		{Path: "/cos", Status: 503}, {Status: 502}, {Reset: true}, {DelayMS: 200}}
	picks := make([]fault, 0, 1000)
	for range cap(picks) {
		f := kinds[rng.IntN(len(kinds))]
		f.Count = 1
		picks = append(picks, f)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		last := int64(0)
		for n := 0; ; {
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			st, err := statsOf(b.url)
			if err != nil || st.total() < last+4 || pendingFaults(b.url) > 1 {
				continue
			}
			last = st.total()
			body, _ := json.Marshal(picks[n%len(picks)])
			n++
			if resp, err := http.Post(b.url+"/__emulator/faults", "application/json", bytes.NewReader(body)); err == nil {
				resp.Body.Close()
			}
		}
	}()
	var once sync.Once
	halt := func() { once.Do(func() { close(done); wg.Wait() }) }
	t.Cleanup(halt) // a test that fails before it stops them
	return func() {
		halt()
		setEmulatorFaults(t, b.url, "")
	}
}

func statsOf(u string) (emuStats, error) {
	var st emuStats
	resp, err := http.Get(u + "/__emulator/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// pendingFaults is how many faults the WeChat emulator still holds (-1
// when it cannot tell).
func pendingFaults(u string) int {
	resp, err := http.Get(u + "/__emulator/faults")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var f struct {
		Faults []json.RawMessage `json:"faults"`
	}
	if json.NewDecoder(resp.Body).Decode(&f) != nil {
		return -1
	}
	return len(f.Faults)
}
