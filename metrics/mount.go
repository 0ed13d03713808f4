package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pan123fs/pan123fs/cache"
	pfs "github.com/pan123fs/pan123fs/fs"
)

// desc is one metric of the mount's figures, read at each scrape.
func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

var (
	descUploads        = desc("uploads_total", "Files put on the service (uploads that succeeded).")
	descUploadBytes    = desc("upload_bytes_total", "Bytes of the files put on the service (a file the service already had counts too).")
	descUploadFailures = desc("upload_failures_total", "Upload attempts that failed.")
	descUploadRetries  = desc("upload_retries_total", "Uploads queued again after a failure that may pass.")
	descUploadQueue    = desc("upload_queue_files", "Files not on the service yet, by state: writing, pending (waiting for an upload), uploading, failed.", "state")
	descDeletesQueued  = desc("deletes_queued", "Deletes journaled and not yet done.")
	descDeleteCalls    = desc("delete_calls_total", "Delete calls the delete queue made (each for up to a batch of entries).")
	descDeleteFailures = desc("delete_call_failures_total", "Delete calls that failed.")
	descSpoolBytes     = desc("spool_bytes", "Bytes the spool holds (files written and not yet uploaded).")
	descCacheHits      = desc("cache_hits_total", "Block-cache blocks read from disk.")
	descCacheMisses    = desc("cache_misses_total", "Block-cache blocks fetched from the service.")
	descCacheEvictions = desc("cache_evictions_total", "Block-cache blocks evicted to stay within its size or the free-disk floor.")
	descCacheBytes     = desc("cache_bytes", "Bytes the block cache holds.")
)

// mountCollector reads fs.Stats and cache.Stats at each scrape, once
// each, so the figures of one scrape agree with each other.
type mountCollector struct {
	mu    sync.Mutex
	fs    func() pfs.Stats   // GUARDED_BY(mu); nil until Watch
	cache func() cache.Stats // GUARDED_BY(mu); nil until Watch
}

func (c *mountCollector) set(fs func() pfs.Stats, cache func() cache.Stats) {
	c.mu.Lock()
	c.fs, c.cache = fs, cache
	c.mu.Unlock()
}

func (c *mountCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUploads, descUploadBytes, descUploadFailures, descUploadRetries, descUploadQueue,
		descDeletesQueued, descDeleteCalls, descDeleteFailures, descSpoolBytes,
		descCacheHits, descCacheMisses, descCacheEvictions, descCacheBytes} {
		ch <- d
	}
}

func (c *mountCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	fsStats, cacheStats := c.fs, c.cache
	c.mu.Unlock()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	if fsStats != nil {
		s := fsStats()
		counter(descUploads, s.Uploads)
		counter(descUploadBytes, s.UploadBytes)
		counter(descUploadFailures, s.UploadFailures)
		counter(descUploadRetries, s.UploadRetries)
		gauge(descUploadQueue, int64(s.Writing), "writing")
		gauge(descUploadQueue, int64(s.Pending), "pending")
		gauge(descUploadQueue, int64(s.Uploading), "uploading")
		gauge(descUploadQueue, int64(s.Failed), "failed")
		gauge(descDeletesQueued, int64(s.DeletesQueued))
		counter(descDeleteCalls, s.DeleteCalls)
		counter(descDeleteFailures, s.DeleteFailures)
		gauge(descSpoolBytes, s.SpoolBytes)
	}
	if cacheStats != nil {
		s := cacheStats()
		counter(descCacheHits, s.Hits)
		counter(descCacheMisses, s.Misses)
		counter(descCacheEvictions, s.Evictions)
		gauge(descCacheBytes, s.Bytes)
	}
}
