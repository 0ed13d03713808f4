// Package fs is the FUSE adapter of pan123fs: go-fuse nodes over a storage
// backend (the store.Backend interface; it knows no service), the spool
// (package spool) and the block cache (package cache). It keeps folder
// listings, turns close(2) into uploads, unlink(2) into batched deletes and
// rename(2) into the backend's Rename, and turns errors into errnos in one
// place (errno.go).
//
// LOCK ORDERING: a fileNode's uploadMu before any mu; a dirNode's mu before
// a fileNode's mu; a parent dirNode's mu before a child dirNode's mu (rmdir,
// and a listing refreshing the folders it holds); never two sibling nodes'
// mus at once. A fileNode's mu before FS.defMu and FS.pendMu; the locks of
// other packages (listings, deleter, journal, queue) are taken last. No mu is
// held across a backend call, a rate-limit wait, a wait for a delete or a
// disk flush: a folder is listed in the background (dirlist.go) and the
// operations take what they need under the lock, call the backend without it,
// and check again; journal writes are waited for after letting go
// (spool.Ticket). The one exception is a fileNode's uploadMu (slot.go): it
// is held across an upload and the calls of a rename that involve the file
// (it keeps the name free meanwhile); only other uploads, renames, opens
// for writing and truncates of that same file wait for it, each within its
// operation's time limit.
package fs

import (
	"cmp"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/pan123fs/pan123fs/cache"
	"github.com/pan123fs/pan123fs/config"
	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/spool"
	"github.com/pan123fs/pan123fs/store"
	"github.com/pan123fs/pan123fs/store/deleter"
)

// Options configure a mounted filesystem. Fields left zero take their
// default from config.Default.
type Options struct {
	// UID and GID own every file and folder. FileMode and DirMode are the
	// permission bits of every file and folder, Umask is taken away from
	// both, and the kernel enforces the result for every caller but root
	// (the mount's default_permissions).
	UID, GID uint32
	FileMode uint32
	DirMode  uint32
	Umask    uint32

	DirTTL    time.Duration // how long a folder listing is trusted
	MaxListed int           // entries of folder listings kept in memory, least recently used dropped
	// Clock is the time of everything that waits or times out: listing
	// TTLs, the upload queue, the delete queue, recovery's rounds, the
	// account figures, stalled uploads and listings (default the real
	// clock); tests pass a fake one and move it.
	Clock        clockwork.Clock
	EntryTimeout time.Duration // kernel dentry cache
	AttrTimeout  time.Duration // kernel attribute cache
	DeleteWindow time.Duration // how long unlinks are coalesced before a delete call
	// DeleteRetry: how often and after how long a delete call that failed
	// for a reason that may pass is made again (deleter.Options).
	DeleteRetry backoff.Policy

	// OpTimeout bounds how long an operation waits for the backend before it
	// fails with EIO (see wait.go).
	OpTimeout time.Duration

	ReadOnly bool
	Logger   *slog.Logger

	// WriteBack makes close(2) return once the data and its journal record
	// are on disk; the upload starts WriteBackDelay later.
	WriteBack      bool
	WriteBackDelay time.Duration
	// Uploads is how many background uploads run at once.
	Uploads int
	// UploadRetry is the pause before each further attempt of an upload
	// that failed for a reason that may pass.
	UploadRetry backoff.Policy
	// RecoveryRetry paces the rounds that take up journal records the
	// start could not.
	RecoveryRetry backoff.Policy
	// RecoveryDir receives files that were still being written when an
	// earlier run ended (default: "recovery" beside the spool).
	RecoveryDir string
	// ControlSocket is the path of the status/sync socket, shown to
	// `pan123fs status` as the root's user.pan123.control attribute.
	ControlSocket string
	// AccountRefresh is how old the account figures statfs and status show
	// may grow before they are asked for again (account.go).
	AccountRefresh time.Duration
	// Ops, when set, is told of every FUSE request, its errno and its
	// latency (observe.go).
	Ops OpObserver
}

// setDefaults fills the fields left zero from config.Default.
func (o *Options) setDefaults() {
	d := config.Default()
	o.FileMode = cmp.Or(o.FileMode, d.Mount.FileMode)
	o.DirMode = cmp.Or(o.DirMode, d.Mount.DirMode)
	o.DirTTL = cmp.Or(o.DirTTL, d.Listing.TTL)
	o.MaxListed = cmp.Or(o.MaxListed, d.Listing.MaxEntries)
	o.EntryTimeout = cmp.Or(o.EntryTimeout, d.Mount.AttrTimeout)
	o.AttrTimeout = cmp.Or(o.AttrTimeout, d.Mount.AttrTimeout)
	o.DeleteWindow = cmp.Or(o.DeleteWindow, d.Delete.Window)
	if o.DeleteRetry.Initial <= 0 {
		o.DeleteRetry = d.Delete.Retry
	}
	o.OpTimeout = cmp.Or(max(o.OpTimeout, 0), d.OpTimeout)
	o.AccountRefresh = cmp.Or(o.AccountRefresh, d.AccountRefresh)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.RecoveryRetry.Initial <= 0 {
		o.RecoveryRetry = d.Upload.Recovery
	}
	o.WriteBackDelay = cmp.Or(o.WriteBackDelay, d.Upload.WriteBackDelay)
	o.Uploads = cmp.Or(max(o.Uploads, 0), d.Upload.Workers)
	if o.UploadRetry.Initial <= 0 {
		o.UploadRetry = d.Upload.Retry
	}
}

// FS is one mounted image host.
type FS struct {
	backend  store.Backend
	limits   store.Limits // backend.Limits()
	spool    *spool.Spool
	blocks   *cache.BlockCache
	listings *cache.Listings[*dirNode]
	deleter  *deleter.Deleter
	journal  *spool.Journal
	queue    *uploadQueue
	opts     Options
	clock    clockwork.Clock
	log      *slog.Logger
	root     *dirNode
	acct     *accountView // user/info for statfs and status (account.go)

	localIno  atomic.Uint64 // inode numbers for nodes not on the service yet
	served    atomic.Bool   // the kernel has the mount: it may be told of changes (notify.go)
	trashTold atomic.Bool   // the refusal of a desktop trash was logged at info level (trash.go)
	counters  counters

	defMu   sync.Mutex
	waiting map[string]*waitingDelete // ID → delete waiting for its readers' close (deferred.go); GUARDED_BY(defMu)

	pendMu    sync.Mutex
	pending   map[*fileNode]struct{} // journaled nodes; GUARDED_BY(pendMu)
	recovered []Recovered            // files kept from writes cut short by a crash; GUARDED_BY(pendMu)
	deferred  []deferred             // journal records not taken up yet; GUARDED_BY(pendMu)
}

// New builds the filesystem over the spool and its journal (which may hold
// work left by an earlier run: see Recover); Mount serves it.
func New(b store.Backend, sp *spool.Spool, j *spool.Journal, blocks *cache.BlockCache, opts Options) *FS {
	opts.setDefaults()
	f := &FS{backend: b, limits: b.Limits(), spool: sp, journal: j, blocks: blocks, opts: opts, log: opts.Logger,
		pending: map[*fileNode]struct{}{}, waiting: map[string]*waitingDelete{}}
	f.localIno.Store(1 << 62)
	f.clock = opts.Clock
	f.listings = cache.NewListings(opts.DirTTL, opts.MaxListed, opts.Clock, (*dirNode).dropListing)
	do := deleter.Options{Window: opts.DeleteWindow, Logger: opts.Logger, Clock: opts.Clock,
		Batch: f.limits.DeleteBatch, Backoff: opts.DeleteRetry}
	if j != nil {
		do.Journal = j
	}
	f.deleter = deleter.New(f.countDeletes(b.Delete), do)
	f.queue = newUploadQueue(f, opts.Uploads)
	f.acct = newAccountView(b.Usage, opts.AccountRefresh, opts.Clock, opts.Logger)
	f.root = &dirNode{fsys: f, mtime: time.Now()}
	f.root.setID("")
	return f
}

// inoOf derives a stable inode number from a backend's entry ID.
func inoOf(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	ino := h.Sum64() &^ (3 << 62) // below the local and go-fuse ranges
	if ino < 2 {
		ino += 2
	}
	return ino
}

func (f *FS) newLocalIno() uint64 { return f.localIno.Add(1) }

func (f *FS) fileMode() uint32 { return f.opts.FileMode &^ f.opts.Umask & 0o777 }
func (f *FS) dirMode() uint32  { return f.opts.DirMode &^ f.opts.Umask & 0o777 }
