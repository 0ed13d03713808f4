// Package cache keeps blocks of remote file content on local disk.
//
// The content behind a Key (file ID and etag) never changes, so a cached
// block never goes stale; blocks leave the cache only when the least
// recently used ones are evicted to stay within Options.MaxBytes and
// Options.MinFree, or when Forget drops a file. Concurrent reads of a block
// that is not cached share one fetch.
//
// Blocks live in Dir/<hash of key and block size>/<block number>, written
// to a temporary file and renamed into place (not fsync'd: the cache is
// disposable), and a block whose length is not what the file's size implies
// is discarded when read or re-indexed. NewBlockCache re-indexes the blocks a previous run
// left (least recently stored first), deletes stray temporary files, and
// leaves anything else in Dir alone.
//
// The package knows nothing of FUSE or of the remote API: callers hand
// ReadAt a Fetcher for the remote file.
package cache
