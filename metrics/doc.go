// Package metrics turns the counters and hooks of the core packages into
// Prometheus collectors: remote.Observer (the 123pan client's requests,
// retries, token renewals and downloaded bytes), fs.OpObserver (FUSE
// requests), fs.Stats (uploads, deletes, the spool) and cache.Stats (the
// block cache). The core packages know nothing of Prometheus; the binary
// builds one Registry per mount and serves it (Handler, Serve).
//
// Names follow Prometheus conventions: base units (seconds, bytes),
// _total for counters, and labels with a small fixed set of values only
// (endpoint, result, op, errno, state), never paths or IDs.
package metrics
