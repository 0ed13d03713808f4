package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pan123fs/pan123fs/cache"
	pfs "github.com/pan123fs/pan123fs/fs"
)

// namespace prefixes every metric of pan123fs's own.
const namespace = "pan123fs"

// Registry holds a mount's metrics: its observers are handed to the client
// and the filesystem before they start, and Watch adds what is read at each
// scrape once they exist. Safe for concurrent use.
type Registry struct {
	reg   *prometheus.Registry
	api   *apiMetrics
	fuse  *fuseMetrics
	mount *mountCollector
}

// New builds the registry with the client's and FUSE's metrics, and the Go
// runtime's and the process's (go_*, process_*).
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry(), api: newAPIMetrics(), fuse: newFUSEMetrics(), mount: &mountCollector{}}
	r.reg.MustRegister(r.api, r.fuse, r.mount,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Remote is the observer to put in remote.Config.Observer.
func (r *Registry) Remote() *APIObserver { return &APIObserver{m: r.api} }

// FUSE is the observer to put in fs.Options.Ops.
func (r *Registry) FUSE() *FUSEObserver { return &FUSEObserver{m: r.fuse} }

// Watch makes each scrape read the filesystem's and the block cache's
// figures. Before it is called those metrics are absent.
func (r *Registry) Watch(fsStats func() pfs.Stats, cacheStats func() cache.Stats) {
	r.mount.set(fsStats, cacheStats)
}

// Handler serves the metrics in Prometheus's exposition format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Gather is what a scrape returns, for tests and the README check.
func (r *Registry) Gather() ([]string, error) {
	mfs, err := r.reg.Gather()
	names := make([]string, 0, len(mfs))
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	return names, err
}
