package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPrometheusScrapesTheMount: a real Prometheus server, on loopback,
// scrapes a mount's --metrics-addr and answers a query with the bytes
// uploaded.
func TestPrometheusScrapesTheMount(t *testing.T) {
	if _, err := exec.LookPath("prometheus"); err != nil {
		t.Fatalf("prometheus is missing: scripts/deps.sh --test installs it (with promtool)")
	}
	m, metricsURL := startMountWithMetrics(t, "--emulator", "--state-dir", t.TempDir())
	src := filepath.Join(t.TempDir(), "photo.jpg")
	require.NoError(t, os.WriteFile(src, make([]byte, 123457), 0o644))
	sh(t, m.mnt, "cp "+src+" photo.jpg")

	target := strings.TrimSuffix(strings.TrimPrefix(metricsURL, "http://"), "/metrics")
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: pan123fs\n    static_configs:\n      - targets: ['%s']\n", target)), 0o644))
	listen := freeLoopbackAddr(t)
	prom := exec.Command("prometheus", "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+listen, "--log.level=warn")
	prom.Stderr = testWriter(t, "prometheus")
	require.NoError(t, prom.Start())
	t.Cleanup(func() {
		prom.Process.Signal(syscall.SIGTERM)
		prom.Wait()
	})

	query := "http://" + listen + "/api/v1/query?query=" + url.QueryEscape(`pan123fs_upload_bytes_total{job="pan123fs"}`)
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && got == ""; time.Sleep(200 * time.Millisecond) {
		got = promValue(query)
	}
	require.Equal(t, "123457", got, "what Prometheus scraped of the bytes uploaded")
}

// promValue is the value of the first sample a Prometheus query answers
// ("" while there is none or the server is not up yet).
func promValue(query string) string {
	resp, err := http.Get(query)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var ans struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&ans) != nil || len(ans.Data.Result) == 0 {
		return ""
	}
	v, _ := ans.Data.Result[0].Value[1].(string)
	return v
}

// freeLoopbackAddr is a loopback address with a port free right now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
