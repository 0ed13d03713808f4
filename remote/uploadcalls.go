package remote

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pan123fs/pan123fs/internal/stall"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// CreateResult is what create answered. When Reuse is true the upload is
// already finished (秒传) and FileID is the new file; otherwise PreuploadID
// and SliceSize drive the slice uploads.
type CreateResult struct {
	FileID      string
	Reuse       bool
	PreuploadID string
	SliceSize   int64
}

// normMD5 checks and lower-cases an md5 hex string.
func normMD5(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if b, err := hex.DecodeString(s); err != nil || len(b) != 16 {
		return "", fmt.Errorf("remote: %q is not an md5 hex digest", s)
	}
	return s, nil
}

// Create starts an upload of name (md5 hex etag, size bytes) into
// parentID. create is not idempotent: after an ambiguous failure the client
// lists parentID, and if a file of that name, etag and size is there it is
// taken as the finished upload (Reuse true); otherwise create is asked
// again.
func (c *Client) Create(ctx context.Context, parentID, name, etag string, size int64) (*CreateResult, error) {
	if err := wire.ValidateName(name); err != nil {
		return nil, invalidName(name, err)
	}
	etag, err := normMD5(etag)
	if err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, fmt.Errorf("remote: negative size %d", size)
	}
	var res *CreateResult
	op := func(ctx context.Context) error {
		var d wire.CreateData
		req := wire.CreateRequest{ParentFileID: parentID, Filename: name, Etag: etag, Size: size, Type: wire.TypeImageHost}
		if err := c.send(ctx, post(wire.PathCreate, req), &d); err != nil {
			return err
		}
		res = &CreateResult{FileID: string(d.FileID), Reuse: bool(d.Reuse), PreuploadID: d.PreuploadID, SliceSize: d.SliceSize}
		return nil
	}
	check := func(ctx context.Context) (bool, error) {
		e, err := c.findChild(ctx, parentID, func(e *wire.Entry) bool {
			return !e.IsDir() && e.Filename == name && e.Size == size && strings.EqualFold(e.Etag, etag)
		})
		if e != nil {
			res = &CreateResult{FileID: string(e.FileID), Reuse: true}
		}
		return e != nil, err
	}
	if err := c.retryChecked(ctx, "create", op, check); err != nil {
		return nil, err
	}
	return res, nil
}

// GetUploadURL returns the presigned URL for slice sliceNo (from 1).
func (c *Client) GetUploadURL(ctx context.Context, preuploadID string, sliceNo int) (string, error) {
	var d wire.GetUploadURLData
	r := post(wire.PathGetUploadURL, wire.GetUploadURLRequest{PreuploadID: preuploadID, SliceNo: sliceNo})
	if err := c.call(ctx, r, &d, true); err != nil {
		return "", err
	}
	if d.PresignedURL == "" {
		return "", &APIError{Endpoint: r.name, HTTPStatus: 200, Message: "answer has no presignedURL", malformed: true}
	}
	return d.PresignedURL, nil
}

// ListUploadParts lists the slices the service holds for an upload.
func (c *Client) ListUploadParts(ctx context.Context, preuploadID string) ([]wire.Part, error) {
	var d wire.ListUploadPartsData
	if err := c.call(ctx, post(wire.PathListUploadParts, wire.PreuploadRequest{PreuploadID: preuploadID}), &d, true); err != nil {
		return nil, err
	}
	return d.Parts, nil
}

// UploadComplete tells the service every slice is there. 20103 (being
// verified) and transient failures are retried within the retry policy.
func (c *Client) UploadComplete(ctx context.Context, preuploadID string) (*wire.UploadCompleteData, error) {
	var d wire.UploadCompleteData
	if err := c.call(ctx, post(wire.PathUploadComplete, wire.PreuploadRequest{PreuploadID: preuploadID}), &d, true); err != nil {
		return nil, err
	}
	return &d, nil
}

// UploadAsyncResult asks whether an asynchronous completion has finished.
// Callers poll it no faster than once a second.
func (c *Client) UploadAsyncResult(ctx context.Context, preuploadID string) (*wire.UploadAsyncResultData, error) {
	var d wire.UploadAsyncResultData
	if err := c.call(ctx, post(wire.PathUploadAsyncResult, wire.PreuploadRequest{PreuploadID: preuploadID}), &d, true); err != nil {
		return nil, err
	}
	return &d, nil
}

// PutSlice sends one slice of size bytes to a presigned URL: a single
// attempt, with Content-Length and without Authorization or Platform
// headers. The body is streamed, never buffered. A 403 gives an error
// matching ErrPresignExpired (fetch a new URL); temporary failures match
// IsTemporary. A PUT making no progress for Config.StallTimeout is aborted.
// The error never shows the URL's query (its signature).
func (c *Client) PutSlice(ctx context.Context, url string, body io.Reader, size int64) error {
	start := time.Now()
	err := c.putSlice(ctx, url, body, size)
	c.obs.Request(EndpointPutSlice, Result(err), time.Since(start))
	return signedURL(url).scrub(err)
}

func (c *Client) putSlice(ctx context.Context, url string, body io.Reader, size int64) error {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	dog := stall.New(c.stallTO, cancel)
	defer dog.Stop()
	if size == 0 || body == nil {
		body = http.NoBody
	} else {
		body = &kickReader{r: body, dog: dog}
	}
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) { sent.Store(i.Err == nil) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(actx, trace), http.MethodPut, url, body)
	if err != nil {
		return &APIError{Endpoint: EndpointPutSlice, Message: "building the request", Err: err}
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		if dog.Fired() && ctx.Err() == nil {
			err = fmt.Errorf("no progress for %v: %w", c.stallTO, err)
		}
		return transportError(ctx, EndpointPutSlice, err, sent.Load())
	}
	defer resp.Body.Close()
	dog.Stop()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	if resp.StatusCode/100 == 2 {
		return nil
	}
	e := &APIError{Endpoint: EndpointPutSlice, HTTPStatus: resp.StatusCode, TraceID: traceHeader(resp.Header),
		Message: strings.TrimSpace(string(snippet(msg, 300))), sent: true}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	// S3-style stores answer 400 RequestTimeout when the body came too slowly.
	if resp.StatusCode == 400 && strings.Contains(e.Message, "RequestTimeout") {
		e.HTTPStatus = 408
	}
	return e
}
