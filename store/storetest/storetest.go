// Package storetest is the contract suite every store.Backend passes: Run
// takes a function that opens a fresh, empty backend and runs one subtest
// per rule of package store's contract on a backend of its own, asserting
// only on what a caller observes through the interface (what List yields,
// what Stat answers, the bytes a Reader gives back, and the sentinels the
// errors match), so that the filesystem can rely on any backend that
// passes it.
package storetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/store"
)

// Options tune Run to a backend. The zero value takes the defaults.
type Options struct {
	// ResumeSize is the size of the content the resume cases upload: large
	// enough that the backend hands out a resume token (some do only above
	// their slice size). Default DefaultResumeSize.
	ResumeSize int64
	// FileSize is the size of the content the ordinary Put and read cases
	// upload. Default DefaultFileSize.
	FileSize int64
	// Timeout bounds each subtest's calls. Default DefaultTimeout.
	Timeout time.Duration
}

// The defaults of Options.
const (
	DefaultResumeSize = 3<<20 + 1357
	DefaultFileSize   = 256<<10 + 7
	DefaultTimeout    = 2 * time.Minute
)

func (o Options) withDefaults() Options {
	if o.ResumeSize <= 0 {
		o.ResumeSize = DefaultResumeSize
	}
	if o.FileSize <= 0 {
		o.FileSize = DefaultFileSize
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// Run runs the contract suite, one subtest per rule, each on a fresh
// backend from open, which must be empty (its root lists nothing) and is
// the subtest's alone. opts, at most one, tune the suite to the backend.
func Run(t *testing.T, open func(t *testing.T) store.Backend, opts ...Options) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	o = o.withDefaults()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), o.Timeout)
			defer cancel()
			c.run(&env{t: t, ctx: ctx, b: open(t), opts: o})
		})
	}
}

// env is what one subtest works with.
type env struct {
	t    *testing.T
	ctx  context.Context
	b    store.Backend
	opts Options
}

var cases = []struct {
	name string
	run  func(e *env)
}{
	{"EmptyRoot", testEmptyRoot},
	{"MkdirList", testMkdirList},
	{"MkdirTaken", testMkdirTaken},
	{"Nested", testNested},
	{"PutNew", testPutNew},
	{"PutEmpty", testPutEmpty},
	{"HostFacts", testHostFacts},
	{"PutReplaces", testPutReplaces},
	{"PutTaken", testPutTaken},
	{"PutResume", testPutResume},
	{"PutGarbageResume", testPutGarbageResume},
	{"RenameInFolder", testRenameInFolder},
	{"RenameToFolder", testRenameToFolder},
	{"RenameToFolderAndName", testRenameToFolderAndName},
	{"RenameFolder", testRenameFolder},
	{"DeleteFile", testDeleteFile},
	{"DeleteFolder", testDeleteFolder},
	{"DeleteMoreThanBatch", testDeleteMoreThanBatch},
	{"DeleteGone", testDeleteGone},
	{"StatMissing", testStatMissing},
	{"CheckNameRefuses", testCheckNameRefuses},
	{"Names", testNames},
	{"Usage", testUsage},
	{"LeftoverOrdinary", testLeftoverOrdinary},
}

// content is n bytes that depend on seed.
func content(n int64, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// isKind asserts that err is a backend failure matching kind.
func (e *env) isKind(err, kind error, op string) bool {
	e.t.Helper()
	if !assert.Error(e.t, err, "%s: got no error, want %v", op, kind) {
		return false
	}
	ok := assert.ErrorIs(e.t, err, kind, "%s: got %v, want %v", op, err, kind)
	return assert.True(e.t, store.FromBackend(err), "%s: got %v (%T), want a *store.Error", op, err, err) && ok
}

// noError requires err to be nil, and checks that a failure is a backend's.
func (e *env) noError(err error, op string) {
	e.t.Helper()
	if err != nil {
		assert.True(e.t, store.FromBackend(err), "%s: failure %v (%T) is not a *store.Error", op, err, err)
	}
	require.NoError(e.t, err, "%s", op)
}

func (e *env) list(folder string) []store.Entry {
	e.t.Helper()
	var out []store.Entry
	seen := map[string]bool{}
	for ent, err := range e.b.List(e.ctx, folder) {
		e.noError(err, fmt.Sprintf("List(%q)", folder))
		assert.False(e.t, seen[ent.ID], "List(%q): ID %q yielded twice", folder, ent.ID)
		seen[ent.ID] = true
		out = append(out, ent)
	}
	return out
}

func named(ents []store.Entry, name string) []store.Entry {
	var out []store.Entry
	for _, ent := range ents {
		if ent.Name == name {
			out = append(out, ent)
		}
	}
	return out
}

func names(ents []store.Entry) []string {
	var out []string
	for _, ent := range ents {
		out = append(out, ent.Name)
	}
	slices.Sort(out)
	return out
}

func hasID(ents []store.Entry, id string) bool {
	return slices.ContainsFunc(ents, func(ent store.Entry) bool { return ent.ID == id })
}

// one lists folder and requires exactly one entry called name.
func (e *env) one(folder, name string) store.Entry {
	e.t.Helper()
	ents := named(e.list(folder), name)
	require.Len(e.t, ents, 1, "List(%q): entries named %q: got %v, want exactly one", folder, name, ents)
	return ents[0]
}

// none lists folder and requires no entry called name.
func (e *env) none(folder, name string) {
	e.t.Helper()
	ents := named(e.list(folder), name)
	assert.Empty(e.t, ents, "List(%q): got %v, want no entry named %q", folder, ents, name)
}

func (e *env) mkdir(parent, name string) store.Entry {
	e.t.Helper()
	d, err := e.b.Mkdir(e.ctx, parent, name)
	e.noError(err, fmt.Sprintf("Mkdir(%q, %q)", parent, name))
	require.NotEmpty(e.t, d.ID, "Mkdir(%q, %q): got an empty ID", parent, name)
	assert.Equal(e.t, name, d.Name, "Mkdir(%q, %q): Name", parent, name)
	assert.True(e.t, d.Folder, "Mkdir(%q, %q): got Folder false", parent, name)
	return d
}

func req(parent, name string, data []byte) store.PutRequest {
	return store.PutRequest{
		Parent:  parent,
		Name:    name,
		Content: bytes.NewReader(data),
		Size:    int64(len(data)),
		MD5:     md5hex(data),
	}
}

// put stores data as parent/name, a new file, and checks the answer.
func (e *env) put(parent, name string, data []byte) store.Entry {
	e.t.Helper()
	res := e.putReq(req(parent, name, data))
	assert.Empty(e.t, res.Leftovers, "Put(%q): Leftovers after a plain Put", name)
	return res.Entry
}

func (e *env) putReq(r store.PutRequest) store.PutResult {
	e.t.Helper()
	res, err := e.b.Put(e.ctx, r)
	e.deleteLeftovers(res.Leftovers)
	e.noError(err, fmt.Sprintf("Put(%q)", r.Name))
	ent := res.Entry
	require.NotEmpty(e.t, ent.ID, "Put(%q): got an empty ID", r.Name)
	assert.Equal(e.t, r.Name, ent.Name, "Put(%q): Entry.Name", r.Name)
	assert.Equal(e.t, r.Parent, ent.Parent, "Put(%q): Entry.Parent", r.Name)
	assert.False(e.t, ent.Folder, "Put(%q): got Folder true", r.Name)
	assert.Equal(e.t, r.Size, ent.Size, "Put(%q): Entry.Size", r.Name)
	assert.Equal(e.t, r.MD5, ent.MD5, "Put(%q): Entry.MD5", r.Name)
	return res
}

func (e *env) deleteLeftovers(ids []string) {
	e.t.Helper()
	if len(ids) > 0 {
		e.t.Logf("deleting the Leftovers %v", ids)
		e.noError(e.b.Delete(e.ctx, ids), fmt.Sprintf("Delete(%q) of Leftovers", ids))
	}
}

func (e *env) del(ids ...string) {
	e.t.Helper()
	e.noError(e.b.Delete(e.ctx, ids), fmt.Sprintf("Delete(%q)", ids))
}

func (e *env) stat(id string) store.Entry {
	e.t.Helper()
	ent, err := e.b.Stat(e.ctx, id)
	e.noError(err, fmt.Sprintf("Stat(%q)", id))
	assert.Equal(e.t, id, ent.ID, "Stat(%q): ID", id)
	return ent
}

// gone requires Stat of id to give ErrNotFound.
func (e *env) gone(id string) {
	e.t.Helper()
	ent, err := e.b.Stat(e.ctx, id)
	e.isKind(err, store.ErrNotFound, fmt.Sprintf("Stat(%q) (got %+v)", id, ent))
}

// statFile Stats a file and checks what it says against data.
func (e *env) statFile(id, name string, data []byte) store.Entry {
	e.t.Helper()
	ent := e.stat(id)
	assert.Equal(e.t, name, ent.Name, "Stat(%q): Name", id)
	assert.False(e.t, ent.Folder, "Stat(%q): got Folder true", id)
	assert.Equal(e.t, int64(len(data)), ent.Size, "Stat(%q): Size", id)
	assert.Equal(e.t, md5hex(data), ent.MD5, "Stat(%q): MD5", id)
	require.NotEmpty(e.t, ent.Link, "Stat(%q): got no Link", id)
	return ent
}

// readBack Stats id and reads it whole, requiring data.
func (e *env) readBack(id, name string, data []byte) {
	e.t.Helper()
	ent := e.statFile(id, name, data)
	rc, err := e.b.Reader(ent).OpenRange(e.ctx, 0, -1)
	e.noError(err, fmt.Sprintf("OpenRange(%q, 0, -1)", name))
	got, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(e.t, err, "OpenRange(%q, 0, -1): reading", name)
	requireBytes(e.t, data, got, fmt.Sprintf("OpenRange(%q, 0, -1)", name))
}

// requireBytes compares without printing megabytes.
func requireBytes(t *testing.T, want, got []byte, op string) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	require.Failf(t, "wrong bytes", "%s: got %d bytes (MD5 %s), want %d (MD5 %s); first difference at byte %d",
		op, len(got), md5hex(got), len(want), md5hex(want), i)
}

// readAt checks r.ReadAt(n bytes at off) against data, the whole content.
func readAt(t *testing.T, r store.Reader, data []byte, off int64, n int) {
	t.Helper()
	op := fmt.Sprintf("ReadAt(%d bytes at %d) of %d", n, off, len(data))
	buf := make([]byte, n)
	got, err := r.ReadAt(buf, off)
	want := min(max(int64(len(data))-off, 0), int64(n))
	if got < n {
		require.ErrorIs(t, err, io.EOF, "%s: got %d bytes and %v, want %d and io.EOF", op, got, err, want)
	} else if err != nil {
		require.ErrorIs(t, err, io.EOF, "%s: got %v, want nil or io.EOF", op, err)
	}
	require.Equal(t, want, int64(got), "%s: bytes read", op)
	from := min(off, int64(len(data)))
	requireBytes(t, data[from:from+want], buf[:got], op)
}

// openRange checks r.OpenRange(off, length) against data.
func openRange(t *testing.T, ctx context.Context, r store.Reader, data []byte, off, length int64) {
	t.Helper()
	op := fmt.Sprintf("OpenRange(%d, %d) of %d", off, length, len(data))
	rc, err := r.OpenRange(ctx, off, length)
	if err != nil {
		assert.True(t, store.FromBackend(err), "%s: failure %v (%T) is not a *store.Error", op, err, err)
	}
	require.NoError(t, err, "%s", op)
	got, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err, "%s: reading", op)
	end := int64(len(data))
	if length >= 0 {
		end = min(off+length, end)
	}
	requireBytes(t, data[off:end], got, op)
}
