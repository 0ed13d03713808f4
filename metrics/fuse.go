package metrics

import (
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/prometheus/client_golang/prometheus"
)

// fuseMetrics are the FUSE requests the mount answered. The count of
// requests by operation is the histogram's _count: no counter of its own.
type fuseMetrics struct {
	errors   *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newFUSEMetrics() *fuseMetrics {
	return &fuseMetrics{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "fuse_errors_total",
			Help: "FUSE requests answered with an error, by operation and errno name (ENOENT, EIO, ...)."},
			[]string{"op", "errno"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "fuse_operation_duration_seconds",
			Help:    "Time the filesystem took to answer a FUSE request, by operation (lookup, getattr, read, write, flush, ...), errors included; its _count is the requests answered.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, // 100 µs to 26 s
			[]string{"op"}),
	}
}

func (m *fuseMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.errors.Describe(ch)
	m.duration.Describe(ch)
}

func (m *fuseMetrics) Collect(ch chan<- prometheus.Metric) {
	m.errors.Collect(ch)
	m.duration.Collect(ch)
}

// FUSEObserver is an fs.OpObserver that counts into the registry.
type FUSEObserver struct{ m *fuseMetrics }

// Op counts one FUSE request, its errno (0: none) and its latency.
func (o *FUSEObserver) Op(op string, errno syscall.Errno, d time.Duration) {
	o.m.duration.WithLabelValues(op).Observe(d.Seconds())
	if errno != 0 {
		o.m.errors.WithLabelValues(op, errnoName(errno)).Inc()
	}
}

// errnoName is errno's symbol (ENOENT); a number no symbol has keeps its
// number, which still leaves few label values.
func errnoName(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return "errno_" + strconv.Itoa(int(e))
}
