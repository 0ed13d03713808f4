package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
	"github.com/pan123fs/pan123fs/tools/internal/benchkit"
)

// The WeChat CloudBase emulator child, and the raw API the baselines and
// the set-up speak to it: plain HTTP calls, what a curl script would send,
// without the backend's code in between.
const (
	backendWechat = "wechat-cloudbase"
	wxEnv         = "bench-env"
	wxAppID       = "bench-appid"
	wxMountColl   = "pan123fs_entries" // the mount's default --wechat-collection
	wxRawColl     = "bench_raw"        // where the raw baselines add their documents
)

// The emulator's routes, as GET /__emulator/stats counts them.
const (
	wxUpload      = "POST " + wire.PathUploadFile
	wxCOS         = "POST /cos"
	wxBatchDelete = "POST " + wire.PathBatchDeleteFile
	wxBatchLinks  = "POST " + wire.PathBatchDownloadFile
	wxDBAdd       = "POST " + wire.PathDatabaseAdd
	wxDBQuery     = "POST " + wire.PathDatabaseQuery
	wxDBUpdate    = "POST " + wire.PathDatabaseUpdate
	wxDBDelete    = "POST " + wire.PathDatabaseDelete
)

// wxEmu talks to the WeChat CloudBase emulator child.
type wxEmu struct {
	url   string
	pid   int // of the emulator process, for its CPU time
	hc    *http.Client
	token string
}

// wxStats is the emulator's GET /__emulator/stats.
type wxStats struct {
	Calls     map[string]int64 `json:"calls"`
	Objects   int64            `json:"objects"`
	Bytes     int64            `json:"bytes"`
	Documents int64            `json:"documents"`
}

// startWechat runs `pan123fs emulator --backend wechat-cloudbase` on a
// loopback port and takes a token for the raw calls.
func (b *bench) startWechat(ctx context.Context) (*wxEmu, error) {
	cmd, u, err := benchkit.StartEmulatorArgs(ctx, b.bin, filepath.Join(b.tmp, "emu-wechat.log"),
		"--backend", backendWechat, "--appid", wxAppID, "--secret", secret, "--env", wxEnv, "--listen", "127.0.0.1:0")
	if cmd != nil {
		b.kids.emu = cmd
	}
	if err != nil {
		return nil, err
	}
	// As many idle connections as the mount's client keeps: the baseline's
	// workers must not reconnect for every call.
	w := &wxEmu{url: u, pid: cmd.Process.Pid, hc: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 16}}}
	var tok wire.TokenResponse
	err = w.post(ctx, wire.PathStableToken, wire.StableTokenRequest{GrantType: wire.GrantClientCredential, AppID: wxAppID, Secret: secret}, &tok)
	if err != nil {
		return nil, fmt.Errorf("stable_token: %w", err)
	}
	w.token = tok.AccessToken
	return w, nil
}

// stats reads the counters.
func (w *wxEmu) stats(ctx context.Context) (wxStats, error) {
	var s wxStats
	return s, getStats(ctx, w.hc, w.url, &s)
}

// diff is what happened between two snapshots.
func (s wxStats) diff(before wxStats) wxStats {
	return wxStats{Calls: diffCalls(s.Calls, before.Calls), Objects: s.Objects - before.Objects,
		Bytes: s.Bytes - before.Bytes, Documents: s.Documents - before.Documents}
}

// db is the number of database calls.
func (s wxStats) db() int64 {
	var n int64
	for k, v := range s.Calls {
		if strings.HasPrefix(k, "POST /tcb/database") {
			n += v
		}
	}
	return n
}

// all is the number of requests of every route.
func (s wxStats) all() int64 {
	var n int64
	for _, v := range s.Calls {
		n += v
	}
	return n
}

func (s wxStats) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.Calls)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k[strings.LastIndex(k, "/")+1:], s.Calls[k]))
	}
	return strings.Join(parts, " ")
}

// post sends in as JSON to path (with the token once there is one) and
// decodes the answer into out; an errcode other than 0 is an error.
func (w *wxEmu) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	u := w.url + path
	if w.token != "" {
		u += "?" + url.Values{wire.QueryAccessToken: {w.token}}.Encode()
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env wire.Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("%s: HTTP %s: %w", path, resp.Status, err)
	}
	if env.ErrCode != wire.CodeOK {
		return fmt.Errorf("%s: errcode %d: %s", path, env.ErrCode, env.ErrMsg)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// upload is tcb/uploadfile and the COS form POST of data under key; it
// returns the file ID.
func (w *wxEmu) upload(ctx context.Context, key string, data []byte) (string, error) {
	var form wire.UploadFileResponse
	if err := w.post(ctx, wire.PathUploadFile, wire.UploadFileRequest{Env: wxEnv, Path: key}, &form); err != nil {
		return "", err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range [][2]string{{wire.FormKey, key}, {wire.FormSignature, form.Authorization},
		{wire.FormSecurityToken, form.Token}, {wire.FormMetaFileID, form.CosFileID}} {
		mw.WriteField(f[0], f[1])
	}
	fw, _ := mw.CreateFormFile(wire.FormFile, filepath.Base(key))
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, form.URL, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := w.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("COS POST %s: HTTP %s: %s", key, resp.Status, msg)
	}
	return form.FileID, nil
}

// makeCollection makes coll; one that exists already is fine.
func (w *wxEmu) makeCollection(ctx context.Context, coll string) error {
	err := w.post(ctx, wire.PathDatabaseCollectionAdd, wire.CollectionRequest{Env: wxEnv, CollectionName: coll}, nil)
	if err != nil && strings.Contains(err.Error(), wire.CollectionExists) {
		return nil
	}
	return err
}

// add adds documents to coll in one databaseadd and returns their _ids.
func (w *wxEmu) add(ctx context.Context, coll string, docs ...map[string]any) ([]string, error) {
	data, err := json.Marshal(docs)
	if err != nil {
		return nil, err
	}
	var resp wire.AddResponse
	q := fmt.Sprintf("db.collection(%q).add({data: %s})", coll, data)
	if err := w.post(ctx, wire.PathDatabaseAdd, wire.DatabaseRequest{Env: wxEnv, Query: q}, &resp); err != nil {
		return nil, err
	}
	return resp.IDList, nil
}

// find yields every document of coll that matches where, in pages of
// wire.MaxQueryLimit.
func (w *wxEmu) find(ctx context.Context, coll string, where map[string]any) ([]map[string]any, error) {
	wj, err := json.Marshal(where)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for {
		q := fmt.Sprintf("db.collection(%q).where(%s).orderBy(\"_id\",\"asc\").skip(%d).limit(%d).get()", coll, wj, len(out), wire.MaxQueryLimit)
		var resp wire.QueryResponse
		if err := w.post(ctx, wire.PathDatabaseQuery, wire.DatabaseRequest{Env: wxEnv, Query: q}, &resp); err != nil {
			return nil, err
		}
		for _, s := range resp.Data {
			var d map[string]any
			if err := json.Unmarshal([]byte(s), &d); err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		if len(resp.Data) < wire.MaxQueryLimit {
			return out, nil
		}
	}
}

// folderDocs is the documents in the mount's root folder name, by name;
// nil (no error) when the root holds no such folder.
func (w *wxEmu) folderDocs(ctx context.Context, name string) (map[string]map[string]any, error) {
	dirs, err := w.find(ctx, wxMountColl, map[string]any{"parent": "", "name": name})
	if err != nil || len(dirs) == 0 {
		return nil, err
	}
	docs, err := w.find(ctx, wxMountColl, map[string]any{"parent": dirs[0]["_id"]})
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]any, len(docs))
	for _, d := range docs {
		out[fmt.Sprint(d["name"])] = d
	}
	return out, nil
}

// checkFolder compares the mount's root folder name with the md5s
// expected, by its documents.
func (w *wxEmu) checkFolder(ctx context.Context, name string, want map[string]string, size int64) error {
	got, err := w.folderDocs(ctx, name)
	if err != nil {
		return err
	}
	bad, first := 0, ""
	for n, sum := range want {
		d, ok := got[n]
		if !ok || !strings.EqualFold(fmt.Sprint(d["md5"]), sum) || d["size"] != float64(size) {
			if bad++; first == "" {
				first = fmt.Sprintf("%s: listed %v, md5 %v, size %v; want %s, %d", n, ok, d["md5"], d["size"], sum, size)
			}
		}
	}
	if bad > 0 || len(got) != len(want) {
		return fmt.Errorf("folder %s holds %d documents, %d of %d files wrong (first: %s)", name, len(got), bad, len(want), first)
	}
	return nil
}
