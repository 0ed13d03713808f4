// Package cache keeps blocks of remote file content on local disk.
//
// The content behind a Key (file ID and etag) never changes, so a cached
// block never goes stale; blocks leave the cache only when the least
// recently used ones are evicted to stay within Options.MaxBytes and
// Options.MinFree, or when Forget drops a file. Concurrent reads of a block
// that is not cached share one fetch.
//
// All blocks of a key live in one sparse file, Dir/<hash of key and block
// size>, block n at offset n*BlockSize, written and read with pwrite and
// pread on descriptors kept open (a bounded number of them). An evicted
// block is punched out of its file (fallocate PUNCH_HOLE), and a file
// whose last block goes is deleted; on a filesystem that cannot punch
// holes, evicting a block deletes its file with all its blocks.
//
// Blocks are not fsync'd (the cache is disposable), so after a crash any
// of them may be torn. Close therefore writes an index of the cached
// blocks, Dir/index, and NewBlockCache trusts the blocks it lists, deletes
// it at once, and deletes every cache file it does not list: after a run
// that did not end with Close, the cache starts empty. Files of the
// previous layout (a directory per key, a file per block) are deleted too;
// names the cache does not recognise are left alone.
//
// The package knows nothing of FUSE or of the remote API: callers hand
// ReadAt a Fetcher for the remote file.
package cache
