package wechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/pan123fs/pan123fs/internal/httprange"
	"github.com/pan123fs/pan123fs/internal/stall"
	"github.com/pan123fs/pan123fs/store"
)

// Reader reads e's content from its download link with HTTP Range. A link
// that stops working (expired, or 404/403) is asked for again, once per
// request, from the entry's document, provided the document still names
// content of e's size and md5: never other bytes under e's identity.
func (b *Backend) Reader(e store.Entry) store.Reader {
	return &reader{b: b, e: e, url: e.Link}
}

// reader is Reader's store.Reader. Safe for concurrent use.
type reader struct {
	b *Backend
	e store.Entry

	mu  sync.Mutex
	url string // GUARDED_BY(mu)
}

// errRangeEnd says the service refused a range starting past the end.
var errRangeEnd = errors.New("range starts past the end")

func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("wechat: negative offset %d", off)
	}
	if off >= r.e.Size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.e.Size-off)
	rc, err := r.OpenRange(context.Background(), off, want)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p[:want])
	if err == nil && int64(n) < int64(len(p)) {
		err = io.EOF
	}
	return n, err
}

// OpenRange streams length bytes from off (length < 0: to the end). The
// stream reconnects where it stopped after a failure that may pass, under
// the client's retry policy, counting from the last progress.
func (r *reader) OpenRange(ctx context.Context, off, length int64) (io.ReadCloser, error) {
	if off < 0 {
		return nil, fmt.Errorf("wechat: negative offset %d", off)
	}
	end := r.e.Size
	if length >= 0 {
		end = min(end, off+length)
	}
	s := &stream{r: r, ctx: ctx, off: off, end: end}
	if off >= end {
		return s, nil
	}
	if err := s.connect(); err != nil {
		if errors.Is(err, errRangeEnd) {
			s.end = s.off
			return s, nil
		}
		return nil, err
	}
	return s, nil
}

// stream is OpenRange's reader.
type stream struct {
	r       *reader
	ctx     context.Context
	off     int64 // next byte
	end     int64 // exclusive
	body    io.ReadCloser
	attempt int
}

// connect opens the body at off, retrying failures that may pass.
func (s *stream) connect() error {
	for {
		body, err := s.r.get(s.ctx, s.off, s.end-1)
		if err == nil {
			s.body = body
			return nil
		}
		if errors.Is(err, errRangeEnd) || store.FromBackend(err) {
			return err // the end, or a call that had its own retries
		}
		if perr := s.r.b.c.pause(s.ctx, s.attempt, err, callDownload); perr != nil {
			return perr
		}
		s.attempt++
	}
}

func (s *stream) Read(p []byte) (int, error) {
	for {
		if s.off >= s.end {
			return 0, io.EOF
		}
		if s.body == nil {
			if err := s.connect(); err != nil {
				if errors.Is(err, errRangeEnd) {
					return 0, io.EOF
				}
				return 0, err
			}
		}
		if rest := s.end - s.off; int64(len(p)) > rest {
			p = p[:rest]
		}
		n, err := s.body.Read(p)
		s.off += int64(n)
		if n > 0 {
			s.attempt = 0
		}
		if err == nil || n > 0 && s.off >= s.end {
			return n, nil
		}
		s.body.Close()
		s.body = nil
		if n > 0 {
			return n, nil // hand over the data; the next Read reconnects
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // ended early
		}
		aerr := &APIError{Call: callDownload, Err: transportCause(err), transport: true}
		if perr := s.r.b.c.pause(s.ctx, s.attempt, aerr, callDownload); perr != nil {
			return 0, perr
		}
		s.attempt++
	}
}

func (s *stream) Close() error {
	if s.body != nil {
		err := s.body.Close()
		s.body = nil
		return err
	}
	return nil
}

// get requests bytes off..last and returns a body that yields exactly
// them. A link that answers 403 or 404, or serves content of another
// size, is replaced by a fresh one and tried once more.
func (r *reader) get(ctx context.Context, off, last int64) (io.ReadCloser, error) {
	r.mu.Lock()
	url := r.url
	r.mu.Unlock()
	if url != "" {
		body, err := r.request(ctx, url, off, last)
		if !staleLink(err) {
			return body, err
		}
	}
	fresh, err := r.refresh(ctx, url)
	if err != nil {
		return nil, err
	}
	body, err := r.request(ctx, fresh, off, last)
	if staleLink(err) {
		err = classify(err)
	}
	return body, err
}

// staleLink tells whether err says the link no longer serves e's content.
func staleLink(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Call == callDownload &&
		(e.HTTPStatus == http.StatusForbidden || e.HTTPStatus == http.StatusNotFound || e.Message == msgOtherSize)
}

// refresh asks a new link from e's document, which must still name e's
// content; stale is the link that failed.
func (r *reader) refresh(ctx context.Context, stale string) (string, error) {
	d, err := r.b.getDoc(ctx, r.e.ID)
	if err != nil {
		return "", err
	}
	if d.Type != typeFile || d.Size != r.e.Size || d.MD5 != r.e.MD5 {
		return "", store.Wrap(fmt.Errorf("wechat: %q has other content now", r.e.ID), store.ErrNotFound, store.ErrPermanent)
	}
	r.b.links.Remove(d.FileID)
	l, err := r.b.link(ctx, d.FileID)
	if err != nil {
		return "", err
	}
	if stale != "" {
		r.b.c.log.Info("wechat: download link refreshed", "id", r.e.ID)
	}
	r.mu.Lock()
	r.url = l.URL
	r.mu.Unlock()
	return l.URL, nil
}

const msgOtherSize = "the link serves content of another size"

// request is one GET of bytes off..last of url. A 200 that ignores Range
// is skipped forward by reading; a 416 is errRangeEnd. Errors are
// *APIErrors and never show the link (its query is a signature).
func (r *reader) request(ctx context.Context, url string, off, last int64) (_ io.ReadCloser, rerr error) {
	c := r.b.c
	actx, cancel := context.WithCancel(ctx)
	dog := stall.New(c.stallTO, cancel)
	fail := func(err error) (io.ReadCloser, error) {
		dog.Stop()
		cancel()
		return nil, err
	}
	req, err := http.NewRequestWithContext(actx, http.MethodGet, url, nil)
	if err != nil {
		return fail(&APIError{Call: callDownload, Message: "building the request", Err: transportCause(err)})
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, last))
	start := c.clock.Now()
	resp, err := c.hc.Do(req)
	defer func() { c.observe(callDownload, start, rerr) }()
	if err != nil {
		if dog.Fired() && ctx.Err() == nil {
			err = fmt.Errorf("no answer for %v: %w", c.stallTO, err)
		}
		return fail(&APIError{Call: callDownload, Err: transportCause(err), transport: true})
	}
	dog.Stop()
	bad := func(status int, msg string) (io.ReadCloser, error) {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return fail(&APIError{Call: callDownload, HTTPStatus: status, Message: msg})
	}
	body := &stall.Body{RC: resp.Body, Dog: dog, Cancel: cancel, Got: c.obs.Downloaded}
	n := last - off + 1
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, end, total, ok := httprange.Parse(resp.Header.Get("Content-Range"))
		switch {
		case !ok || start != off || end > last:
			return bad(0, fmt.Sprintf("Content-Range %q does not answer Range bytes=%d-%d", resp.Header.Get("Content-Range"), off, last))
		case total >= 0 && total != r.e.Size:
			return bad(0, msgOtherSize)
		}
		return stall.Limited(body, end-start+1), nil
	case http.StatusOK:
		if resp.ContentLength >= 0 && resp.ContentLength != r.e.Size {
			return bad(0, msgOtherSize)
		}
		if off > 0 {
			if _, err := io.CopyN(io.Discard, body, off); err != nil {
				body.Close()
				return nil, &APIError{Call: callDownload, Err: err, transport: true}
			}
		}
		return stall.Limited(body, n), nil
	case http.StatusRequestedRangeNotSatisfiable:
		bad(0, "")
		return nil, errRangeEnd
	}
	return bad(resp.StatusCode, http.StatusText(resp.StatusCode))
}
