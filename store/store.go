// Package store is the seam between the filesystem and the service that
// holds the images: the Backend interface, the Entry it describes things
// with, its limits and its errors. It names no service. Package fs speaks
// only this; a backend implements it (remote/pan123 for the 123pan image
// host, store/memstore in memory), and store/storetest is the contract
// suite every backend passes.
//
// Conventions every backend keeps:
//   - IDs are opaque strings; "" names the root folder in every call.
//   - Names are the names Linux sees: a backend whose service refuses some
//     characters maps them on the way out and back on the way in, so that
//     List yields what Mkdir and Put were given.
//   - Every error a call returns for a failure of the service (an answer,
//     or a connection that failed) is, or wraps, an *Error; errors.Is
//     matches it against the sentinels of errors.go.
package store

import (
	"context"
	"io"
	"iter"
	"time"
)

// Backend is an image store as the filesystem uses it. Implementations are
// safe for concurrent use.
type Backend interface {
	// Name says which service this is, for logs ("123pan image host").
	Name() string
	// Limits are the service's rules the filesystem plans around.
	Limits() Limits
	// CheckName tells, without a call, whether name can be an entry's name:
	// nil, or an error matching ErrInvalidName (ErrNameTooLong for a name
	// that is too long).
	CheckName(name string) error

	// List yields every entry of a folder, each once. On failure it yields
	// (Entry{}, err) once and stops.
	List(ctx context.Context, folder string) iter.Seq2[Entry, error]
	// Stat describes one entry, with its Link. A missing one gives
	// ErrNotFound.
	Stat(ctx context.Context, id string) (Entry, error)
	// Mkdir makes folder name in parent. A name already taken gives
	// ErrExists.
	Mkdir(ctx context.Context, parent, name string) (Entry, error)
	// Put stores content under parent/name, replacing entry Replaces when
	// set, so that the service never holds neither version (see PutRequest
	// and PutResult).
	Put(ctx context.Context, req PutRequest) (PutResult, error)
	// Rename gives e the name newName in folder newParent (either may be
	// what it has). The answer is e as it is now; when its ID differs from
	// e.ID the old entry is still there, and the caller deletes it (a
	// folder then holds nothing any more). newName must be free when
	// Limits.UniqueNames is set.
	Rename(ctx context.Context, e Entry, newParent, newName string) (Entry, error)
	// Delete deletes files and folders (a folder with what it holds), in
	// calls of Limits.DeleteBatch at most. IDs that are already gone are not
	// an error. On failure the calls before the failing one are done.
	Delete(ctx context.Context, ids []string) error
	// Reader reads the content of e, an entry whose Link is set (by Stat,
	// or by a listing that carries it). It makes no call until read.
	Reader(e Entry) Reader
	// Usage asks for the account's figures.
	Usage(ctx context.Context) (Usage, error)
	// Leftover tells whether e, found in the folder of a Put of name with
	// content md5 that was cut short (a crash), is an entry such a Put
	// leaves behind, to be deleted.
	Leftover(e Entry, name, md5 string) bool
}

// Entry is a file or folder as the service describes it.
type Entry struct {
	ID       string
	Parent   string // "" for the root
	Name     string // as Linux sees it
	Folder   bool
	Size     int64     // bytes; 0 for folders
	MD5      string    // lowercase hex of the content; "" for folders
	Created  time.Time // zero when unknown
	Modified time.Time // zero when unknown
	// Link is where the content can be downloaded; "" when the answer that
	// described the entry did not carry it (Stat does).
	Link string
	// Unreadable says why the content cannot be read (an image rejected by
	// moderation, say); "" when it can.
	Unreadable string
	// OwnLink is the content's link on the account's own domain, for a
	// service that lets an account serve its files under a domain of its
	// choosing; "" when the account has none (or the answer did not say).
	OwnLink string
	// Review is the service's moderation verdict on the content, in the
	// service's own terms (a status code, say): set on every file of a
	// service with Limits.Moderation, "" otherwise.
	Review string
	// Rejected tells whether moderation rejected the content.
	Rejected bool
	// Traffic is the bytes the service has served from the entry's links,
	// as it counts them; 0 when it does not say.
	Traffic int64
}

// Time is when the entry last changed: Modified, else Created, else the
// Unix epoch.
func (e Entry) Time() time.Time {
	switch {
	case !e.Modified.IsZero():
		return e.Modified
	case !e.Created.IsZero():
		return e.Created
	}
	return time.Unix(0, 0)
}

// PutRequest is what Put stores.
type PutRequest struct {
	Parent string
	Name   string
	// Replaces is the ID of the entry this content replaces; "" for a new
	// file.
	Replaces string
	Content  io.ReaderAt
	Size     int64
	MD5      string // lowercase hex of Content
	// Resume is a token that an earlier Put of the same content passed to
	// Started: the backend carries on that upload where it can, and starts
	// again where it cannot. "" starts afresh.
	Resume string
	// Started, if set, receives a token with which a later Put (after a
	// restart, say) can resume this one. It is called only when resuming
	// would save something.
	Started func(token string)
	// Progress, if set, receives the bytes sent so far whenever the upload
	// moves on: a part sent, or (with the same figure again) the service
	// answering while it finishes the upload, so that a caller can tell a
	// slow service from a dead one.
	Progress func(done int64)
}

// PutResult is what Put made.
type PutResult struct {
	// Entry is the new entry (valid when Put returns no error). Its Link
	// may be "".
	Entry Entry
	// Leftovers are entries the Put made and could not delete (a
	// temporary copy, say); the caller deletes them later. They are set
	// whether or not Put failed.
	Leftovers []string
}

// Reader reads ranges of one entry's content.
type Reader interface {
	io.ReaderAt
	// OpenRange streams length bytes from off (length < 0: to the end).
	OpenRange(ctx context.Context, off, length int64) (io.ReadCloser, error)
}

// Limits are a service's rules that shape the filesystem.
type Limits struct {
	// NameMax is the longest name, in bytes, the service takes: CheckName
	// refuses every longer name with ErrNameTooLong, and no name of NameMax
	// bytes or fewer for its length. The filesystem reports it as NAME_MAX.
	NameMax int
	// MaxFileSize is the largest file, in bytes, Put stores; 0: no limit
	// but the local disk's. The filesystem refuses to make a file larger
	// (EFBIG).
	MaxFileSize int64
	// DeleteBatch is the most IDs one delete call takes.
	DeleteBatch int
	// UniqueNames: the service refuses two entries of one name in a
	// folder, so a name must be free before another entry takes it.
	UniqueNames bool
	// Overwrite: the service replaces content under an existing entry in
	// one step (without it, Put replaces through a temporary entry).
	Overwrite bool
	// Moderation: the service reviews content, and says so of each file
	// (Entry.Review, Rejected, Traffic); without it those fields are
	// empty and mean nothing.
	Moderation bool
}

// Usage is an account's figures. Negative figures are unknown.
type Usage struct {
	Used  int64 // bytes stored
	Total int64 // bytes the account may store
	// Traffic is the download traffic left, in bytes.
	Traffic int64
	// Paid tells whether the account is a paid one.
	Paid bool
	// AccessEnds is when the account's access to the API ends; zero when
	// the answer names no end.
	AccessEnds time.Time
	// Warning is something the user must be told (access ends soon, say);
	// "" when nothing.
	Warning string
}

// Free is Total - Used, never below 0; -1 (unknown) when Total is. An
// unknown Used counts as nothing used.
func (u Usage) Free() int64 {
	if u.Total < 0 {
		return -1
	}
	return max(u.Total-max(u.Used, 0), 0)
}
