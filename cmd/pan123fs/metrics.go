package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/pan123fs/pan123fs/config"
	"github.com/pan123fs/pan123fs/metrics"
)

// addMetricsFlags binds the metrics flags of mount into c.
func addMetricsFlags(f *pflag.FlagSet, c *config.Metrics) {
	f.StringVar(&c.Addr, "metrics-addr", c.Addr, "serve Prometheus metrics at http://ADDR/metrics (host:port; loopback only unless --metrics-allow-remote; default: none)")
	f.BoolVar(&c.AllowRemote, "metrics-allow-remote", c.AllowRemote, "let --metrics-addr be an address other than loopback (anyone who reaches it sees what the mount does)")
}

// serveMetrics serves reg on c.Addr when it is set; the returned func
// stops it. The log line names the address bound (for a port 0).
func serveMetrics(c config.Metrics, reg *metrics.Registry, log *slog.Logger) (func(), error) {
	if c.Addr == "" {
		return func() {}, nil
	}
	addr, stop, err := metrics.Serve(c.Addr, reg.Handler(), log)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	log.Info("serving metrics", "url", "http://"+addr+"/metrics")
	return stop, nil
}
