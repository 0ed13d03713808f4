package metrics

import (
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/prometheus/client_golang/prometheus"
)

// fuseMetrics are the FUSE requests the mount answered.
type fuseMetrics struct {
	ops      *prometheus.CounterVec
	errors   *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newFUSEMetrics() *fuseMetrics {
	return &fuseMetrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "fuse_operations_total",
			Help: "FUSE requests answered, by operation (lookup, getattr, read, write, flush, ...), errors included."},
			[]string{"op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "fuse_errors_total",
			Help: "FUSE requests answered with an error, by operation and errno name (ENOENT, EIO, ...)."},
			[]string{"op", "errno"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "fuse_operation_duration_seconds",
			Help:    "Time the filesystem took to answer a FUSE request, by operation.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, // 100 µs to 26 s
			[]string{"op"}),
	}
}

func (m *fuseMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.ops.Describe(ch)
	m.errors.Describe(ch)
	m.duration.Describe(ch)
}

func (m *fuseMetrics) Collect(ch chan<- prometheus.Metric) {
	m.ops.Collect(ch)
	m.errors.Collect(ch)
	m.duration.Collect(ch)
}

// FUSEObserver is an fs.OpObserver that counts into the registry.
type FUSEObserver struct{ m *fuseMetrics }

// Op counts one FUSE request, its errno (0: none) and its latency.
func (o *FUSEObserver) Op(op string, errno syscall.Errno, d time.Duration) {
	o.m.ops.WithLabelValues(op).Inc()
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
