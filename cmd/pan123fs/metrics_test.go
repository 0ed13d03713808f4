package main

import (
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scrape is one /metrics answer, parsed.
type scrape map[string]*dto.MetricFamily

// value is the value of the sample of name whose labels include want
// (label, value pairs); found is false when there is none.
func (s scrape) value(name string, want ...string) (v float64, found bool) {
	mf := s[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(want); i += 2 {
			match = match && labels[want[i]] == want[i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// startMountWithMetrics mounts with --metrics-addr 127.0.0.1:0 and returns
// the mount and the URL of its metrics, as the mount logs it.
func startMountWithMetrics(t *testing.T, args ...string) (*mountProc, string) {
	t.Helper()
	logs := &logTail{next: testWriter(t, "mount")}
	m := startMountLogging(t, t.TempDir(), logs, append(args, "--metrics-addr", "127.0.0.1:0")...)
	line := logs.find(regexp.MustCompile(`msg="serving metrics" url=(http://127\.0\.0\.1:\d+/metrics)`))
	require.NotNil(t, line, "the mount logs where it serves its metrics")
	return m, line[1]
}

// scrapeChecked gets url, checks the text with promtool (the linter of
// Prometheus's own project) and parses it.
func scrapeChecked(t *testing.T, url string) scrape {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Fatalf("promtool is missing: scripts/deps.sh --test installs it")
	}
	resp, err := http.Get(url)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	check := exec.Command("promtool", "check", "metrics")
	check.Stdin = strings.NewReader(string(body))
	out, err := check.CombinedOutput()
	require.NoError(t, err, "promtool check metrics:\n%s", out)
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)
	return families
}

// TestMetricsOfWriteReadRemove: a user writes, reads and removes a file on
// a mount served with --emulator --metrics-addr, then scrapes /metrics:
// promtool finds nothing wrong, and the figures say what happened.
func TestMetricsOfWriteReadRemove(t *testing.T) {
	m, url := startMountWithMetrics(t, "--emulator", "--state-dir", t.TempDir())
	const size = 300001
	src := filepath.Join(t.TempDir(), "photo.jpg")
	data := make([]byte, size)
	rand.Read(data)
	require.NoError(t, os.WriteFile(src, data, 0o644))

	sh(t, m.mnt, "cp "+src+" photo.jpg && cmp "+src+" photo.jpg")
	assert.Contains(t, shErr(t, m.mnt, "mkdir .Trash"), "Operation not permitted")
	sh(t, m.mnt, "rm photo.jpg && "+binary+" sync --timeout 1m "+m.mnt)

	s := scrapeChecked(t, url)
	uploads, _ := s.value("pan123fs_uploads_total")
	assert.GreaterOrEqual(t, uploads, 1.0, "uploads after cp")
	bytes, _ := s.value("pan123fs_upload_bytes_total")
	assert.Equal(t, float64(size), bytes, "bytes uploaded: the file's size")
	creates, found := s.value("pan123fs_api_requests_total", "endpoint", "create", "result", "ok")
	assert.True(t, found && creates >= 1, "create calls that succeeded: %v", creates)
	latencies, found := s.value("pan123fs_api_request_duration_seconds", "endpoint", "create")
	assert.True(t, found && latencies == creates, "create latencies observed %v, create calls %v", latencies, creates)
	for _, op := range []string{"lookup", "create", "write", "flush", "open", "unlink"} {
		n, found := s.value("pan123fs_fuse_operation_duration_seconds", "op", op)
		assert.True(t, found && n >= 1, "FUSE %s requests (the latency histogram's count): %v", op, n)
	}
	eperm, _ := s.value("pan123fs_fuse_errors_total", "op", "mkdir", "errno", "EPERM")
	assert.GreaterOrEqual(t, eperm, 1.0, "mkdir of a trash folder answered EPERM")
	deleteCalls, _ := s.value("pan123fs_delete_calls_total")
	assert.GreaterOrEqual(t, deleteCalls, 1.0, "delete calls after rm and sync")
	apiDeletes, _ := s.value("pan123fs_api_requests_total", "endpoint", "delete", "result", "ok")
	assert.GreaterOrEqual(t, apiDeletes, 1.0, "delete requests to the service")
	for _, state := range []string{"writing", "pending", "uploading", "failed"} {
		n, found := s.value("pan123fs_upload_queue_files", "state", state)
		assert.True(t, found && n == 0, "files %s after sync: %v", state, n)
	}
	queued, found := s.value("pan123fs_deletes_queued")
	assert.True(t, found && queued == 0, "deletes queued after sync: %v", queued)
	renewals, _ := s.value("pan123fs_token_renewals_total")
	assert.Equal(t, 1.0, renewals, "one token for the mount")
}

// TestMetricsCountDownloadedBytes: reading a file that another client put
// on the service downloads it once; the metered traffic says how much.
func TestMetricsCountDownloadedBytes(t *testing.T) {
	emu := startEmulator(t)
	const size = 200003
	data := make([]byte, size)
	rand.Read(data)
	_, err := checker(t, emu).Upload(t.Context(), uploadInput("", "elsewhere.jpg", data))
	require.NoError(t, err)
	m, url := startMountWithMetrics(t, "--api-base", emu, "--state-dir", t.TempDir())
	got, err := os.ReadFile(m.path("elsewhere.jpg"))
	require.NoError(t, err)
	require.Equal(t, data, got)

	s := scrapeChecked(t, url)
	downloaded, _ := s.value("pan123fs_download_bytes_total")
	assert.Equal(t, float64(size), downloaded, "bytes downloaded for one read of the file")
	fetches, found := s.value("pan123fs_api_requests_total", "endpoint", "fetch", "result", "ok")
	assert.True(t, found && fetches >= 1, "download requests: %v", fetches)
	misses, _ := s.value("pan123fs_cache_misses_total")
	assert.GreaterOrEqual(t, misses, 1.0, "blocks the cache did not have")
	held, _ := s.value("pan123fs_cache_bytes")
	assert.Equal(t, float64(size), held, "the block cache holds the file")
}

// TestMetricsAddrRefusesRemote: a non-loopback address is refused, saying
// why, unless --metrics-allow-remote is given.
func TestMetricsAddrRefusesRemote(t *testing.T) {
	out, err := exec.Command(binary, "mount", t.TempDir(), "--emulator", "--state-dir", t.TempDir(), "--metrics-addr", "0.0.0.0:0").CombinedOutput()
	require.Error(t, err, "%s", out)
	assert.Contains(t, string(out), "not a loopback address")
	assert.Contains(t, string(out), "--metrics-allow-remote")
}

// TestMetricsOfAWechatMount: the same metrics come from a WeChat
// CloudBase mount (--emulator --backend wechat-cloudbase): the API
// requests by endpoint (the COS form POST as "cos", download links as
// "fetch"), the token, the upload and the downloaded bytes, checked by
// promtool.
func TestMetricsOfAWechatMount(t *testing.T) {
	m, url := startMountWithMetrics(t, "--emulator", "--backend", "wechat-cloudbase", "--state-dir", t.TempDir())
	data := make([]byte, 100003)
	rand.Read(data)
	require.NoError(t, os.WriteFile(m.path("a.jpg"), data, 0o644))
	sh(t, m.mnt, "echo 3 > /proc/sys/vm/drop_caches")
	got, err := os.ReadFile(m.path("a.jpg"))
	require.NoError(t, err)
	require.Equal(t, data, got)

	s := scrapeChecked(t, url)
	for _, endpoint := range []string{"uploadfile", "cos", "databaseadd", "databasequery"} {
		n, found := s.value("pan123fs_api_requests_total", "endpoint", endpoint, "result", "ok")
		assert.True(t, found && n >= 1, "%s requests that succeeded: %v", endpoint, n)
	}
	renewals, _ := s.value("pan123fs_token_renewals_total")
	assert.Equal(t, 1.0, renewals, "one stable_token for the mount")
	bytes, _ := s.value("pan123fs_upload_bytes_total")
	assert.Equal(t, float64(len(data)), bytes)
}
