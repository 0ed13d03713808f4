package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/cache"
	pfs "github.com/pan123fs/pan123fs/fs"
	"github.com/pan123fs/pan123fs/remote"
)

// exercised is a registry with every metric present: each observer called
// once and figures to watch.
func exercised() *Registry {
	r := New()
	api := r.Remote()
	api.Request("create", remote.ResultOK, 20*time.Millisecond)
	api.Request("list", remote.ResultRateLimited, time.Millisecond)
	api.Retry("list")
	api.TokenRenewed()
	api.Downloaded(4096)
	ops := r.FUSE()
	ops.Op("lookup", 0, time.Microsecond)
	ops.Op("mkdir", syscall.EPERM, time.Microsecond)
	r.Watch(func() pfs.Stats { return pfs.Stats{Uploads: 3, UploadBytes: 300, Pending: 2, DeletesQueued: 1} },
		func() cache.Stats { return cache.Stats{Hits: 5, Misses: 1, Bytes: 1 << 20} })
	return r
}

// TestReadmeListsEveryMetric keeps the README's Metrics table true: every
// pan123fs_ metric the registry serves is listed there, and the table lists
// none that does not exist.
func TestReadmeListsEveryMetric(t *testing.T) {
	names, err := exercised().Gather()
	require.NoError(t, err)
	var ours []string
	for _, n := range names {
		if strings.HasPrefix(n, namespace+"_") {
			ours = append(ours, n)
		}
	}
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	section, _, _ := strings.Cut(string(readme)[strings.Index(string(readme), "### Metrics"):], "\n### ")
	var listed []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(pan123fs_[a-z_]+)` \\|").FindAllStringSubmatch(section, -1) {
		listed = append(listed, m[1])
	}
	slices.Sort(ours)
	slices.Sort(listed)
	assert.Equal(t, ours, listed, "the README's Metrics table, against the registry")
}

// TestScrapeShowsWhatWasObserved: the figures observed come out of the
// handler in the exposition format, with their labels.
func TestScrapeShowsWhatWasObserved(t *testing.T) {
	srv := httptest.NewServer(exercised().Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	text := string(body)
	for _, line := range []string{
		`pan123fs_api_requests_total{endpoint="create",result="ok"} 1`,
		`pan123fs_api_requests_total{endpoint="list",result="rate_limited"} 1`,
		`pan123fs_api_retries_total{endpoint="list"} 1`,
		`pan123fs_api_request_duration_seconds_count{endpoint="create"} 1`,
		`pan123fs_token_renewals_total 1`,
		`pan123fs_download_bytes_total 4096`,
		`pan123fs_fuse_operation_duration_seconds_count{op="mkdir"} 1`,
		`pan123fs_fuse_errors_total{errno="EPERM",op="mkdir"} 1`,
		`pan123fs_uploads_total 3`,
		`pan123fs_upload_bytes_total 300`,
		`pan123fs_upload_queue_files{state="pending"} 2`,
		`pan123fs_deletes_queued 1`,
		`pan123fs_cache_hits_total 5`,
		`pan123fs_cache_bytes 1.048576e+06`,
	} {
		assert.Contains(t, text, line+"\n")
	}
	assert.NotContains(t, text, `pan123fs_fuse_errors_total{errno="EPERM",op="lookup"}`, "a success is no error")
}
