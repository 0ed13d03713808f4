package remote

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// UploadInput describes one file to upload.
type UploadInput struct {
	ParentID string      // "" = root
	Name     string      // validated with wire.ValidateName
	Src      io.ReaderAt // read concurrently, slice by slice, never buffered whole
	Size     int64
	MD5      string // hex md5 of the whole file
	// Progress, if set, gets the bytes sent so far: monotonic, ending at
	// Size on success, never counting a retried slice twice. Once every
	// slice is sent it is called again with Size whenever the service
	// answers while it finishes the upload (verifying, or not completed
	// yet), so that a caller can tell a slow completion from a dead
	// service. Calls are serialized but come from upload goroutines: keep
	// it quick.
	Progress func(done int64)
	// Started, if set, is called once create has opened an upload (not on
	// reuse), before any slice is sent: journal its arguments to resume
	// after a crash with ResumeUpload.
	Started func(preuploadID string, sliceSize int64)
	// SliceSize is needed by ResumeUpload only: the slice size create
	// answered (as given to Started).
	SliceSize int64
}

// UploadResult is a finished upload.
type UploadResult struct {
	FileID string
	Reused bool // 秒传: the service already had the content
}

func (in *UploadInput) check() error {
	if in.Size < 0 {
		return fmt.Errorf("remote: negative size %d", in.Size)
	}
	if in.Src == nil && in.Size > 0 {
		return errors.New("remote: upload without a source")
	}
	if err := wire.ValidateName(in.Name); err != nil {
		return invalidName(in.Name, err)
	}
	m, err := normMD5(in.MD5)
	if err != nil {
		return err
	}
	in.MD5 = m
	return nil
}

// Upload uploads a file: create (done at once on reuse), then the slices
// of the service's sliceSize in parallel (Config.UploadConcurrency), each
// streamed from Src with its presigned URL fetched just before its PUT and
// fetched again if refused, then upload_complete and, if asynchronous,
// polling of upload_async_result until done or Config.AsyncTimeout. Safe to
// call concurrently for different files.
func (c *Client) Upload(ctx context.Context, in UploadInput) (*UploadResult, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	cr, err := c.Create(ctx, in.ParentID, in.Name, in.MD5, in.Size)
	if err != nil {
		return nil, err
	}
	if cr.Reuse {
		id := cr.FileID
		if id == "" {
			if id, err = c.lookupUploaded(ctx, &in); err != nil {
				return nil, err
			}
			if id == "" {
				return nil, &APIError{Endpoint: "create", HTTPStatus: 200, Message: "reuse without a fileID, and no such file is listed"}
			}
		}
		if in.Progress != nil {
			in.Progress(in.Size)
		}
		return &UploadResult{FileID: id, Reused: true}, nil
	}
	if cr.PreuploadID == "" {
		return nil, &APIError{Endpoint: "create", HTTPStatus: 200, Message: "answer has neither reuse nor preuploadID"}
	}
	slice := cr.SliceSize
	if slice <= 0 {
		c.log.Warn("123pan: create gave no sliceSize; using the documented default", "default", DefaultSliceSize)
		slice = DefaultSliceSize
	}
	if in.Started != nil {
		in.Started(cr.PreuploadID, slice)
	}
	return c.finishUpload(ctx, cr.PreuploadID, slice, &in, nil)
}

// ResumeUpload carries on an upload that create opened earlier (perhaps in
// another process): it asks list_upload_parts which slices the service
// holds, keeps those whose size and md5 (where given) match Src, sends the
// others and completes. in.SliceSize must be create's sliceSize. If the
// service cannot list parts (404, unreadable answer) every slice is sent.
func (c *Client) ResumeUpload(ctx context.Context, preuploadID string, in UploadInput) (*UploadResult, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	if in.SliceSize <= 0 {
		return nil, errors.New("remote: ResumeUpload needs the upload's SliceSize")
	}
	parts, err := c.ListUploadParts(ctx, preuploadID)
	if err != nil {
		var e *APIError
		if !errors.As(err, &e) || (e.HTTPStatus != 404 && !e.malformed) {
			return nil, err
		}
		c.log.Warn("123pan: cannot list upload parts; sending every slice", "err", err)
		parts = nil
	}
	n := sliceCount(in.Size, in.SliceSize)
	have := map[int]bool{}
	for _, p := range parts {
		if p.PartNumber < 1 || p.PartNumber > n || have[p.PartNumber] {
			continue
		}
		off, length := sliceBounds(p.PartNumber, in.Size, in.SliceSize)
		if p.Size != length {
			continue
		}
		if et := strings.Trim(strings.TrimSpace(p.Etag), `"`); et != "" {
			sum, err := sectionMD5(in.Src, off, length)
			if err != nil {
				return nil, fmt.Errorf("remote: reading slice %d: %w", p.PartNumber, err)
			}
			if !strings.EqualFold(sum, et) {
				continue
			}
		}
		have[p.PartNumber] = true
	}
	return c.finishUpload(ctx, preuploadID, in.SliceSize, &in, have)
}

func sliceCount(size, slice int64) int {
	if size == 0 {
		return 1
	}
	return int((size + slice - 1) / slice)
}

// sliceBounds gives slice no's (from 1) offset and length.
func sliceBounds(no int, size, slice int64) (off, length int64) {
	off = int64(no-1) * slice
	return off, min(slice, size-off)
}

func sectionMD5(src io.ReaderAt, off, n int64) (string, error) {
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(src, off, n)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// finishUpload sends the slices not in have and completes the upload.
func (c *Client) finishUpload(ctx context.Context, pid string, slice int64, in *UploadInput, have map[int]bool) (*UploadResult, error) {
	prog := &progress{fn: in.Progress, hw: map[int]int64{}}
	if in.Size == 0 {
		c.putEmpty(ctx, pid, in, have[1], prog)
	} else if err := c.putSlices(ctx, pid, slice, in, have, prog); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id, err := c.complete(ctx, pid, in)
	if err != nil {
		return nil, err
	}
	prog.flush()
	return &UploadResult{FileID: id}, nil
}

// putEmpty sends the one empty slice of a 0-byte file. A service that
// wants no slice for it may refuse the URL or the PUT: then the upload goes
// straight to completion, which has the last word.
func (c *Client) putEmpty(ctx context.Context, pid string, in *UploadInput, have bool, prog *progress) {
	if have {
		return
	}
	if err := c.putSliceRetry(ctx, pid, 1, in.Src, 0, 0, prog); err != nil && ctx.Err() == nil {
		c.log.Info("123pan: no slice sent for an empty file; completing anyway", "name", in.Name, "err", err)
	}
}

// putSlices sends every slice not in have, UploadConcurrency at a time.
func (c *Client) putSlices(ctx context.Context, pid string, slice int64, in *UploadInput, have map[int]bool, prog *progress) error {
	n := sliceCount(in.Size, slice)
	for no := range have {
		_, length := sliceBounds(no, in.Size, slice)
		prog.advance(no, length, true)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.uploadConc)
	for no := 1; no <= n && gctx.Err() == nil; no++ {
		if have[no] {
			continue
		}
		off, length := sliceBounds(no, in.Size, slice)
		g.Go(func() error { return c.putSliceRetry(gctx, pid, no, in.Src, off, length, prog) })
	}
	return g.Wait()
}

// putSliceRetry sends one slice, fetching its presigned URL first and again
// after a 403, and retrying temporary failures with backoff. Every attempt
// reads the slice afresh from src.
func (c *Client) putSliceRetry(ctx context.Context, pid string, no int, src io.ReaderAt, off, length int64, prog *progress) error {
	url := ""
	for attempt := 0; ; attempt++ {
		if url == "" {
			u, err := c.GetUploadURL(ctx, pid, no)
			if err != nil {
				return fmt.Errorf("slice %d: %w", no, err)
			}
			url = u
		}
		var body io.Reader
		if length > 0 {
			body = &progressReader{r: io.NewSectionReader(src, off, length), p: prog, slice: no}
		}
		err := c.PutSlice(ctx, url, body, length)
		if err == nil {
			prog.advance(no, length, true)
			return nil
		}
		if errors.Is(err, ErrPresignExpired) {
			// A fresh URL at once: nothing failed that waiting would help.
			url = ""
			if c.policy.Exhausted(attempt+1) || ctx.Err() != nil {
				return fmt.Errorf("slice %d: %w", no, gaveUp(ctx, err))
			}
			continue
		}
		if err := c.pause(ctx, attempt, err, "123pan: slice retry", "slice", no); err != nil {
			return fmt.Errorf("slice %d: %w", no, err)
		}
	}
}

// complete calls upload_complete and, if the service finishes
// asynchronously, polls upload_async_result, all within AsyncTimeout.
func (c *Client) complete(ctx context.Context, pid string, in *UploadInput) (string, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.asyncTO)
	defer cancel()
	beat := func() { // the service answered: the upload is alive
		if in.Progress != nil {
			in.Progress(in.Size)
		}
	}
	timedOut := func(err error) error {
		if parent.Err() == nil && ctx.Err() != nil {
			return fmt.Errorf("remote: upload of %q not completed within %v: %w", in.Name, c.asyncTO, err)
		}
		return err
	}

	r := post(wire.PathUploadComplete, wire.PreuploadRequest{PreuploadID: pid})
	var d wire.UploadCompleteData
	var ambiguous bool
	var err error
	for {
		err = c.retry(ctx, r.name, true, func(ctx context.Context) error {
			err := c.send(ctx, r, &d)
			ambiguous = ambiguous || IsAmbiguous(err)
			return err
		})
		if !errors.Is(err, ErrVerifying) || ctx.Err() != nil {
			break
		}
		beat()
		if serr := backoff.Sleep(ctx, c.clock, c.asyncPoll); serr != nil {
			break
		}
	}
	if err != nil {
		if ambiguous && ctx.Err() == nil {
			// An earlier completion may have gone through.
			if id, lerr := c.lookupUploaded(ctx, in); lerr == nil && id != "" {
				return id, nil
			}
		}
		return "", timedOut(err)
	}
	if d.FileID != "" && (bool(d.Completed) || !bool(d.Async)) {
		return string(d.FileID), nil
	}
	for {
		if err := backoff.Sleep(ctx, c.clock, c.asyncPoll); err != nil {
			return "", timedOut(err)
		}
		res, err := c.UploadAsyncResult(ctx, pid)
		if err != nil {
			if IsTemporary(err) && ctx.Err() == nil {
				continue
			}
			return "", timedOut(err)
		}
		if !res.Completed {
			beat()
			continue
		}
		if res.FileID != "" {
			return string(res.FileID), nil
		}
		if id, err := c.lookupUploaded(ctx, in); err == nil && id != "" {
			return id, nil
		}
	}
}

// lookupUploaded finds the uploaded file by name, etag and size.
func (c *Client) lookupUploaded(ctx context.Context, in *UploadInput) (string, error) {
	e, err := c.findChild(ctx, in.ParentID, func(e *wire.Entry) bool {
		return !e.IsDir() && e.Filename == in.Name && e.Size == in.Size && strings.EqualFold(e.Etag, in.MD5)
	})
	if e == nil || err != nil {
		return "", err
	}
	return string(e.FileID), nil
}

// progress adds up bytes sent per slice, counting for each slice only the
// furthest point any attempt reached, and reports the total (serialized,
// monotonic) every progressStep bytes and when a slice ends.
type progress struct {
	fn    func(int64)
	mu    sync.Mutex
	hw    map[int]int64
	total int64
	shown int64
}

const progressStep = 1 << 20

func (p *progress) advance(slice int, pos int64, force bool) {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pos > p.hw[slice] {
		p.total += pos - p.hw[slice]
		p.hw[slice] = pos
	}
	if p.total > p.shown && (force || p.total-p.shown >= progressStep) {
		p.shown = p.total
		p.fn(p.total)
	}
}

func (p *progress) flush() { p.advance(0, 0, true) }

// progressReader reports how far into its slice the current attempt is.
type progressReader struct {
	r     io.Reader
	p     *progress
	slice int
	pos   int64
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.pos += int64(n)
	r.p.advance(r.slice, r.pos, false)
	return n, err
}
