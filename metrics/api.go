package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// apiMetrics are the 123pan client's: every request by endpoint and result,
// its latency, retries, token renewals and metered download traffic.
type apiMetrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	retries    *prometheus.CounterVec
	renewals   prometheus.Counter
	downloaded prometheus.Counter
}

func newAPIMetrics() *apiMetrics {
	return &apiMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "api_requests_total",
			Help: "HTTP requests to the service by endpoint (API call, put_slice, fetch) and result (ok, rate_limited for a 429, auth, not_found, server_error, refused, transport, canceled); each attempt counts."},
			[]string{"endpoint", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "api_request_duration_seconds",
			Help:    "Time from sending a request to its answer (for fetch: to the answer's headers), after the rate limiter let it through.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10)}, // 5 ms to 19 s
			[]string{"endpoint"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "api_retries_total",
			Help: "Pauses before another attempt of a request that failed for a reason that may pass, by endpoint."},
			[]string{"endpoint"}),
		renewals: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "token_renewals_total",
			Help: "Access tokens obtained from the service."}),
		downloaded: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "download_bytes_total",
			Help: "Bytes received from download links (metered traffic)."}),
	}
}

func (m *apiMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.duration.Describe(ch)
	m.retries.Describe(ch)
	m.renewals.Describe(ch)
	m.downloaded.Describe(ch)
}

func (m *apiMetrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.duration.Collect(ch)
	m.retries.Collect(ch)
	m.renewals.Collect(ch)
	m.downloaded.Collect(ch)
}

// APIObserver is a remote.Observer that counts into the registry.
type APIObserver struct{ m *apiMetrics }

// Request counts one request and its latency.
func (o *APIObserver) Request(endpoint, result string, d time.Duration) {
	o.m.requests.WithLabelValues(endpoint, result).Inc()
	o.m.duration.WithLabelValues(endpoint).Observe(d.Seconds())
}

// Retry counts one retry pause.
func (o *APIObserver) Retry(endpoint string) { o.m.retries.WithLabelValues(endpoint).Inc() }

// TokenRenewed counts one new token.
func (o *APIObserver) TokenRenewed() { o.m.renewals.Inc() }

// Downloaded counts n bytes from a download link.
func (o *APIObserver) Downloaded(n int64) { o.m.downloaded.Add(float64(n)) }
