package wechat

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
	"github.com/pan123fs/pan123fs/store"
)

// Backend is a CloudBase environment's storage behind the store
// interface. The namespace is a database collection, one document per
// entry (doc): the entry's ID is the document's _id, its folder the parent
// field ("" for the root), and a unique index on (parent, name) keeps
// names unique in a folder. A file's content is one storage object under a
// key that is never reused (put.go), so a rename is one database update
// and an overwrite never shows old bytes under a new link. Safe for
// concurrent use.
type Backend struct {
	c      *Client
	coll   string
	prefix string
	maxAge time.Duration

	makeMu sync.Mutex               // one makeCollection at a time
	links  *lru.Cache[string, Link] // file ID → download link

	capacity int64 // Config.Capacity; 0 unknown
	usageMu  sync.Mutex
	used     int64     // GUARDED_BY(usageMu): the last sum of file sizes
	usedAt   time.Time // GUARDED_BY(usageMu): when it was taken; zero: never
}

// usageTTL is how long Usage answers the sum it last took: taking it reads
// every file's document, which the environment's daily read quota counts.
const usageTTL = 10 * time.Minute

var _ store.Backend = (*Backend)(nil)

// linkCacheSize bounds the download links kept.
const linkCacheSize = 8192

// New builds the backend (and its client) from cfg. It makes no call.
func New(cfg Config) (*Backend, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	b := &Backend{c: c, coll: cfg.Collection, prefix: strings.Trim(cfg.Prefix, "/"), maxAge: cfg.LinkMaxAge, capacity: cfg.Capacity}
	if b.coll == "" {
		b.coll = DefaultCollection
	}
	if cfg.Prefix == "" {
		b.prefix = DefaultPrefix
	}
	if b.prefix == "" || wire.ValidatePath(b.prefix) != nil {
		return nil, fmt.Errorf("wechat: bad object key prefix %q", cfg.Prefix)
	}
	if b.maxAge <= 0 || b.maxAge > wire.MaxAge*time.Second {
		b.maxAge = DefaultLinkMaxAge
	}
	if b.maxAge < time.Second {
		b.maxAge = time.Second
	}
	b.links, _ = lru.New[string, Link](linkCacheSize)
	return b, nil
}

// Client is the API client under the backend.
func (b *Backend) Client() *Client { return b.c }

// Name is the service's name.
func (b *Backend) Name() string { return "WeChat CloudBase storage" }

// nameMax is the longest name. The name is a database field, which takes
// any string (a document may weigh up to 16 MB); 255 bytes is Linux's own
// NAME_MAX, so that any name Linux can make fits. The name never reaches
// an object key (keys are made of IDs, put.go), so the 850-byte cloud path
// limit and COS's character rules do not apply to it.
const nameMax = 255

// Limits: names of up to 255 bytes, files of up to wire.MaxObjectSize
// (one COS form upload), deletes of wire.MaxBatch (50) IDs a
// call (batchdeletefile's limit), one entry per name (the unique index),
// overwrite in place (the document keeps its _id).
func (b *Backend) Limits() store.Limits {
	return store.Limits{NameMax: nameMax, MaxFileSize: wire.MaxObjectSize, DeleteBatch: wire.MaxBatch, UniqueNames: true, Overwrite: true}
}

// CheckName accepts any valid UTF-8 of 1 to 255 bytes without '/' or NUL,
// other than "." and "..".
func (b *Backend) CheckName(name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return invalidName(name, "not a file name")
	case len(name) > nameMax:
		return store.Wrap(fmt.Errorf("wechat: name of %d bytes, more than %d", len(name), nameMax),
			store.ErrInvalidName, store.ErrNameTooLong, store.ErrPermanent)
	case strings.ContainsAny(name, "/\x00"):
		return invalidName(name, "contains '/' or NUL")
	case !utf8.ValidString(name):
		return invalidName(name, "not valid UTF-8 (the database keeps text)")
	}
	return nil
}

func invalidName(name, why string) error {
	return store.Wrap(fmt.Errorf("wechat: name %q: %s", name, why), store.ErrInvalidName, store.ErrPermanent)
}

func notFound(id string) error {
	return store.Wrap(fmt.Errorf("wechat: no entry %q", id), store.ErrNotFound, store.ErrPermanent)
}

// entryOf describes a document; Link is set when a fresh link is cached.
func (b *Backend) entryOf(d doc) store.Entry {
	e := store.Entry{ID: d.ID, Parent: d.Parent, Name: d.Name, Folder: d.Type == typeDir,
		Created: msTime(d.CTime), Modified: msTime(d.MTime)}
	if !e.Folder {
		e.Size, e.MD5 = d.Size, d.MD5
		if l, ok := b.links.Get(d.FileID); ok && b.c.clock.Now().Before(l.Until) {
			e.Link = l.URL
		}
	}
	return e
}

func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// List yields a folder's documents, a query of up to 1000 a page. Links
// come only from the cache: asking them would cost a call per 50 files.
// A folder that yields nothing is looked up, so that one that is gone
// gives ErrNotFound rather than nothing.
func (b *Backend) List(ctx context.Context, folder string) iter.Seq2[store.Entry, error] {
	return func(yield func(store.Entry, error) bool) {
		some := false
		for d, err := range b.findDocs(ctx, map[string]any{"parent": folder}) {
			if err != nil {
				yield(store.Entry{}, err)
				return
			}
			some = true
			if !yield(b.entryOf(d), nil) {
				return
			}
		}
		if !some {
			if err := b.checkFolder(ctx, folder); err != nil {
				yield(store.Entry{}, err)
			}
		}
	}
}

// Stat reads the document and, for a file, its download link (cached
// until a tenth of its life remains). A file whose object storage does
// not know is Unreadable.
func (b *Backend) Stat(ctx context.Context, id string) (store.Entry, error) {
	if id == "" {
		return store.Entry{Folder: true}, nil
	}
	d, err := b.getDoc(ctx, id)
	if err != nil {
		return store.Entry{}, err
	}
	e := b.entryOf(d)
	if e.Folder || e.Link != "" {
		return e, nil
	}
	l, err := b.link(ctx, d.FileID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		e.Unreadable = "the storage object is gone: " + err.Error()
	case err != nil:
		return store.Entry{}, err
	}
	e.Link = l.URL
	return e, nil
}

// link asks a download link for fileID and caches it.
func (b *Backend) link(ctx context.Context, fileID string) (Link, error) {
	res, err := b.c.DownloadLinks(ctx, []string{fileID}, b.maxAge)
	if err != nil {
		return Link{}, err
	}
	r := res[fileID]
	if r.Err != nil {
		return Link{}, r.Err
	}
	b.links.Add(fileID, r.Link)
	return r.Link, nil
}

// Mkdir adds a folder document; the unique index refuses a taken name.
func (b *Backend) Mkdir(ctx context.Context, parent, name string) (store.Entry, error) {
	if err := b.CheckName(name); err != nil {
		return store.Entry{}, err
	}
	if err := b.checkFolder(ctx, parent); err != nil {
		return store.Entry{}, err
	}
	now := b.c.clock.Now().UnixMilli()
	d := doc{Parent: parent, Name: name, Type: typeDir, MTime: now, CTime: now}
	id, err := b.add(ctx, d, false, func(got doc) bool { return got.Type == typeDir && got.CTime == now })
	if err != nil {
		return store.Entry{}, err
	}
	d.ID = id
	return b.entryOf(d), nil
}

// checkFolder makes sure the folder id ("" the root) is there, so that
// nothing is made in a folder another host deleted (it would never be
// seen, nor deleted).
func (b *Backend) checkFolder(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	d, err := b.getDoc(ctx, id)
	if err != nil {
		return err
	}
	if d.Type != typeDir {
		return store.Wrap(fmt.Errorf("wechat: %q is not a folder", id), store.ErrNotFound, store.ErrPermanent)
	}
	return nil
}

// add adds d and returns its _id. A duplicate refusal after an attempt
// that may have been applied (or always, with check) is looked into: when
// the document of that name is ours (mine says so), the add is done.
func (b *Backend) add(ctx context.Context, d doc, check bool, mine func(doc) bool) (string, error) {
	var resp wire.AddResponse
	ambiguous, err := b.db(ctx, wire.PathDatabaseAdd, b.q().withData("add", d), &resp)
	if err != nil && (ambiguous || check) && isDuplicate(err) {
		for got, ferr := range b.findDocs(ctx, map[string]any{"parent": d.Parent, "name": d.Name}) {
			if ferr != nil {
				// Not known whose the name is: not a duplicate to act on
				// (Put would drop an object the document may name).
				return "", ferr
			}
			if mine(got) {
				b.c.log.Info("wechat: an earlier attempt of databaseadd had taken effect", "name", d.Name)
				return got.ID, nil
			}
			break
		}
	}
	if err != nil {
		return "", err
	}
	if len(resp.IDList) != 1 || resp.IDList[0] == "" {
		return "", classify(&APIError{Call: wire.PathDatabaseAdd, Message: fmt.Sprintf("answer has %d IDs, not 1", len(resp.IDList))})
	}
	return resp.IDList[0], nil
}

// Rename updates the document's parent and name: one call whatever e
// holds, and the ID stays.
func (b *Backend) Rename(ctx context.Context, e store.Entry, newParent, newName string) (store.Entry, error) {
	if e.Parent == newParent && e.Name == newName {
		return e, nil
	}
	if err := b.CheckName(newName); err != nil {
		return store.Entry{}, err
	}
	if newParent != e.Parent {
		if err := b.checkFolder(ctx, newParent); err != nil {
			return store.Entry{}, err
		}
	}
	var resp wire.UpdateResponse
	_, err := b.db(ctx, wire.PathDatabaseUpdate,
		b.q().doc(e.ID).withData("update", map[string]any{"parent": newParent, "name": newName}), &resp)
	if err != nil {
		return store.Entry{}, err
	}
	if resp.Matched == 0 {
		return store.Entry{}, notFound(e.ID)
	}
	e.Parent, e.Name = newParent, newName
	return e, nil
}

// Usage: the WeChat API tells neither the environment's storage use nor
// its capacity (the plan's figures live in the Tencent Cloud console).
// Used is what this namespace holds, the sum of its files' sizes (a query
// of 1000 documents a call, taken at most every usageTTL); Total is
// Config.Capacity, -1 when not configured; Traffic is unknown (-1).
func (b *Backend) Usage(ctx context.Context) (store.Usage, error) {
	u := store.Usage{Total: -1, Traffic: -1}
	if b.capacity > 0 {
		u.Total = b.capacity
	}
	b.usageMu.Lock()
	defer b.usageMu.Unlock()
	if now := b.c.clock.Now(); b.usedAt.IsZero() || now.Sub(b.usedAt) >= usageTTL {
		var used int64
		for d, err := range b.findDocs(ctx, map[string]any{"type": typeFile}) {
			if err != nil {
				return store.Usage{}, err
			}
			used += d.Size
		}
		b.used, b.usedAt = used, now
	}
	u.Used = b.used
	return u, nil
}

// Leftover: a Put leaves no entries behind on this backend (the content
// is uploaded before any document names it), so nothing is one.
func (b *Backend) Leftover(store.Entry, string, string) bool { return false }
