package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pan123fs/pan123fs/internal/httprange"
	"github.com/pan123fs/pan123fs/internal/stall"
)

// RangeReader reads a public download link with HTTP Range requests. It
// sends no auth headers, follows redirects, copes with a server that
// ignores Range (skipping to the offset by discarding, never buffering),
// checks Content-Range, and retries temporary failures with backoff,
// resuming where it stopped. It is safe for concurrent use.
type RangeReader struct {
	c    *Client
	url  string
	size int64 // < 0: unknown

	warned atomic.Bool
}

// NewReader returns a reader of the file at url, of size bytes (negative if
// unknown). It makes no request until read.
func (c *Client) NewReader(url string, size int64) *RangeReader {
	return &RangeReader{c: c, url: url, size: size}
}

// Size is the size given to NewReader.
func (r *RangeReader) Size() int64 { return r.size }

// errRangeEnd says the service refused a range starting past the end.
var errRangeEnd = errors.New("range starts past the end")

// ReadAt implements io.ReaderAt without a context; see ReadAtContext.
func (r *RangeReader) ReadAt(p []byte, off int64) (int, error) {
	return r.ReadAtContext(context.Background(), p, off)
}

// ReadAtContext reads len(p) bytes at off with io.ReaderAt semantics: fewer
// bytes only with an error, io.EOF at the end of the file.
func (r *RangeReader) ReadAtContext(ctx context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("remote: negative offset %d", off)
	}
	want := len(p)
	if r.size >= 0 {
		if off >= r.size {
			return 0, io.EOF
		}
		want = int(min(int64(want), r.size-off))
	}
	if want == 0 {
		return 0, nil
	}
	n, attempt := 0, 0
	for n < want {
		body, err := r.get(ctx, off+int64(n), off+int64(want)-1)
		if err == nil {
			var m int
			m, err = io.ReadFull(body, p[n:want])
			body.Close()
			n += m
			if err == nil {
				break
			}
			short := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
			if r.size < 0 && short {
				return n, io.EOF // unknown size: a short answer is the end
			}
			if m > 0 {
				// Progress (a cut connection, or a server that caps
				// ranges): ask for the rest at once.
				attempt = 0
				if ctx.Err() == nil {
					continue
				}
			}
			err = signedURL(r.url).scrub(transportError(ctx, EndpointFetch, err, true))
		}
		if errors.Is(err, errRangeEnd) {
			return n, io.EOF
		}
		if err := r.c.pause(ctx, attempt, err, "123pan: download retry", "offset", off+int64(n)); err != nil {
			return n, err
		}
		attempt++
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Open streams the file from off to its end. The stream reconnects at the
// current offset after a temporary failure (up to the retry policy's
// attempts without progress). The first request is made here, so a dead
// link fails Open. Close it when done.
func (r *RangeReader) Open(ctx context.Context, off int64) (io.ReadCloser, error) {
	return r.OpenRange(ctx, off, -1)
}

// OpenRange is Open for the length bytes at off (length < 0: to the end);
// the stream ends early only at the end of the file.
func (r *RangeReader) OpenRange(ctx context.Context, off, length int64) (io.ReadCloser, error) {
	if off < 0 {
		return nil, fmt.Errorf("remote: negative offset %d", off)
	}
	s := &stream{r: r, ctx: ctx, off: off, end: -1}
	if length >= 0 {
		s.end = off + length
	}
	if s.done() {
		return s, nil
	}
	for {
		body, err := r.get(ctx, off, s.last())
		if err == nil {
			s.body = body
			return s, nil
		}
		if errors.Is(err, errRangeEnd) {
			s.end = s.off // nothing there: reads end at once, with no second request
			return s, nil
		}
		if err := s.backoff(err); err != nil {
			return nil, err
		}
	}
}

// stream is Open's reader. Not safe for concurrent use (like any
// io.Reader).
type stream struct {
	r       *RangeReader
	ctx     context.Context
	off     int64
	end     int64 // exclusive; < 0: the end of the file
	body    io.ReadCloser
	attempt int
	closed  bool
}

// done tells whether the stream has reached its end.
func (s *stream) done() bool {
	return (s.end >= 0 && s.off >= s.end) || (s.r.size >= 0 && s.off >= s.r.size)
}

// last is the last byte to ask for (-1: to the end of the file).
func (s *stream) last() int64 {
	if s.end < 0 {
		return -1
	}
	return s.end - 1
}

func (s *stream) backoff(err error) error {
	if err := s.r.c.pause(s.ctx, s.attempt, err, "123pan: download retry", "offset", s.off); err != nil {
		return err
	}
	s.attempt++
	return nil
}

func (s *stream) Read(p []byte) (int, error) {
	if s.closed {
		return 0, errors.New("remote: read of a closed stream")
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if s.done() {
			return 0, io.EOF
		}
		if s.body == nil {
			body, err := s.r.get(s.ctx, s.off, s.last())
			if errors.Is(err, errRangeEnd) {
				return 0, io.EOF
			}
			if err != nil {
				if err := s.backoff(err); err != nil {
					return 0, err
				}
				continue
			}
			s.body = body
		}
		n, err := s.body.Read(p)
		s.off += int64(n)
		if n > 0 {
			s.attempt = 0
		}
		if err == nil {
			return n, nil
		}
		s.body.Close()
		s.body = nil
		if errors.Is(err, io.EOF) {
			if s.r.size < 0 || s.done() {
				return n, io.EOF
			}
			err = io.ErrUnexpectedEOF // ended early: reconnect
		}
		if n > 0 {
			return n, nil // hand over the data; the next Read reconnects
		}
		if err := s.backoff(signedURL(s.r.url).scrub(transportError(s.ctx, EndpointFetch, err, true))); err != nil {
			return 0, err
		}
	}
}

func (s *stream) Close() error {
	s.closed = true
	if s.body != nil {
		err := s.body.Close()
		s.body = nil
		return err
	}
	return nil
}

// get requests bytes off..end (end < 0: to the end) and returns a body
// positioned at off that yields exactly the requested bytes (or up to the
// end of the file). Its errors never show the link's query (an auth key).
func (r *RangeReader) get(ctx context.Context, off, end int64) (io.ReadCloser, error) {
	body, err := r.request(ctx, off, end)
	return body, signedURL(r.url).scrub(err)
}

func (r *RangeReader) request(ctx context.Context, off, end int64) (io.ReadCloser, error) {
	c := r.c
	actx, cancel := context.WithCancel(ctx)
	dog := stall.New(c.stallTO, cancel)
	fail := func(err error) (io.ReadCloser, error) {
		dog.Stop()
		cancel()
		return nil, err
	}
	req, err := http.NewRequestWithContext(actx, http.MethodGet, r.url, nil)
	if err != nil {
		return fail(&APIError{Endpoint: EndpointFetch, Message: "building the request", Err: err})
	}
	if off > 0 || end >= 0 {
		rng := fmt.Sprintf("bytes=%d-", off)
		if end >= 0 {
			rng += strconv.FormatInt(end, 10)
		}
		req.Header.Set("Range", rng)
	}
	req.Header.Set("User-Agent", userAgent)
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		if dog.Fired() && ctx.Err() == nil {
			err = fmt.Errorf("no answer for %v: %w", c.stallTO, err)
		}
		err = transportError(ctx, EndpointFetch, err, true)
		c.obs.Request(EndpointFetch, Result(err), time.Since(start))
		return fail(err)
	}
	dog.Stop()
	c.obs.Request(EndpointFetch, fetchResult(resp.StatusCode), time.Since(start))
	body := &stall.Body{RC: resp.Body, Dog: dog, Cancel: cancel, Got: c.obs.Downloaded}
	bad := func(msg string) (io.ReadCloser, error) {
		drainClose(resp.Body)
		return fail(&APIError{Endpoint: EndpointFetch, HTTPStatus: resp.StatusCode, Message: msg, TraceID: traceHeader(resp.Header)})
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, last, total, ok := httprange.Parse(resp.Header.Get("Content-Range"))
		if !ok || start != off || (end >= 0 && last > end) {
			return bad(fmt.Sprintf("Content-Range %q does not answer Range %q", resp.Header.Get("Content-Range"), req.Header.Get("Range")))
		}
		if total >= 0 && r.size >= 0 && total != r.size {
			return bad(fmt.Sprintf("file is %d bytes, not %d", total, r.size))
		}
		return stall.Limited(body, last-start+1), nil
	case http.StatusOK:
		if resp.ContentLength >= 0 && r.size >= 0 && resp.ContentLength != r.size {
			return bad(fmt.Sprintf("file is %d bytes, not %d", resp.ContentLength, r.size))
		}
		if off > 0 {
			if !r.warned.Swap(true) {
				c.log.Warn("123pan: download server ignores Range; skipping by reading", "url", signedURL(r.url))
			}
			if _, err := io.CopyN(io.Discard, body, off); err != nil {
				body.Close()
				if errors.Is(err, io.EOF) {
					return nil, errRangeEnd
				}
				return nil, transportError(ctx, EndpointFetch, err, true)
			}
		}
		if end >= 0 {
			return stall.Limited(body, end-off+1), nil
		}
		return body, nil
	case http.StatusRequestedRangeNotSatisfiable:
		drainClose(resp.Body)
		fail(nil)
		return nil, errRangeEnd
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	text := strings.TrimSpace(string(msg))
	if text == "" || strings.ContainsRune(text, '<') {
		text = http.StatusText(resp.StatusCode)
	}
	return bad(text)
}

func drainClose(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	rc.Close()
}
