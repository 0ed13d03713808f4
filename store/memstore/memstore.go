// Package memstore is a store.Backend held in memory, for the unit tests of
// the filesystem where a real service or its emulator is not the point: it
// keeps the contract of package store (it passes store/storetest), and has
// the seams such tests want: faults injected into the next calls of an
// operation or by a hook, a count of calls per operation, and gates that
// hold an operation until released, to play a service that hangs.
package memstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pan123fs/pan123fs/store"
)

// The operations, as the seams name them. Each is one call of the Backend
// method of that name; OpRead is one ReadAt or OpenRange of a Reader.
const (
	OpList   = "List"
	OpStat   = "Stat"
	OpMkdir  = "Mkdir"
	OpPut    = "Put"
	OpRename = "Rename"
	OpDelete = "Delete"
	OpRead   = "Read"
	OpUsage  = "Usage"
)

// Options configure a Store. The zero value is a usable store.
type Options struct {
	// Limits are what Limits answers. A zero NameMax is 255, a zero
	// DeleteBatch 100; MaxFileSize is answered, not enforced. UniqueNames is always true: the store keeps names
	// unique in a folder. With Overwrite, Put with Replaces keeps the
	// replaced entry's ID; without it the new content gets a new ID.
	Limits store.Limits
	// SliceSize: a Put of more bytes than this hands a resume token to
	// Started. 0 is 1 MiB; negative never.
	SliceSize int64
	// Total is Usage's Total; 0 is 1 TiB.
	Total int64
	// ListLinks: List sets Link too (without it only Stat does).
	ListLinks bool
	// Now is the clock of Created and Modified; nil is time.Now.
	Now func() time.Time
	// Name is what Name answers; "" is "memory".
	Name string
}

// Hook is called before every operation (outside the store's lock, so it
// may block) with the operation's context (context.Background for a
// ReadAt) and arg, the ID or name the call is about. An error it returns
// fails the call; one that is not a *store.Error is wrapped into one.
type Hook func(ctx context.Context, op, arg string) error

// Store is an in-memory store.Backend. It is safe for concurrent use.
type Store struct {
	opts Options

	mu      sync.Mutex
	nodes   map[string]*node // by ID; "" is the root
	nextID  int
	uploads map[string]upload // by resume token
	calls   map[string]int
	faults  map[string][]error
	gates   map[string]*Gate
	hook    Hook
	resumed int
}

type node struct {
	e        store.Entry
	data     []byte
	children map[string]string // name → ID, for folders
}

type upload struct {
	parent, name, md5 string
	size              int64
}

var _ store.Backend = (*Store)(nil)

// New makes an empty store.
func New(opts Options) *Store {
	if opts.Limits.NameMax <= 0 {
		opts.Limits.NameMax = 255
	}
	if opts.Limits.DeleteBatch <= 0 {
		opts.Limits.DeleteBatch = 100
	}
	opts.Limits.UniqueNames = true
	if opts.SliceSize == 0 {
		opts.SliceSize = 1 << 20
	}
	if opts.Total == 0 {
		opts.Total = 1 << 40
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Name == "" {
		opts.Name = "memory"
	}
	return &Store{
		opts: opts,
		nodes: map[string]*node{"": {
			e:        store.Entry{Folder: true},
			children: map[string]string{},
		}},
		uploads: map[string]upload{},
		calls:   map[string]int{},
		faults:  map[string][]error{},
		gates:   map[string]*Gate{},
	}
}

// Name says which store this is.
func (s *Store) Name() string { return s.opts.Name }

// Limits are Options.Limits, with the defaults filled in.
func (s *Store) Limits() store.Limits { return s.opts.Limits }

// CheckName refuses "", ".", "..", names with '/' or NUL, and names longer
// than Limits.NameMax bytes.
func (s *Store) CheckName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fail(store.ErrInvalidName, "invalid name %q", name)
	case strings.ContainsAny(name, "/\x00"):
		return fail(store.ErrInvalidName, "invalid name %q: '/' or NUL", name)
	case len(name) > s.opts.Limits.NameMax:
		return store.Wrap(fmt.Errorf("memstore: name of %d bytes, more than %d", len(name), s.opts.Limits.NameMax),
			store.ErrNameTooLong, store.ErrInvalidName, store.ErrPermanent)
	}
	return nil
}

// folder finds a folder; s.mu is held.
func (s *Store) folder(id string) (*node, error) {
	n := s.nodes[id]
	if n == nil || !n.e.Folder {
		return nil, notFound(id)
	}
	return n, nil
}

// entry is n's Entry as an answer gives it; s.mu is held.
func (s *Store) entry(n *node, link bool) store.Entry {
	e := n.e
	if link && !e.Folder {
		e.Link = "mem://" + e.ID
	}
	return e
}

// List yields the folder's entries, by name.
func (s *Store) List(ctx context.Context, folder string) iter.Seq2[store.Entry, error] {
	return func(yield func(store.Entry, error) bool) {
		if err := s.begin(ctx, OpList, folder); err != nil {
			yield(store.Entry{}, err)
			return
		}
		s.mu.Lock()
		d, err := s.folder(folder)
		var out []store.Entry
		if err == nil {
			for _, id := range d.children {
				out = append(out, s.entry(s.nodes[id], s.opts.ListLinks))
			}
		}
		s.mu.Unlock()
		if err != nil {
			yield(store.Entry{}, err)
			return
		}
		slices.SortFunc(out, func(a, b store.Entry) int { return strings.Compare(a.Name, b.Name) })
		for _, e := range out {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// Stat describes one entry, with its Link.
func (s *Store) Stat(ctx context.Context, id string) (store.Entry, error) {
	if err := s.begin(ctx, OpStat, id); err != nil {
		return store.Entry{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[id]
	if n == nil {
		return store.Entry{}, notFound(id)
	}
	return s.entry(n, true), nil
}

// Mkdir makes a folder.
func (s *Store) Mkdir(ctx context.Context, parent, name string) (store.Entry, error) {
	if err := s.begin(ctx, OpMkdir, name); err != nil {
		return store.Entry{}, err
	}
	if err := s.CheckName(name); err != nil {
		return store.Entry{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.folder(parent)
	if err != nil {
		return store.Entry{}, err
	}
	if _, taken := p.children[name]; taken {
		return store.Entry{}, fail(store.ErrExists, "%q exists in %q", name, parent)
	}
	n := s.add(parent, name, true, nil)
	return s.entry(n, false), nil
}

// add makes a node; s.mu is held.
func (s *Store) add(parent, name string, folder bool, data []byte) *node {
	s.nextID++
	now := s.opts.Now()
	n := &node{e: store.Entry{
		ID:       fmt.Sprintf("m%d", s.nextID),
		Parent:   parent,
		Name:     name,
		Folder:   folder,
		Created:  now,
		Modified: now,
	}}
	if folder {
		n.children = map[string]string{}
	} else {
		n.data = data
		n.e.Size = int64(len(data))
		n.e.MD5 = md5hex(data)
	}
	s.nodes[n.e.ID] = n
	s.nodes[parent].children[name] = n.e.ID
	return n
}

func md5hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// Put stores content. A Put of more than SliceSize bytes calls Started
// (unless it resumes), and fails if its context is done by then.
func (s *Store) Put(ctx context.Context, req store.PutRequest) (store.PutResult, error) {
	if err := s.begin(ctx, OpPut, req.Name); err != nil {
		return store.PutResult{}, err
	}
	if err := s.CheckName(req.Name); err != nil {
		return store.PutResult{}, err
	}
	if req.Size < 0 {
		return store.PutResult{}, fmt.Errorf("memstore: Put(%q): size %d", req.Name, req.Size)
	}
	data := make([]byte, req.Size)
	if req.Size > 0 {
		n, err := req.Content.ReadAt(data, 0)
		if n < len(data) {
			return store.PutResult{}, fmt.Errorf("memstore: Put(%q): reading the content: %d of %d bytes: %w", req.Name, n, req.Size, err)
		}
	}
	if sum := md5hex(data); sum != req.MD5 {
		return store.PutResult{}, fail(store.ErrPermanent, "Put(%q): MD5 %q given, the content's is %s", req.Name, req.MD5, sum)
	}

	if s.opts.SliceSize >= 0 && req.Size > s.opts.SliceSize {
		up := upload{parent: req.Parent, name: req.Name, md5: req.MD5, size: req.Size}
		s.mu.Lock()
		if u, ok := s.uploads[req.Resume]; ok && u == up {
			s.resumed++
			s.mu.Unlock()
		} else {
			s.nextID++
			tok := fmt.Sprintf("mem-upload-%d", s.nextID)
			s.uploads[tok] = up
			s.mu.Unlock()
			if req.Started != nil {
				req.Started(tok)
			}
		}
		if err := ctx.Err(); err != nil {
			return store.PutResult{}, store.Wrap(fmt.Errorf("memstore: Put(%q): %w", req.Name, err), store.ErrTemporary)
		}
	}
	if req.Progress != nil {
		req.Progress(req.Size)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.folder(req.Parent)
	if err != nil {
		return store.PutResult{}, err
	}
	var old *node
	if req.Replaces != "" {
		old = s.nodes[req.Replaces]
		if old == nil || old.e.Folder {
			return store.PutResult{}, notFound(req.Replaces)
		}
	}
	if id, taken := p.children[req.Name]; taken && id != req.Replaces {
		return store.PutResult{}, fail(store.ErrExists, "%q exists in %q", req.Name, req.Parent)
	}
	for tok, u := range s.uploads {
		if u.parent == req.Parent && u.name == req.Name && u.md5 == req.MD5 {
			delete(s.uploads, tok)
		}
	}
	if old != nil && s.opts.Limits.Overwrite {
		delete(s.nodes[old.e.Parent].children, old.e.Name)
		old.e.Parent, old.e.Name = req.Parent, req.Name
		p.children[req.Name] = old.e.ID
		old.data = data
		old.e.Size, old.e.MD5 = req.Size, req.MD5
		old.e.Modified = s.opts.Now()
		return store.PutResult{Entry: s.entry(old, false)}, nil
	}
	if old != nil {
		s.remove(old)
	}
	n := s.add(req.Parent, req.Name, false, data)
	return store.PutResult{Entry: s.entry(n, false)}, nil
}

// remove deletes n and what it holds; s.mu is held.
func (s *Store) remove(n *node) {
	for _, id := range n.children {
		s.remove(s.nodes[id])
	}
	if p := s.nodes[n.e.Parent]; p != nil && p.children[n.e.Name] == n.e.ID {
		delete(p.children, n.e.Name)
	}
	delete(s.nodes, n.e.ID)
}

// Rename moves and renames e, keeping its ID.
func (s *Store) Rename(ctx context.Context, e store.Entry, newParent, newName string) (store.Entry, error) {
	if err := s.begin(ctx, OpRename, e.ID); err != nil {
		return store.Entry{}, err
	}
	if err := s.CheckName(newName); err != nil {
		return store.Entry{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[e.ID]
	if n == nil || e.ID == "" {
		return store.Entry{}, notFound(e.ID)
	}
	p, err := s.folder(newParent)
	if err != nil {
		return store.Entry{}, err
	}
	if id, taken := p.children[newName]; taken && id != e.ID {
		return store.Entry{}, fail(store.ErrExists, "%q exists in %q", newName, newParent)
	}
	for a := newParent; a != ""; a = s.nodes[a].e.Parent {
		if a == e.ID {
			return store.Entry{}, fail(store.ErrPermanent, "cannot move %q into itself", e.ID)
		}
	}
	delete(s.nodes[n.e.Parent].children, n.e.Name)
	n.e.Parent, n.e.Name = newParent, newName
	p.children[newName] = n.e.ID
	return s.entry(n, false), nil
}

// Delete deletes entries, folders with what they hold.
func (s *Store) Delete(ctx context.Context, ids []string) error {
	if err := s.begin(ctx, OpDelete, strings.Join(ids, ",")); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(ids, "") {
		return fail(store.ErrPermanent, "cannot delete the root")
	}
	for _, id := range ids {
		if n := s.nodes[id]; n != nil {
			s.remove(n)
		}
	}
	return nil
}

// Reader reads e's content by its Link.
func (s *Store) Reader(e store.Entry) store.Reader { return &reader{s: s, e: e} }

type reader struct {
	s *Store
	e store.Entry
}

// content is the bytes behind the Link.
func (r *reader) content(ctx context.Context) ([]byte, error) {
	if err := r.s.begin(ctx, OpRead, r.e.ID); err != nil {
		return nil, err
	}
	id, ok := strings.CutPrefix(r.e.Link, "mem://")
	if !ok {
		return nil, fail(store.ErrPermanent, "entry %q: no mem:// Link (%q): Stat it first", r.e.ID, r.e.Link)
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	n := r.s.nodes[id]
	if n == nil || n.e.Folder {
		return nil, notFound(id)
	}
	return n.data, nil // never changed in place: Put gives a node a new slice
}

func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("memstore: ReadAt at %d", off)
	}
	data, err := r.content(context.Background())
	if err != nil {
		return 0, err
	}
	if off >= int64(len(data)) {
		return 0, io.EOF
	}
	n := copy(p, data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *reader) OpenRange(ctx context.Context, off, length int64) (io.ReadCloser, error) {
	if off < 0 {
		return nil, fmt.Errorf("memstore: OpenRange at %d", off)
	}
	data, err := r.content(ctx)
	if err != nil {
		return nil, err
	}
	size := int64(len(data))
	if off > size {
		return nil, fail(store.ErrPermanent, "entry %q: range from %d of %d bytes", r.e.ID, off, size)
	}
	end := size
	if length >= 0 {
		end = min(off+length, size)
	}
	return io.NopCloser(bytes.NewReader(data[off:end])), nil
}

// Usage counts the bytes held.
func (s *Store) Usage(ctx context.Context) (store.Usage, error) {
	if err := s.begin(ctx, OpUsage, ""); err != nil {
		return store.Usage{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var used int64
	for _, n := range s.nodes {
		used += n.e.Size
	}
	return store.Usage{Used: used, Total: s.opts.Total, Traffic: -1}, nil
}

// Leftover is always false: a Put here leaves nothing behind.
func (s *Store) Leftover(store.Entry, string, string) bool { return false }
