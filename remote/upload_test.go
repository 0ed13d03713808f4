package remote

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

type progressLog struct {
	mu   sync.Mutex
	vals []int64
}

func (p *progressLog) fn(v int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.vals = append(p.vals, v)
}

func (p *progressLog) check(t *testing.T, total int64) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 1; i < len(p.vals); i++ {
		assert.Greater(t, p.vals[i], p.vals[i-1], "progress must grow: %v", p.vals)
	}
	if total > 0 {
		require.NotEmpty(t, p.vals)
		assert.Equal(t, total, p.vals[len(p.vals)-1])
	}
}

func upload(t *testing.T, c *Client, parent, name string, data []byte, prog *progressLog) (*UploadResult, error) {
	in := UploadInput{ParentID: parent, Name: name, Src: bytes.NewReader(data), Size: int64(len(data)), MD5: md5hex(data)}
	if prog != nil {
		in.Progress = prog.fn
	}
	return c.Upload(t.Context(), in)
}

func TestUploadSizes(t *testing.T) {
	for _, size := range []int{0, 1, 4, 5, 8, 11, 40} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			f := newFakePan(t) // slice size 4
			c := testClient(t, f.srv.URL, func(cfg *Config) { cfg.UploadConcurrency = 3 })
			data := pattern(size, byte(size))
			var prog progressLog
			res, err := upload(t, c, "", "file.bin", data, &prog)
			require.NoError(t, err)
			assert.False(t, res.Reused)
			e, err := c.Detail(t.Context(), res.FileID)
			require.NoError(t, err)
			assert.Equal(t, "file.bin", e.Filename)
			assert.Equal(t, int64(size), e.Size)
			f.mu.Lock()
			assert.Equal(t, data, append([]byte{}, f.blobs[md5hex(data)]...))
			f.mu.Unlock()
			slices := max(1, (size+3)/4)
			assert.Equal(t, slices, f.count("PUT"))
			assert.Equal(t, slices, f.count("get_upload_url"))
			if slices > 1 {
				assert.GreaterOrEqual(t, f.count("upload_async_result"), 1)
			}
			prog.check(t, int64(size))

			// The same content again is reused (秒传).
			res2, err := upload(t, c, "", "copy.bin", data, nil)
			require.NoError(t, err)
			assert.True(t, res2.Reused)
			assert.NotEqual(t, res.FileID, res2.FileID)
			assert.Equal(t, slices, f.count("PUT"))
		})
	}
}

func TestUploadNoAuthHeadersOnPut(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	_, err := upload(t, c, "", "a.bin", pattern(9, 1), nil)
	require.NoError(t, err)
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.putHeaders, 3)
	for _, h := range f.putHeaders {
		assert.Empty(t, h.Get("Authorization"))
		assert.Empty(t, h.Get("Platform"))
		assert.Equal(t, "application/octet-stream", h.Get("Content-Type"))
	}
}

func TestUploadAsyncPolling(t *testing.T) {
	f := newFakePan(t)
	f.asyncPolls = 3
	c := testClient(t, f.srv.URL, func(cfg *Config) { cfg.AsyncPollInterval = 20 * time.Millisecond })
	t0 := time.Now()
	res, err := upload(t, c, "", "a.bin", pattern(10, 2), nil)
	require.NoError(t, err)
	assert.NotEmpty(t, res.FileID)
	assert.Equal(t, 4, f.count("upload_async_result"))
	assert.GreaterOrEqual(t, time.Since(t0), 3*20*time.Millisecond, "four polls, at least an interval apart (a lower bound only)")

	// Never completing: AsyncTimeout ends it.
	f.asyncPolls = 1 << 30
	c2 := testClient(t, f.srv.URL, func(cfg *Config) { cfg.AsyncTimeout = 100 * time.Millisecond })
	_, err = upload(t, c2, "", "b.bin", pattern(10, 3), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not completed within")
}

func TestPollIntervalFloorForRealService(t *testing.T) {
	c, err := New(Config{BaseURL: "https://open-api.123pan.com", AsyncPollInterval: time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, time.Second, c.asyncPoll)
	c, err = New(Config{BaseURL: "http://127.0.0.1:1", AsyncPollInterval: time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, time.Millisecond, c.asyncPoll)
	c, err = New(Config{BaseURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	assert.Equal(t, time.Second, c.asyncPoll)
}

func TestUploadRefetchesURLOn403(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	var n atomic.Int32
	f.before = func(name string, w http.ResponseWriter, r *http.Request) bool {
		if name == "PUT" && n.Add(1) <= 2 {
			_, _ = io.Copy(io.Discard, r.Body)
			http.Error(w, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", 403)
			return true
		}
		return false
	}
	var prog progressLog
	data := pattern(6, 4)
	_, err := upload(t, c, "", "a.bin", data, &prog)
	require.NoError(t, err)
	assert.Equal(t, 4, f.count("get_upload_url"), "two slices + two refetches")
	assert.Equal(t, 4, f.count("PUT"))
	prog.check(t, 6)
}

func TestUploadRetriesTransientPut(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	var n atomic.Int32
	f.before = func(name string, w http.ResponseWriter, r *http.Request) bool {
		if name != "PUT" {
			return false
		}
		switch n.Add(1) {
		case 1:
			resetConn(w)
			return true
		case 2:
			_, _ = io.Copy(io.Discard, r.Body)
			http.Error(w, "busy", 503)
			return true
		}
		return false
	}
	var prog progressLog
	_, err := upload(t, c, "", "a.bin", pattern(3, 5), &prog)
	require.NoError(t, err)
	assert.Equal(t, 3, f.count("PUT"))
	assert.Equal(t, 1, f.count("get_upload_url"), "the URL is kept across transient failures")
	prog.check(t, 3)
}

func TestUploadCompleteVerifying(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL, func(cfg *Config) { cfg.Retry.Attempts = 2 })
	failFirst(f, "upload_complete", 5, func(w http.ResponseWriter) { writeEnv(w, 20103, "文件正在校验中,请间隔1秒后再试", nil) })
	res, err := upload(t, c, "", "a.bin", pattern(3, 6), nil)
	require.NoError(t, err)
	assert.NotEmpty(t, res.FileID)
	assert.Equal(t, 6, f.count("upload_complete"))
}

func TestUploadCompleteAppliedThenReset(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	var dropped atomic.Bool
	f.after = func(name string, r *http.Request) bool { return name == "upload_complete" && !dropped.Swap(true) }
	res, err := upload(t, c, "", "a.bin", pattern(3, 7), nil)
	require.NoError(t, err)
	assert.NotEmpty(t, res.FileID)
	all, err := c.ListAll(t.Context(), "")
	require.NoError(t, err)
	assert.Len(t, all, 1)
}

func TestUploadMD5Mismatch(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	data := pattern(9, 8)
	_, err := c.Upload(t.Context(), UploadInput{Name: "a.bin", Src: bytes.NewReader(data), Size: 9, MD5: md5hex([]byte("other"))})
	require.Error(t, err)
	assert.False(t, IsTemporary(err))
	assert.Contains(t, err.Error(), "md5")
}

func TestUploadEmptyWithoutSlice(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	failFirst(f, "get_upload_url", 1000, func(w http.ResponseWriter) { writeEnv(w, 1, "no slices for empty files", nil) })
	res, err := upload(t, c, "", "empty", nil, nil)
	require.NoError(t, err)
	assert.NotEmpty(t, res.FileID)
	assert.Equal(t, 0, f.count("PUT"))
}

func TestUploadStartedAndResume(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL, func(cfg *Config) { cfg.UploadConcurrency = 1 })
	data := pattern(18, 9) // slices 4,4,4,4,2
	sum := md5hex(data)
	// First attempt: slice 3 fails for good, so 4 and 5 are never sent.
	f.before = func(name string, w http.ResponseWriter, r *http.Request) bool {
		if name == "PUT" && strings.HasSuffix(r.URL.Path, "/3") {
			_, _ = io.Copy(io.Discard, r.Body)
			http.Error(w, "bad", 400)
			return true
		}
		return false
	}
	var pid string
	var slice int64
	in := UploadInput{Name: "r.bin", Src: bytes.NewReader(data), Size: 18, MD5: sum,
		Started: func(p string, s int64) { pid, slice = p, s }}
	_, err := c.Upload(t.Context(), in)
	require.Error(t, err)
	require.NotEmpty(t, pid)
	assert.Equal(t, int64(4), slice)
	f.mu.Lock()
	f.before = nil
	// Corrupt stored slice 2: its md5 no longer matches.
	f.uploads[pid].sliceMD5[2] = md5hex([]byte("junk"))
	f.calls["PUT"] = 0
	f.mu.Unlock()

	var prog progressLog
	in.Started, in.SliceSize, in.Progress = nil, slice, prog.fn
	res, err := c.ResumeUpload(t.Context(), pid, in)
	require.NoError(t, err)
	assert.NotEmpty(t, res.FileID)
	assert.Equal(t, 4, f.count("PUT"), "slices 2 (bad md5), 3, 4 and 5")
	prog.check(t, 18)
	f.mu.Lock()
	assert.Equal(t, data, f.blobs[sum])
	f.mu.Unlock()
}

func TestUploadInputChecks(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	_, err := c.Upload(t.Context(), UploadInput{Name: "a|b", Size: 0, MD5: md5hex(nil)})
	assert.ErrorIs(t, err, ErrInvalidName)
	_, err = c.Upload(t.Context(), UploadInput{Name: "a", Size: 3, MD5: md5hex(nil)})
	assert.Error(t, err)
	_, err = c.ResumeUpload(t.Context(), "p", UploadInput{Name: "a", Size: 0, MD5: md5hex(nil)})
	assert.Error(t, err)
	assert.Equal(t, 0, f.count("access_token"))
}

// genReader produces a deterministic stream without holding it.
type genReader struct{ size int64 }

func (g genReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= g.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), g.size-off))
	for i := range n {
		p[i] = byte((off + int64(i)) * 31 >> 3)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// A large upload streams: the heap stays far below the file size.
func TestUploadStreamsWithoutBuffering(t *testing.T) {
	if testing.Short() {
		t.Skip("large upload")
	}
	const size = 96 << 20
	f := newFakePan(t)
	f.discard = true
	f.sliceSize = 16 << 20
	c := testClient(t, f.srv.URL, func(cfg *Config) { cfg.UploadConcurrency = 4 })
	h := md5.New()
	_, err := io.Copy(h, io.NewSectionReader(genReader{size}, 0, size))
	require.NoError(t, err)

	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	var prog progressLog
	res, err := c.Upload(t.Context(), UploadInput{Name: "big.bin", Src: genReader{size}, Size: size,
		MD5: hex.EncodeToString(h.Sum(nil)), Progress: prog.fn})
	close(stop)
	wg.Wait()
	require.NoError(t, err)
	assert.NotEmpty(t, res.FileID)
	prog.check(t, size)
	assert.Less(t, peak.Load(), uint64(40<<20), "peak heap %d MiB", peak.Load()>>20)
	t.Logf("peak heap in use: %d MiB for a %d MiB upload", peak.Load()>>20, size>>20)
}
