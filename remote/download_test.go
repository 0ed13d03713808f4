package remote

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
)

// dlServer serves data at /f with Range (unless ignoreRange), at /r as a
// redirect to /f, and counts requests; it refuses auth headers.
type dlServer struct {
	srv         *httptest.Server
	data        []byte
	ignoreRange bool
	requests    atomic.Int32
	mu          sync.Mutex
	ranges      []string
	// cutAfter, if > 0, makes the first cutFirst answers stop after that
	// many body bytes.
	cutAfter int
	cutFirst atomic.Int32
	fail5xx  atomic.Int32
}

func newDLServer(t *testing.T, data []byte) *dlServer {
	d := &dlServer{data: data}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.requests.Add(1)
		if r.Header.Get("Authorization") != "" || r.Header.Get("Platform") != "" {
			http.Error(w, "no auth on public links", 400)
			return
		}
		switch r.URL.Path {
		case "/r":
			http.Redirect(w, r, "/f", http.StatusFound)
			return
		case "/gone":
			http.NotFound(w, r)
			return
		}
		d.mu.Lock()
		d.ranges = append(d.ranges, r.Header.Get("Range"))
		d.mu.Unlock()
		if d.fail5xx.Add(-1) >= 0 {
			http.Error(w, "busy", 503)
			return
		}
		if d.cutAfter > 0 && d.cutFirst.Add(-1) >= 0 {
			rng := r.Header.Get("Range")
			off := 0
			if rng != "" {
				_, _ = fmtSscanf(rng, &off)
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(d.data)-off))
			if off > 0 {
				w.Header().Set("Content-Range", "bytes "+strconv.Itoa(off)+"-"+strconv.Itoa(len(d.data)-1)+"/"+strconv.Itoa(len(d.data)))
				w.WriteHeader(206)
			}
			_, _ = w.Write(d.data[off:min(len(d.data), off+d.cutAfter)])
			return // short body: the connection is closed
		}
		if d.ignoreRange {
			w.Header().Set("Content-Length", strconv.Itoa(len(d.data)))
			_, _ = w.Write(d.data)
			return
		}
		http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(d.data))
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func fmtSscanf(rng string, off *int) (int, error) {
	s := rng[len("bytes="):]
	for i, ch := range s {
		if ch == '-' {
			s = s[:i]
			break
		}
	}
	n, err := strconv.Atoi(s)
	*off = n
	return 1, err
}

func TestReadAtWithRange(t *testing.T) {
	data := pattern(1000, 1)
	d := newDLServer(t, data)
	c := testClient(t, d.srv.URL)
	for _, path := range []string{"/f", "/r"} {
		r := c.NewReader(d.srv.URL+path, int64(len(data)))
		require.NoError(t, iotest.TestReader(io.NewSectionReader(r, 0, int64(len(data))), data))
		p := make([]byte, 100)
		n, err := r.ReadAt(p, 950)
		assert.Equal(t, 50, n)
		assert.ErrorIs(t, err, io.EOF)
		assert.Equal(t, data[950:], p[:50])
		n, err = r.ReadAt(p, 1000)
		assert.Equal(t, 0, n)
		assert.ErrorIs(t, err, io.EOF)
		n, err = r.ReadAt(p, 900)
		assert.Equal(t, 100, n)
		assert.NoError(t, err)
	}
	assert.Contains(t, d.ranges, "bytes=950-999")
}

func TestReadAtServerIgnoresRange(t *testing.T) {
	data := pattern(5000, 2)
	d := newDLServer(t, data)
	d.ignoreRange = true
	c := testClient(t, d.srv.URL)
	r := c.NewReader(d.srv.URL+"/f", int64(len(data)))
	p := make([]byte, 300)
	n, err := r.ReadAt(p, 4000)
	require.NoError(t, err)
	assert.Equal(t, 300, n)
	assert.Equal(t, data[4000:4300], p)

	rc, err := r.Open(t.Context(), 1234)
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, data[1234:], got)
}

func TestReadAtRetriesAndResumes(t *testing.T) {
	data := pattern(4000, 3)
	d := newDLServer(t, data)
	d.fail5xx.Store(2)
	c := testClient(t, d.srv.URL)
	r := c.NewReader(d.srv.URL+"/f", int64(len(data)))
	p := make([]byte, 1000)
	n, err := r.ReadAt(p, 10)
	require.NoError(t, err)
	assert.Equal(t, 1000, n)
	assert.Equal(t, data[10:1010], p)
	assert.Equal(t, int32(3), d.requests.Load())
}

func TestOpenStreamResumesAfterCut(t *testing.T) {
	data := pattern(10000, 4)
	d := newDLServer(t, data)
	d.cutAfter = 1500
	d.cutFirst.Store(3)
	c := testClient(t, d.srv.URL)
	r := c.NewReader(d.srv.URL+"/f", int64(len(data)))
	rc, err := r.Open(t.Context(), 0)
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Equal(t, data, got)
	assert.GreaterOrEqual(t, d.requests.Load(), int32(4))
	assert.Contains(t, d.ranges, "bytes=1500-")
}

func TestDownloadErrors(t *testing.T) {
	data := pattern(100, 5)
	d := newDLServer(t, data)
	c := testClient(t, d.srv.URL)
	_, err := c.NewReader(d.srv.URL+"/gone", 100).ReadAt(make([]byte, 10), 0)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = c.NewReader(d.srv.URL+"/gone", 100).Open(t.Context(), 0)
	assert.ErrorIs(t, err, ErrNotFound)

	// The file is not the size we were told.
	_, err = c.NewReader(d.srv.URL+"/f", 50).ReadAt(make([]byte, 10), 5)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not 50")

	// Unknown size: reads to the end.
	r := c.NewReader(d.srv.URL+"/f", -1)
	p := make([]byte, 30)
	n, err := r.ReadAt(p, 80)
	assert.Equal(t, 20, n)
	assert.ErrorIs(t, err, io.EOF)
	n, err = r.ReadAt(p, 200)
	assert.Equal(t, 0, n)
	assert.ErrorIs(t, err, io.EOF)
}

func TestBadContentRange(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Range", "bytes 0-9/100")
		w.WriteHeader(206)
		_, _ = w.Write(make([]byte, 10))
	}))
	defer srv.Close()
	c := testClient(t, srv.URL)
	_, err := c.NewReader(srv.URL, 100).ReadAt(make([]byte, 10), 50)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Content-Range")
	assert.False(t, IsTemporary(err))
}

func TestDownloadStallAborted(t *testing.T) {
	release := make(chan struct{})
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Content-Length", "10")
			_, _ = w.Write([]byte("01234"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader([]byte("0123456789")))
	}))
	defer srv.Close()
	defer close(release)
	c := testClient(t, srv.URL, func(cfg *Config) { cfg.StallTimeout = 100 * time.Millisecond })
	rc, err := c.NewReader(srv.URL, 10).Open(t.Context(), 0)
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(got))
	assert.Equal(t, int32(2), n.Load())
}

// A server that answers at most 64 bytes per range request is read through
// without pauses.
func TestReadAtCappedRanges(t *testing.T) {
	data := pattern(1000, 6)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		var off int
		_, _ = fmtSscanf(r.Header.Get("Range"), &off)
		_, want, _ := strings.Cut(r.Header.Get("Range"), "-")
		end, err := strconv.Atoi(want)
		require.NoError(t, err)
		last := min(off+63, len(data)-1, end)
		w.Header().Set("Content-Range", "bytes "+strconv.Itoa(off)+"-"+strconv.Itoa(last)+"/"+strconv.Itoa(len(data)))
		w.Header().Set("Content-Length", strconv.Itoa(last-off+1))
		w.WriteHeader(206)
		_, _ = w.Write(data[off : last+1])
	}))
	defer srv.Close()
	// One attempt: a capped answer is progress, asked on at once, never a
	// failure that would need a retry.
	c := testClient(t, srv.URL, func(cfg *Config) { cfg.Retry = backoff.Policy{Attempts: 1} })
	p := make([]byte, 500)
	got, err := c.NewReader(srv.URL, 1000).ReadAt(p, 100)
	require.NoError(t, err)
	assert.Equal(t, 500, got)
	assert.Equal(t, data[100:600], p)
	assert.Equal(t, int32(8), n.Load())
}

// Opening at the end of a file of unknown size: the server answers 416,
// the stream is empty, and reading it asks nothing more.
func TestOpenAtTheEndAsksOnce(t *testing.T) {
	data := pattern(100, 1)
	d := newDLServer(t, data)
	c := testClient(t, d.srv.URL)
	r := c.NewReader(d.srv.URL+"/f", -1)
	rc, err := r.Open(t.Context(), int64(len(data)))
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Empty(t, got)
	require.NoError(t, rc.Close())
	assert.Equal(t, int32(1), d.requests.Load())
}
