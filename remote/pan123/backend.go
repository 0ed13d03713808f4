// Package pan123 is the 123pan image host as a store.Backend: the client
// (package remote) under the rules that make it a filesystem's store. Names
// are mapped to full-width look-alikes (names.go); a replacement goes up
// under a temporary name first, since 123pan has no overwrite (put.go); a
// rename is a move or an instant copy, a folder rename a new folder that
// the children move into (rename.go); an image rejected by moderation is
// unreadable; and which of 123pan's answers are worth another try is
// decided here (errors.go).
package pan123

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"strconv"
	"time"

	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/wire"
	"github.com/pan123fs/pan123fs/store"
)

// Backend is the 123pan image host behind the store interface. Safe for
// concurrent use.
type Backend struct {
	c   *remote.Client
	log *slog.Logger
}

var _ store.Backend = (*Backend)(nil)

// New makes the backend over c; log (nil: discard) hears of clean-ups that
// failed.
func New(c *remote.Client, log *slog.Logger) *Backend {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Backend{c: c, log: log}
}

// Client is the 123pan client under the backend, for the commands that
// speak 123pan itself (url, import).
func (b *Backend) Client() *remote.Client { return b.c }

// Name is the service's name.
func (b *Backend) Name() string { return "123pan image host" }

// Limits: names of up to nameMax (254) bytes, files of up to
// wire.MaxFileSize, deletes of 100 IDs a call, one entry per name, no
// overwrite.
func (b *Backend) Limits() store.Limits {
	return store.Limits{NameMax: nameMax, MaxFileSize: wire.MaxFileSize, DeleteBatch: 100, UniqueNames: true, Moderation: true}
}

// List yields a folder's entries, names decoded.
func (b *Backend) List(ctx context.Context, folder string) iter.Seq2[store.Entry, error] {
	return func(yield func(store.Entry, error) bool) {
		for e, err := range b.c.List(ctx, folder) {
			if err != nil {
				yield(store.Entry{}, wrap(err))
				return
			}
			se := entryOf(&e)
			se.Parent = folder // 123pan shows the root's own ID for ""
			if !yield(se, nil) {
				return
			}
		}
	}
}

// Stat asks detail for one entry.
func (b *Backend) Stat(ctx context.Context, id string) (store.Entry, error) {
	e, err := b.c.Detail(ctx, id)
	if err != nil {
		return store.Entry{}, wrap(err)
	}
	out := entryOf(e)
	if out.Parent != "" {
		// "" names the root: 123pan shows the root's own ID, learnt once
		if root, err := b.c.RootID(ctx); err == nil && root == out.Parent {
			out.Parent = ""
		}
	}
	return out, nil
}

// Mkdir makes a folder.
func (b *Backend) Mkdir(ctx context.Context, parent, name string) (store.Entry, error) {
	rname, err := remoteName(name)
	if err != nil {
		return store.Entry{}, err
	}
	id, err := b.c.Mkdir(ctx, parent, rname)
	if err != nil {
		return store.Entry{}, wrap(err)
	}
	now := time.Now()
	return store.Entry{ID: id, Parent: parent, Name: name, Folder: true, Created: now, Modified: now}, nil
}

// Delete deletes entries, 100 a call.
func (b *Backend) Delete(ctx context.Context, ids []string) error {
	return wrap(b.c.Delete(ctx, ids))
}

// Reader reads e's download link with HTTP Range requests.
func (b *Backend) Reader(e store.Entry) store.Reader {
	return b.c.NewReader(e.Link, e.Size)
}

// Usage asks user/info.
func (b *Backend) Usage(ctx context.Context) (store.Usage, error) {
	a, err := b.c.Account(ctx)
	if err != nil {
		return store.Usage{}, wrap(err)
	}
	return store.Usage{Used: a.Used, Total: a.Total, Traffic: a.DirectTraffic, Paid: a.Member,
		AccessEnds: a.DeveloperEnd, Warning: a.DeveloperWarning(time.Now())}, nil
}

// entryOf reads a listing or detail entry.
func entryOf(e *wire.Entry) store.Entry {
	out := store.Entry{ID: string(e.FileID), Parent: string(e.ParentFileID), Name: decodeName(e.Filename),
		Folder: e.IsDir(), Size: e.Size, MD5: e.Etag, Link: e.DownloadURL}
	if t, err := wire.ParseTime(e.CreateAt); err == nil {
		out.Created = t
	}
	if t, err := wire.ParseTime(e.UpdateAt); err == nil {
		out.Modified = t
	}
	if !out.Folder {
		out.Review = strconv.Itoa(e.Status)
		out.Traffic = e.TotalTraffic
		if e.UserSelfURL != e.DownloadURL {
			// 123pan shows the download link again when the account has
			// no custom domain
			out.OwnLink = e.UserSelfURL
		}
	}
	if e.Rejected() {
		out.Rejected = true
		out.Unreadable = fmt.Sprintf("rejected by moderation (status %d)", e.Status)
	}
	return out
}
