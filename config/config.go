// Package config is the one tree of a mount's settings: every knob, its
// default (Default) and its checks (Validate), in one place. The command
// line fills a Config from Default; the packages that run the mount take
// their options from it, and fill a zero field from Default too, so that a
// default is written down once.
package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/internal/backoff"
)

// Config is every setting of one mount.
type Config struct {
	Mount   Mount
	Listing Listing
	Cache   Cache
	Spool   Spool
	Upload  Upload
	Delete  Delete
	// Requests is how the backend's client retries one request that
	// failed for a reason that may pass.
	Requests backoff.Policy
	// OpTimeout bounds how long a file operation waits for the backend
	// before it fails with EIO.
	OpTimeout time.Duration
	// AccountRefresh is how old the account figures statfs and status show
	// may grow before they are asked for again.
	AccountRefresh time.Duration
	// DrainTimeout is how long unmounting waits for queued deletes.
	DrainTimeout time.Duration
	Metrics      Metrics // metrics.go
}

// Mount is what the kernel and the users of the mount see.
type Mount struct {
	ReadOnly   bool
	AllowOther bool
	UID, GID   uint32
	FileMode   uint32 // permission bits of every file, before Umask
	DirMode    uint32 // permission bits of every folder, before Umask
	Umask      uint32
	Subtype    string // the mount table shows fuse.Subtype
	// ReadAhead is how far the kernel reads ahead of sequential reads
	// (above 128 KiB only as root).
	ReadAhead int64
	// AttrTimeout is how long the kernel caches entries and attributes.
	AttrTimeout time.Duration
}

// Listing is the folder-listing cache.
type Listing struct {
	TTL        time.Duration // how long a listing is trusted
	MaxEntries int           // entries kept in memory, least recently used folders dropped
}

// Cache is the on-disk block cache of downloaded content.
type Cache struct {
	MaxBytes  int64
	BlockSize int64
	// DiskFloor is the free space spool writes and cached blocks leave on
	// their disk.
	DiskFloor int64
}

// Spool is where written files wait for their upload.
type Spool struct {
	MaxBytes int64 // 0: limited by free disk space only
}

// Upload is how files reach the backend.
type Upload struct {
	// WriteBack makes close(2) return once the data and its journal record
	// are on disk; the upload starts WriteBackDelay later.
	WriteBack      bool
	WriteBackDelay time.Duration
	Workers        int            // background uploads at once
	Retry          backoff.Policy // pause before each further attempt of a failed upload
	// Recovery paces the rounds that take up journal records the start
	// could not (the service unreachable, say).
	Recovery backoff.Policy
}

// Delete is the queue that batches deletes.
type Delete struct {
	Window time.Duration  // how long unlinks gather before a delete call
	Retry  backoff.Policy // rounds of a delete call that failed for a reason that may pass
}

// Default is the configuration of a mount nobody tuned. Some of its
// choices need a reason:
//   - Subtype "sshfs" makes the mount table say fuse.sshfs, the one FUSE
//     type GLib counts as remote (is_remote_fs_type in gio/glocalfile.c):
//     desktop file managers then treat the mount as a network share and, by
//     default, do not read every image to draw thumbnails (downloads are
//     metered). updatedb skips it for the same reason. Tools that look for
//     the mount find it by its source, pan123fs (findmnt -S pan123fs).
//   - ReadAhead 1 MiB: a sequential read(2) of 1 MiB then arrives as one
//     1 MiB FUSE READ instead of eight of 128 KiB, which doubles what FUSE
//     can carry on this path.
//   - Cache.BlockSize 64 KiB: as small as a thumbnail read, so that
//     scattered reads download about what they read; sequential reads
//     fetch many blocks per request.
//   - Cache.DiskFloor 256 MiB: writes to the spool and the cache leave that
//     much of their disk free for everything else.
func Default() Config {
	return Config{
		Mount: Mount{FileMode: 0o644, DirMode: 0o755, Umask: 0o022, Subtype: "sshfs",
			ReadAhead: 1 << 20, AttrTimeout: time.Second},
		Listing: Listing{TTL: 30 * time.Second, MaxEntries: 200_000},
		Cache:   Cache{MaxBytes: 1 << 30, BlockSize: 64 << 10, DiskFloor: 256 << 20},
		Upload: Upload{WriteBackDelay: 5 * time.Second, Workers: 4,
			Retry:    backoff.Policy{Initial: time.Second, Max: 5 * time.Minute},
			Recovery: backoff.Policy{Initial: 2 * time.Second, Max: time.Minute}},
		Requests: backoff.Policy{Initial: 200 * time.Millisecond, Max: 10 * time.Second, Attempts: 8, Jitter: true},
		Delete: Delete{Window: 200 * time.Millisecond,
			Retry: backoff.Policy{Initial: 2 * time.Second, Max: time.Minute, Attempts: 6}},
		OpTimeout:      20 * time.Second,
		AccountRefresh: 45 * time.Second,
		DrainTimeout:   time.Minute,
	}
}

// Validate says what is wrong with c, naming each setting as the command
// line does; nil when nothing is.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name string, v any, want string) {
		errs = append(errs, fmt.Errorf("--%s %v: %s", name, v, want))
	}
	m := c.Mount
	if m.FileMode == 0 || m.FileMode > 0o777 {
		bad("file-mode", fmt.Sprintf("%04o", m.FileMode), "an octal number from 1 to 0777")
	}
	if m.DirMode == 0 || m.DirMode > 0o777 {
		bad("dir-mode", fmt.Sprintf("%04o", m.DirMode), "an octal number from 1 to 0777")
	}
	if m.Umask > 0o777 {
		bad("umask", fmt.Sprintf("%03o", m.Umask), "an octal number from 0 to 0777")
	}
	if m.Subtype == "" || strings.ContainsAny(m.Subtype, ", \t\n/") {
		bad("subtype", fmt.Sprintf("%q", m.Subtype), "a plain name such as pan123fs")
	}
	if m.ReadAhead < 4096 {
		bad("read-ahead", m.ReadAhead, "at least 4096 bytes")
	}
	if m.AttrTimeout < 0 {
		bad("attr-timeout", m.AttrTimeout, "not negative")
	}
	if c.Listing.TTL < 0 {
		bad("dir-cache-ttl", c.Listing.TTL, "not negative")
	}
	if c.Listing.MaxEntries < 1 {
		bad("dir-cache-entries", c.Listing.MaxEntries, "at least 1")
	}
	if c.Cache.MaxBytes < c.Cache.BlockSize {
		bad("cache-max-size", c.Cache.MaxBytes, fmt.Sprintf("at least one block (%d bytes)", c.Cache.BlockSize))
	}
	if c.Spool.MaxBytes < 0 {
		bad("spool-max-size", c.Spool.MaxBytes, "0 (no limit) or more")
	}
	if c.Upload.Workers < 1 {
		bad("uploads", c.Upload.Workers, "at least 1")
	}
	if c.Upload.WriteBackDelay < 0 {
		bad("write-back", c.Upload.WriteBackDelay, "not negative")
	}
	if c.OpTimeout < 100*time.Millisecond {
		bad("op-timeout", c.OpTimeout, "at least 100ms")
	}
	if c.DrainTimeout < 0 {
		bad("drain-timeout", c.DrainTimeout, "not negative")
	}
	errs = append(errs, c.Metrics.check())
	return errors.Join(errs...)
}
