package wechat

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/internal/stall"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// Upload stores size bytes of src under the cloud path key and returns the
// file ID: tcb/uploadfile for a signed form, then the COS form POST. A
// refused signature (403, an expired window) gets a new form once; other
// failures that may pass are retried under the policy. progress (may be
// nil) hears the bytes sent so far.
func (c *Client) Upload(ctx context.Context, key string, src io.ReaderAt, size int64, progress func(int64)) (string, error) {
	if err := wire.ValidatePath(key); err != nil {
		return "", fmt.Errorf("wechat: object key %q: %w", key, err)
	}
	resigned := false
	for attempt := 0; ; {
		var form wire.UploadFileResponse
		if err := c.call(ctx, wire.PathUploadFile, wire.UploadFileRequest{Env: c.env, Path: key}, &form); err != nil {
			return "", err
		}
		start := c.clock.Now()
		err := c.postForm(ctx, key, &form, src, size, progress)
		c.observe(callCOS, start, err)
		if err == nil {
			return form.FileID, nil
		}
		var e *APIError
		if errors.As(err, &e) && e.HTTPStatus == http.StatusForbidden && !resigned {
			resigned = true
			c.log.Info("wechat: COS refused the upload signature; asking for a new one", "key", key, "err", err)
			continue
		}
		if perr := c.pause(ctx, attempt, err, callCOS); perr != nil {
			return "", perr
		}
		attempt++
	}
}

// postForm is the COS form POST: the fields of the form, then the file.
// Success is any 2xx (204 documented); a failure's body is COS's XML error.
func (c *Client) postForm(ctx context.Context, key string, form *wire.UploadFileResponse, src io.ReaderAt, size int64, progress func(int64)) error {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	for _, f := range [][2]string{
		{wire.FormKey, key},
		{wire.FormSignature, form.Authorization},
		{wire.FormSecurityToken, form.Token},
		{wire.FormMetaFileID, form.CosFileID},
	} {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return err
		}
	}
	if _, err := mw.CreateFormFile(wire.FormFile, key[strings.LastIndexByte(key, '/')+1:]); err != nil {
		return err
	}
	tail := "\r\n--" + mw.Boundary() + "--\r\n"

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dog := stall.New(c.stallTO, cancel)
	defer dog.Stop()
	file := &progressReader{r: io.NewSectionReader(src, 0, size), dog: dog, progress: progress}
	body := io.MultiReader(bytes.NewReader(head.Bytes()), file, strings.NewReader(tail))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, form.URL, body)
	if err != nil {
		return &APIError{Call: callCOS, Message: "building the request", Err: err}
	}
	req.ContentLength = int64(head.Len()) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	dog.Kick()
	resp, err := c.hc.Do(req)
	if err != nil {
		if dog.Fired() && ctx.Err() != nil {
			err = fmt.Errorf("upload stalled for %v: %w", c.stallTO, err)
		}
		return &APIError{Call: callCOS, Err: transportCause(err), transport: true}
	}
	defer resp.Body.Close()
	dog.Stop()
	if progress != nil {
		progress(size)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	e := &APIError{Call: callCOS, HTTPStatus: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
	var ce wire.CosError
	if xml.Unmarshal(msg, &ce) == nil && ce.Code != "" {
		e.Message = ce.Code
		if ce.Message != "" {
			e.Err = errors.New(ce.Message)
		}
	}
	return e
}

// progressReader counts what the upload has read, kicks the stall watchdog
// and tells progress.
type progressReader struct {
	r        io.Reader
	dog      *stall.Watchdog
	progress func(int64)
	done     int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.dog.Kick()
		p.done += int64(n)
		if p.progress != nil {
			p.progress(p.done)
		}
	}
	return n, err
}

// Link is a download link and when to stop using it.
type Link struct {
	URL   string
	Until time.Time
}

// DownloadLinks asks download links for file IDs (any number: calls of
// wire.MaxBatch), each valid maxAge. A file that is not there gets a
// result with Err matching store.ErrNotFound.
func (c *Client) DownloadLinks(ctx context.Context, ids []string, maxAge time.Duration) (map[string]LinkResult, error) {
	out := make(map[string]LinkResult, len(ids))
	secs := int(maxAge / time.Second)
	for chunk := range slices.Chunk(ids, wire.MaxBatch) {
		req := wire.DownloadFileRequest{Env: c.env}
		for _, id := range chunk {
			req.FileList = append(req.FileList, wire.DownloadFileItem{FileID: id, MaxAge: secs})
		}
		var resp wire.DownloadFileResponse
		asked := c.clock.Now()
		if err := c.call(ctx, wire.PathBatchDownloadFile, req, &resp); err != nil {
			return out, err
		}
		for _, f := range resp.FileList {
			r := LinkResult{Link: Link{URL: f.DownloadURL, Until: asked.Add(maxAge - maxAge/10)}}
			if f.Status != wire.StatusOK || f.DownloadURL == "" {
				r.Err = classify(&APIError{Call: wire.PathBatchDownloadFile, Status: f.Status, Message: f.ErrMsg})
			}
			out[f.FileID] = r
		}
		for _, id := range chunk {
			if _, ok := out[id]; !ok {
				out[id] = LinkResult{Err: classify(&APIError{Call: wire.PathBatchDownloadFile,
					Message: "the answer leaves out " + id})}
			}
		}
	}
	return out, nil
}

// LinkResult is one file's download link, or why there is none.
type LinkResult struct {
	Link Link
	Err  error
}

// DeleteFiles deletes storage objects by file ID in calls of at most
// wire.MaxBatch. Files already gone are not an error; the first other
// per-file failure is returned, after every call has been made.
func (c *Client) DeleteFiles(ctx context.Context, ids []string) error {
	var first error
	for chunk := range slices.Chunk(ids, wire.MaxBatch) {
		var resp wire.DeleteFileResponse
		if err := c.call(ctx, wire.PathBatchDeleteFile, wire.DeleteFileRequest{Env: c.env, FileIDList: chunk}, &resp); err != nil {
			return err
		}
		for _, f := range resp.DeleteList {
			if f.Status != wire.StatusOK && f.ErrMsg != wire.ErrMsgFileNonexist && first == nil {
				first = classify(&APIError{Call: wire.PathBatchDeleteFile, Status: f.Status,
					Message: f.ErrMsg + " (" + f.FileID + ")"})
			}
		}
	}
	return first
}
