package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/store"
)

func testEmptyRoot(e *env) {
	ents := e.list("")
	assert.Empty(e.t, ents, "List(\"\") of a fresh backend: got %v, want nothing", ents)
}

func testMkdirList(e *env) {
	a := e.mkdir("", "alpha")
	b := e.mkdir("", "beta")
	assert.Equal(e.t, "", a.Parent, "Mkdir(\"\", \"alpha\"): Parent")
	assert.NotEqual(e.t, a.ID, b.ID, "Mkdir: two folders got one ID")

	ents := e.list("")
	assert.Equal(e.t, []string{"alpha", "beta"}, names(ents), "List(\"\"): names")
	for _, d := range []store.Entry{a, b} {
		got := e.one("", d.Name)
		assert.Equal(e.t, d.ID, got.ID, "List(\"\"): ID of %q", d.Name)
		assert.True(e.t, got.Folder, "List(\"\"): %q: got Folder false", d.Name)
		assert.Equal(e.t, "", got.Parent, "List(\"\"): %q: Parent", d.Name)
		assert.Zero(e.t, got.Size, "List(\"\"): %q: Size of a folder", d.Name)
		st := e.stat(d.ID)
		assert.True(e.t, st.Folder, "Stat(%q): got Folder false", d.ID)
		assert.Equal(e.t, d.Name, st.Name, "Stat(%q): Name", d.ID)
		assert.Equal(e.t, "", st.Parent, "Stat(%q): Parent of a folder in the root", d.ID)
		assert.Empty(e.t, e.list(d.ID), "List(%q) of a new folder", d.ID)
	}
}

func testMkdirTaken(e *env) {
	d := e.mkdir("", "taken")
	_, err := e.b.Mkdir(e.ctx, "", "taken")
	e.isKind(err, store.ErrExists, `Mkdir("", "taken") again`)
	got := e.one("", "taken")
	assert.Equal(e.t, d.ID, got.ID, `List(""): the first "taken" stays`)

	e.put("", "file.png", []byte("a file"))
	_, err = e.b.Mkdir(e.ctx, "", "file.png")
	e.isKind(err, store.ErrExists, `Mkdir("", "file.png") where a file of that name is`)
	got = e.one("", "file.png")
	assert.False(e.t, got.Folder, `List(""): "file.png" stays a file`)
}

func testNested(e *env) {
	a := e.mkdir("", "a")
	b := e.mkdir(a.ID, "b")
	c := e.mkdir(b.ID, "c")
	aa := e.mkdir(a.ID, "a") // a name taken elsewhere is free here
	assert.Equal(e.t, a.ID, b.Parent, "Mkdir(a, \"b\"): Parent")
	assert.Equal(e.t, b.ID, c.Parent, "Mkdir(b, \"c\"): Parent")
	assert.Len(e.t, slices.Compact(slices.Sorted(slices.Values([]string{a.ID, b.ID, c.ID, aa.ID}))), 4, "Mkdir: IDs not distinct")

	assert.Equal(e.t, []string{"a"}, names(e.list("")), "List(\"\")")
	assert.Equal(e.t, []string{"a", "b"}, names(e.list(a.ID)), "List(a)")
	gb := e.one(a.ID, "b")
	assert.Equal(e.t, b.ID, gb.ID, "List(a): ID of b")
	assert.Equal(e.t, a.ID, gb.Parent, "List(a): Parent of b")
	assert.True(e.t, gb.Folder, "List(a): b: Folder")
	gc := e.one(b.ID, "c")
	assert.Equal(e.t, c.ID, gc.ID, "List(b): ID of c")
	assert.Equal(e.t, b.ID, gc.Parent, "List(b): Parent of c")
	assert.Empty(e.t, e.list(c.ID), "List(c)")

	data := content(1000, 1)
	f := e.put(c.ID, "deep.png", data)
	gf := e.one(c.ID, "deep.png")
	assert.Equal(e.t, f.ID, gf.ID, "List(c): ID of deep.png")
	assert.Equal(e.t, c.ID, gf.Parent, "List(c): Parent of deep.png")
	st := e.stat(c.ID)
	assert.Equal(e.t, b.ID, st.Parent, "Stat(c): Parent")
	e.readBack(f.ID, "deep.png", data)
}

func testPutNew(e *env) {
	dir := e.mkdir("", "put")
	data := content(e.opts.FileSize, 2)
	f := e.put(dir.ID, "photo.png", data)

	got := e.one(dir.ID, "photo.png")
	assert.Equal(e.t, f.ID, got.ID, "List: ID of photo.png")
	assert.Equal(e.t, int64(len(data)), got.Size, "List: Size of photo.png")
	assert.Equal(e.t, md5hex(data), got.MD5, "List: MD5 of photo.png")
	assert.False(e.t, got.Folder, "List: photo.png: Folder")
	assert.Equal(e.t, dir.ID, got.Parent, "List: Parent of photo.png")
	assert.Equal(e.t, 1, len(e.list(dir.ID)), "List: entries")

	st := e.statFile(f.ID, "photo.png", data)
	assert.Equal(e.t, dir.ID, st.Parent, "Stat(%q): Parent", f.ID)
	r := e.b.Reader(st)
	n := int64(len(data))
	for _, c := range []struct {
		off int64
		n   int
	}{
		{0, len(data)},     // all
		{0, 1},             // the first byte
		{12345, 4096},      // a middle range
		{n - 1, 1},         // the last byte
		{n - 100, 100},     // up to the end exactly
		{n - 100, 1000},    // past the end
		{0, len(data) + 1}, // all and one more
		{n, 10},            // at the end
		{n + 10, 10},       // beyond the end
	} {
		readAt(e.t, r, data, c.off, c.n)
	}
	for _, c := range []struct{ off, length int64 }{
		{0, -1},         // all
		{0, n},          // all, by length
		{0, 1},          // the first byte
		{12345, 4096},   // a middle range
		{12345, -1},     // a tail
		{n - 1, 1},      // the last byte
		{n - 1, -1},     // the last byte, to the end
		{n - 100, 1000}, // past the end
	} {
		openRange(e.t, e.ctx, r, data, c.off, c.length)
	}
}

// testHostFacts: what the service says of an entry beyond its content
// (own-domain link, moderation, traffic) is consistent: an ordinary new
// file is readable and not rejected, has a Review exactly when the
// service has moderation, an own-domain link never repeats the
// download link, traffic is never negative, and a folder has none of it.
func testHostFacts(e *env) {
	dir := e.mkdir("", "facts")
	data := content(4096, 7)
	f := e.put(dir.ID, "facts.png", data)
	e.readBack(f.ID, "facts.png", data)
	for _, got := range []store.Entry{e.one(dir.ID, "facts.png"), e.stat(f.ID)} {
		assert.False(e.t, got.Rejected, "facts.png: Rejected of a new file")
		assert.Empty(e.t, got.Unreadable, "facts.png: Unreadable of a new file")
		if got.OwnLink != "" {
			assert.NotEqual(e.t, got.Link, got.OwnLink, "facts.png: OwnLink repeats Link")
		}
		assert.GreaterOrEqual(e.t, got.Traffic, int64(0), "facts.png: Traffic")
		if e.b.Limits().Moderation {
			assert.NotEmpty(e.t, got.Review, "facts.png: Review, on a service with moderation")
		} else {
			assert.Empty(e.t, got.Review, "facts.png: Review, on a service without moderation")
		}
	}
	for _, got := range []store.Entry{e.one("", "facts"), e.stat(dir.ID)} {
		assert.Empty(e.t, got.OwnLink, "folder facts: OwnLink")
		assert.Empty(e.t, got.Review, "folder facts: Review")
		assert.False(e.t, got.Rejected, "folder facts: Rejected")
		assert.Zero(e.t, got.Traffic, "folder facts: Traffic")
	}
}

func testPutEmpty(e *env) {
	f := e.put("", "empty.png", nil)
	got := e.one("", "empty.png")
	assert.Equal(e.t, f.ID, got.ID, "List: ID of empty.png")
	assert.Zero(e.t, got.Size, "List: Size of empty.png")
	assert.Equal(e.t, md5hex(nil), got.MD5, "List: MD5 of empty.png")
	assert.Equal(e.t, "", got.Parent, "List: Parent of empty.png, in the root")
	st := e.statFile(f.ID, "empty.png", nil)
	assert.Equal(e.t, "", st.Parent, "Stat(%q): Parent of a file in the root", f.ID)
	r := e.b.Reader(st)
	readAt(e.t, r, nil, 0, 1)
	openRange(e.t, e.ctx, r, nil, 0, -1)
}

func testPutReplaces(e *env) {
	old := content(e.opts.FileSize, 3)
	neu := content(e.opts.FileSize+11, 4)
	a := e.put("", "r.png", old)
	r := req("", "r.png", neu)
	r.Replaces = a.ID
	res := e.putReq(r)

	got := e.one("", "r.png")
	assert.Equal(e.t, res.Entry.ID, got.ID, "List after Put(%q, Replaces): ID", "r.png")
	assert.Equal(e.t, int64(len(neu)), got.Size, "List after Put(%q, Replaces): Size", "r.png")
	assert.Equal(e.t, md5hex(neu), got.MD5, "List after Put(%q, Replaces): MD5", "r.png")
	assert.Len(e.t, e.list(""), 1, "List after Put(%q, Replaces): entries", "r.png")
	if res.Entry.ID != a.ID {
		assert.False(e.t, hasID(e.list(""), a.ID), "List after Put(%q, Replaces): the replaced ID %q is still listed", "r.png", a.ID)
		e.gone(a.ID)
	}
	e.readBack(res.Entry.ID, "r.png", neu)
}

func testPutTaken(e *env) {
	if !e.b.Limits().UniqueNames {
		e.t.Skip("Limits().UniqueNames is false: a taken name is no error")
	}
	first := content(2000, 5)
	a := e.put("", "dup.png", first)
	res, err := e.b.Put(e.ctx, req("", "dup.png", content(3000, 6)))
	e.deleteLeftovers(res.Leftovers)
	e.isKind(err, store.ErrExists, `Put("dup.png") of a taken name`)
	got := e.one("", "dup.png")
	assert.Equal(e.t, a.ID, got.ID, `List: the first "dup.png" stays`)
	e.readBack(a.ID, "dup.png", first)
}

func testPutResume(e *env) {
	data := content(e.opts.ResumeSize, 7)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	var token string
	r := req("", "resume.png", data)
	r.Started = func(tok string) {
		token = tok
		cancel() // the Put is cut short as soon as it can be resumed
	}
	first, err := e.b.Put(ctx, r)
	e.deleteLeftovers(first.Leftovers)
	if token == "" {
		if err == nil {
			e.del(first.Entry.ID)
		}
		e.t.Skipf("Put of %d bytes did not call Started (err %v): raise Options.ResumeSize", len(data), err)
	}
	e.t.Logf("Put(%q) cut short after Started(%q): %v", r.Name, token, err)

	r = req("", "resume.png", data)
	r.Resume = token
	if err == nil { // done before it noticed: the resumed Put replaces it
		r.Replaces = first.Entry.ID
	}
	res := e.putReq(r)
	got := e.one("", "resume.png")
	assert.Equal(e.t, res.Entry.ID, got.ID, "List after Put(%q, Resume): ID", r.Name)
	assert.Equal(e.t, md5hex(data), got.MD5, "List after Put(%q, Resume): MD5", r.Name)
	for _, ent := range e.list("") {
		if ent.ID != got.ID {
			assert.True(e.t, e.b.Leftover(ent, r.Name, r.MD5), "List after Put(%q, Resume): %+v is neither the file nor a Leftover", r.Name, ent)
		}
	}
	e.readBack(res.Entry.ID, "resume.png", data)
}

func testPutGarbageResume(e *env) {
	data := content(e.opts.ResumeSize, 8)
	r := req("", "garbage.png", data)
	r.Resume = "not-a-token-\x00\xff"
	res := e.putReq(r)
	assert.Empty(e.t, res.Leftovers, "Put(%q, garbage Resume): Leftovers", r.Name)
	got := e.one("", "garbage.png")
	assert.Equal(e.t, res.Entry.ID, got.ID, "List after Put(%q, garbage Resume): ID", r.Name)
	e.readBack(res.Entry.ID, "garbage.png", data)
}

// rename renames e to newParent/newName and, when the answer's ID differs,
// deletes the old entry as the caller must.
func (e *env) rename(ent store.Entry, newParent, newName string) store.Entry {
	e.t.Helper()
	op := fmt.Sprintf("Rename(%q, %q, %q)", ent.Name, newParent, newName)
	got, err := e.b.Rename(e.ctx, ent, newParent, newName)
	e.noError(err, op)
	assert.Equal(e.t, newName, got.Name, "%s: Name", op)
	assert.Equal(e.t, newParent, got.Parent, "%s: Parent", op)
	assert.Equal(e.t, ent.Folder, got.Folder, "%s: Folder", op)
	require.NotEmpty(e.t, got.ID, "%s: got an empty ID", op)
	if got.ID != ent.ID {
		e.t.Logf("%s: the ID changed from %q to %q; deleting the old one", op, ent.ID, got.ID)
		e.del(ent.ID)
	}
	return got
}

func (e *env) renameFile(fromName, toDir, toName string) {
	e.t.Helper()
	from := e.mkdir("", "from")
	to := from
	if toDir != "" {
		to = e.mkdir("", toDir)
	}
	data := content(5000, 9)
	e.put(from.ID, fromName, data)
	listed := e.one(from.ID, fromName)
	got := e.rename(listed, to.ID, toName)

	if to.ID != from.ID || toName != fromName {
		e.none(from.ID, fromName)
	}
	n := e.one(to.ID, toName)
	assert.Equal(e.t, got.ID, n.ID, "List after Rename: ID of %q", toName)
	assert.Equal(e.t, int64(len(data)), n.Size, "List after Rename: Size of %q", toName)
	assert.Equal(e.t, md5hex(data), n.MD5, "List after Rename: MD5 of %q", toName)
	if to.ID != from.ID {
		assert.Empty(e.t, e.list(from.ID), "List of the folder left after Rename")
	}
	e.readBack(got.ID, toName, data)
}

func testRenameInFolder(e *env)        { e.renameFile("old.png", "", "new.png") }
func testRenameToFolder(e *env)        { e.renameFile("same.png", "to", "same.png") }
func testRenameToFolderAndName(e *env) { e.renameFile("old.png", "to", "new.png") }

func testRenameFolder(e *env) {
	d := e.mkdir("", "D")
	inner := content(3000, 10)
	deep := content(4000, 11)
	e.put(d.ID, "inner.png", inner)
	sub := e.mkdir(d.ID, "sub")
	e.put(sub.ID, "deep.png", deep)

	got := e.rename(e.one("", "D"), "", "D2")
	e.none("", "D")
	assert.Equal(e.t, got.ID, e.one("", "D2").ID, "List after Rename of a folder: ID of D2")
	assert.Equal(e.t, []string{"inner.png", "sub"}, names(e.list(got.ID)), "List(D2)")
	f := e.one(got.ID, "inner.png")
	e.readBack(f.ID, "inner.png", inner)
	s := e.one(got.ID, "sub")
	require.True(e.t, s.Folder, "List(D2): sub: Folder")
	g := e.one(s.ID, "deep.png")
	e.readBack(g.ID, "deep.png", deep)
}

func testDeleteFile(e *env) {
	a := e.put("", "a.png", []byte("aaa"))
	b := e.put("", "b.png", []byte("bbbb"))
	e.del(a.ID)
	assert.Equal(e.t, []string{"b.png"}, names(e.list("")), "List after Delete(a.png)")
	e.gone(a.ID)
	e.readBack(b.ID, "b.png", []byte("bbbb"))
}

func testDeleteFolder(e *env) {
	keep := e.mkdir("", "keep")
	d := e.mkdir("", "D")
	a := e.put(d.ID, "a.png", []byte("aaa"))
	sub := e.mkdir(d.ID, "sub")
	b := e.put(sub.ID, "b.png", []byte("bbbb"))
	e.del(d.ID)
	assert.Equal(e.t, []string{"keep"}, names(e.list("")), "List after Delete of a folder")
	for _, id := range []string{d.ID, a.ID, sub.ID, b.ID} {
		e.gone(id)
	}
	assert.Empty(e.t, e.list(keep.ID), "List(keep)")
}

func testDeleteMoreThanBatch(e *env) {
	batch := e.b.Limits().DeleteBatch
	require.Positive(e.t, batch, "Limits().DeleteBatch")
	n := batch + 2
	if n > 1000 {
		e.t.Skipf("Limits().DeleteBatch is %d: too many files to make", batch)
	}
	dir := e.mkdir("", "many")
	ids := make([]string, n)
	for i := range n {
		ids[i] = e.put(dir.ID, fmt.Sprintf("f%04d.png", i), fmt.Appendf(nil, "file %d", i)).ID
	}
	e.del(ids...)
	assert.Empty(e.t, e.list(dir.ID), "List after Delete of %d files (DeleteBatch %d)", n, batch)
	e.gone(ids[0])
	e.gone(ids[n-1])
}

func testDeleteGone(e *env) {
	a := e.put("", "a.png", []byte("aaa"))
	e.del(a.ID)
	e.del(a.ID)
	b := e.put("", "b.png", []byte("bbbb"))
	e.del(a.ID, b.ID)
	assert.Empty(e.t, e.list(""), "List after Delete of a gone and a live ID")
	e.gone(b.ID)
}

func testStatMissing(e *env) {
	a := e.put("", "a.png", []byte("aaa"))
	d := e.mkdir("", "d")
	e.del(a.ID, d.ID)
	e.gone(a.ID)
	e.gone(d.ID)
}

func testCheckNameRefuses(e *env) {
	err := e.b.CheckName("")
	assert.ErrorIs(e.t, err, store.ErrInvalidName, `CheckName(""): got %v, want %v`, err, store.ErrInvalidName)
	max := e.b.Limits().NameMax
	require.Positive(e.t, max, "Limits().NameMax")
	long := strings.Repeat("n", max+1)
	err = e.b.CheckName(long)
	assert.ErrorIs(e.t, err, store.ErrInvalidName, "CheckName(%d bytes): got %v, want %v", len(long), err, store.ErrInvalidName)
	assert.ErrorIs(e.t, err, store.ErrNameTooLong, "CheckName(%d bytes): got %v, want %v", len(long), err, store.ErrNameTooLong)
	assert.NoError(e.t, e.b.CheckName("plain.png"), `CheckName("plain.png")`)
	// NameMax is exact: no name of NameMax bytes is too long, whatever
	// its characters (a backend may still refuse some of them).
	assert.NoError(e.t, e.b.CheckName(strings.Repeat("n", max)), "CheckName(%d bytes, NameMax)", max)
	for _, unit := range []string{"图", "：", "‛", ":", "é"} {
		name := strings.Repeat(unit, max/len(unit))
		name += strings.Repeat("n", max-len(name))
		err := e.b.CheckName(name)
		assert.NotErrorIs(e.t, err, store.ErrNameTooLong, "CheckName(%q, %d bytes, NameMax)", name, len(name))
		err = e.b.CheckName(name + "n")
		assert.ErrorIs(e.t, err, store.ErrNameTooLong, "CheckName(%q, %d bytes, NameMax+1)", name+"n", len(name)+1)
	}
}

// oddNames are names Linux allows that services often refuse or map.
func oddNames(nameMax int) []string {
	wide := strings.Repeat("图", nameMax/3)
	wide += strings.Repeat("w", nameMax-len(wide))
	return []string{
		"a:b", "a：b", "q?", "star*", `"quoted"`, "<>|", `back\slash`,
		"图：1.png", "‛：", " lead", "trail ", "dot.", "%41%2F", "tab\there",
		strings.Repeat("n", nameMax), wide,
	}
}

func testNames(e *env) {
	files := e.mkdir("", "files")
	dirs := e.mkdir("", "dirs")
	var ok []string
	data := map[string][]byte{}
	for i, name := range oddNames(e.b.Limits().NameMax) {
		if err := e.b.CheckName(name); err != nil {
			e.t.Logf("CheckName(%q) refuses: %v", name, err)
			assert.ErrorIs(e.t, err, store.ErrInvalidName, "CheckName(%q): got %v, want nil or %v", name, err, store.ErrInvalidName)
			continue
		}
		ok = append(ok, name)
		data[name] = fmt.Appendf(nil, "name %d", i)
		e.put(files.ID, name, data[name])
		e.mkdir(dirs.ID, name)
	}
	slices.Sort(ok)
	fs := e.list(files.ID)
	assert.Equal(e.t, ok, names(fs), "List of files put under the names CheckName accepts")
	for _, f := range fs {
		if d, known := data[f.Name]; known {
			assert.Equal(e.t, md5hex(d), f.MD5, "List: MD5 of %q", f.Name)
		}
	}
	ds := e.list(dirs.ID)
	assert.Equal(e.t, ok, names(ds), "List of folders made under the names CheckName accepts")
	for _, d := range ds {
		assert.True(e.t, d.Folder, "List: %q: Folder", d.Name)
	}
}

func testUsage(e *env) {
	u, err := e.b.Usage(e.ctx)
	e.noError(err, "Usage()")
	assert.GreaterOrEqual(e.t, u.Used, int64(0), "Usage(): Used")
}

func testLeftoverOrdinary(e *env) {
	data := []byte("ordinary")
	e.put("", "ordinary.png", data)
	e.mkdir("", "folder")
	for _, ent := range e.list("") {
		assert.False(e.t, e.b.Leftover(ent, ent.Name, md5hex(data)), "Leftover(%+v, %q): got true for an ordinary entry", ent, ent.Name)
		assert.False(e.t, e.b.Leftover(ent, "ordinary.png", md5hex(data)), "Leftover(%+v, %q): got true for an ordinary entry", ent, "ordinary.png")
	}
}
