package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// offlineTimeout bounds one offline fetch, callbackTimeout one callback.
const (
	offlineTimeout  = 5 * time.Minute
	callbackTimeout = 10 * time.Second
)

// offlineTask is one offline migration (kept in memory only).
type offlineTask struct {
	id      int64
	status  int
	process int // 0–100, an integer as documented
	reason  string
	fileID  string
}

// offlineData is the offline call's data: unlike wire.OfflineData (whose
// wire.ID marshals as a string) the task ID must go out as a JSON number.
type offlineData struct {
	TaskID int64 `json:"taskID"`
}

// loopbackOnly refuses to dial anything but loopback addresses.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("emulator: offline fetches may only reach loopback addresses, not %s", host)
	}
	return nil
}

// fetchClient is the HTTP client of offline fetches and callbacks.
func (s *Server) fetchClient(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !s.cfg.AllowRemoteOffline {
		d.Control = loopbackOnly
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.DialContext, Proxy: nil}}
}

// isLoopbackHost tells whether host names only loopback addresses.
func isLoopbackHost(ctx context.Context, host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return false
		}
	}
	return true
}

// checkFetchURL validates a URL the emulator is asked to contact.
func (s *Server) checkFetchURL(ctx context.Context, field, raw string) (*url.URL, *apiError) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errf(wire.CodeInternal, "%s must be an http(s) URL, got %q", field, raw)
	}
	if !s.cfg.AllowRemoteOffline && !isLoopbackHost(ctx, u.Hostname()) {
		return nil, errf(wire.CodeInternal, "%s: the emulator only contacts loopback hosts, not %q (start it with --allow-remote-offline)", field, u.Hostname())
	}
	return u, nil
}

// handleOffline is POST /api/v1/oss/offline/download.
func (s *Server) handleOffline(c *call) (any, *apiError) {
	var req wire.OfflineRequest
	if ae := c.decode(&req, "url", "type"); ae != nil {
		return nil, ae
	}
	if ae := requireType(req.Type); ae != nil {
		return nil, ae
	}
	u, ae := s.checkFetchURL(c.r.Context(), "url", req.URL)
	if ae != nil {
		return nil, ae
	}
	var cb *url.URL
	if req.CallBackURL != "" {
		if cb, ae = s.checkFetchURL(c.r.Context(), "callBackUrl", req.CallBackURL); ae != nil {
			return nil, ae
		}
	}
	name := req.FileName
	if name == "" {
		name = path.Base(u.Path)
	}
	if err := wire.ValidateName(name); err != nil || name == "." || name == "/" {
		return nil, errf(wire.CodeInternal, "cannot name the file %q (give a valid fileName): %v", name, err)
	}
	s.mu.Lock()
	target := ""
	if req.BusinessDirID != "" {
		if s.st.isRoot(req.BusinessDirID) {
			s.mu.Unlock()
			return nil, errf(wire.CodeInternal, "businessDirID must not be the root folder")
		}
		if target, ae = s.st.lookupFolder(req.BusinessDirID); ae != nil {
			s.mu.Unlock()
			return nil, ae
		}
	}
	s.nextTask++
	t := &offlineTask{id: s.nextTask, status: wire.OfflineRunning}
	s.offlines[t.id] = t
	s.mu.Unlock()
	if !s.goBackground(func() { s.runOffline(t, u, name, target, cb) }) {
		return nil, errf(wire.CodeInternal, "emulator is closing")
	}
	return offlineData{TaskID: t.id}, nil
}

// progressReader reports the share of the body read so far.
type progressReader struct {
	r     io.Reader
	n     int64
	total int64
	s     *Server
	t     *offlineTask
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.total > 0 {
		p.s.mu.Lock()
		p.t.process = int(min(99, p.n*100/p.total))
		p.s.mu.Unlock()
	}
	return n, err
}

// offlineCallback is the body POSTed to callBackUrl as documented: status
// 0 success, 1 failure (not the progress call's status values).
type offlineCallback struct {
	URL        string `json:"url"`
	Status     int    `json:"status"`
	FailReason string `json:"failReason"`
	FileID     string `json:"fileID"`
}

// Callback status values.
const (
	callbackOK     = 0
	callbackFailed = 1
)

// callbackBody describes a finished task. Caller holds s.mu.
func callbackBody(t *offlineTask, u string) offlineCallback {
	if t.status == wire.OfflineDone {
		return offlineCallback{URL: u, Status: callbackOK, FileID: t.fileID}
	}
	return offlineCallback{URL: u, Status: callbackFailed, FailReason: t.reason}
}

// runOffline fetches the URL and stores it as an image.
func (s *Server) runOffline(t *offlineTask, u *url.URL, name, target string, cb *url.URL) {
	reason := s.fetchOffline(t, u, name, target)
	s.mu.Lock()
	if reason != "" {
		t.status, t.reason = wire.OfflineFailed, reason
		s.log.Info("offline task failed", "task", t.id, "url", u.String(), "reason", reason)
	} else {
		t.status, t.process = wire.OfflineDone, 100
	}
	body, _ := json.Marshal(callbackBody(t, u.String()))
	s.mu.Unlock()
	if cb == nil {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, callbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cb.String(), bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.fetchClient(callbackTimeout).Do(req)
	if err != nil {
		s.log.Info("offline callback failed", "task", t.id, "err", err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// fetchOffline does the work of runOffline; it returns why it failed, or "".
func (s *Server) fetchOffline(t *offlineTask, u *url.URL, name, target string) string {
	if !s.sleepCtx(s.cfg.AsyncDelay / 2) {
		return "emulator closed"
	}
	if !imageExt(name) {
		return fmt.Sprintf("%q is not an image type the image host accepts (%s)", name, strings.Join(wire.CopyExtensions, ", "))
	}
	ctx, cancel := context.WithTimeout(s.ctx, offlineTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err.Error()
	}
	resp, err := s.fetchClient(offlineTimeout).Do(req)
	if err != nil {
		return "fetch: " + err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "fetch: HTTP " + strconv.Itoa(resp.StatusCode)
	}
	if resp.ContentLength > wire.CopyMaxSize {
		return "file is larger than 100 MB"
	}
	tmp, size, sum, err := s.stageBlob(&progressReader{r: resp.Body, total: resp.ContentLength, s: s, t: t}, wire.CopyMaxSize+1)
	if err != nil {
		return "fetch: " + err.Error()
	}
	if size > wire.CopyMaxSize {
		os.Remove(tmp)
		return "file is larger than 100 MB"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	reason := s.storeOfflineLocked(t, tmp, name, target, sum, size)
	if reason != "" || t.fileID != "" {
		os.Remove(tmp) // no-op when the blob was placed
	}
	return reason
}

// storeOfflineLocked files a fetched blob under its folder.
func (s *Server) storeOfflineLocked(t *offlineTask, tmp, name, target, sum string, size int64) string {
	o := &op{}
	if target == "" {
		root := s.st.meta.RootID
		if id := s.st.childNamed(root, wire.OfflineDefaultDir); id != "" {
			if !s.st.entries[id].Dir {
				return fmt.Sprintf("a file named %q blocks the default folder", wire.OfflineDefaultDir)
			}
			target = id
		} else {
			d := s.newFolderEntryLocked(root, wire.OfflineDefaultDir)
			o.Put = append(o.Put, d)
			target = d.ID
		}
	} else if _, ae := s.st.lookupFolder(target); ae != nil {
		return "target folder no longer exists"
	}
	if f := s.st.folders[target]; f != nil {
		for _, e := range f.order {
			if !e.Dir && e.Etag == sum && e.Size == size {
				t.fileID = e.ID // the same image is already there
				return ""
			}
		}
	}
	if s.st.childNamed(target, name) != "" {
		return errClash(msgFileClash, name).msg
	}
	if err := s.placeBlobLocked(tmp, sum); err != nil {
		return "storage: " + err.Error()
	}
	e := s.newFileEntryLocked(target, name, sum, size)
	o.Put = append(o.Put, e)
	err := s.commitLocked(o)
	s.st.unref(sum) // the entry holds the blob now
	if err != nil {
		return err.Error()
	}
	t.fileID = e.ID
	return ""
}

func (s *Server) lookupOffline(c *call) (*offlineTask, *apiError) {
	raw := c.r.URL.Query().Get("taskID")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, errf(wire.CodeInternal, "taskID must be a number, got %q", raw)
	}
	t := s.offlines[id]
	if t == nil {
		return nil, errf(wire.CodeInternal, "offline task %d not found", id)
	}
	return t, nil
}

// handleOfflineProcess is GET /api/v1/oss/offline/download/process?taskID=.
func (s *Server) handleOfflineProcess(c *call) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ae := s.lookupOffline(c)
	if ae != nil {
		return nil, ae
	}
	return wire.OfflineProcessData{Status: t.status, Process: wire.Int(t.process)}, nil
}
