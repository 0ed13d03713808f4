package emulator

import (
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// rootName is what 123pan shows as parentFilename of top-level entries.
const rootName = "img_oss"

// statusNormal is the audit status of an accepted image.
const statusNormal = 2

// meta is the per-data-directory identity of the emulated account.
type meta struct {
	UID         string    `json:"uid"`
	RootID      string    `json:"rootID"`
	Secret      string    `json:"secret"` // HMAC key of presigned URLs
	RootCreated time.Time `json:"rootCreated"`
}

// entry is a file or folder. Seq orders entries by creation.
type entry struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Dir     bool      `json:"dir,omitempty"`
	Parent  string    `json:"parent"`
	Size    int64     `json:"size,omitempty"`
	Etag    string    `json:"etag,omitempty"`
	Status  int       `json:"status,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Traffic int64     `json:"traffic,omitempty"`
	Seq     int64     `json:"seq"`
}

// folder indexes a folder's children: by name, and in creation order.
type folder struct {
	names map[string]string
	order []*entry // sorted by Seq
}

// state is everything the emulator knows. Guarded by Server.mu.
type state struct {
	meta      meta
	entries   map[string]*entry
	folders   map[string]*folder // lazily created, keyed by folder ID
	gone      map[string]int64   // deleted entry ID -> its Seq (list cursors)
	byContent map[string]int     // "etag:size" -> number of files
	refs      map[string]int     // blob md5 -> references
	tokens    map[string]*token
	pres      map[string]*preupload
	drives    map[string]*driveFile
	nextSeq   int64
	loading   bool // replaying: blob files are not touched
	dir       string

	traffic int64 // bytes the download links served, deleted files' included
}

func newState(dir string) *state {
	return &state{
		entries: map[string]*entry{}, folders: map[string]*folder{}, gone: map[string]int64{},
		byContent: map[string]int{}, refs: map[string]int{}, tokens: map[string]*token{},
		pres: map[string]*preupload{}, drives: map[string]*driveFile{}, nextSeq: 1, dir: dir,
	}
}

func contentKey(etag string, size int64) string { return etag + ":" + strconv.FormatInt(size, 10) }

func (st *state) folder(id string) *folder {
	f := st.folders[id]
	if f == nil {
		f = &folder{names: map[string]string{}}
		st.folders[id] = f
	}
	return f
}

// putEntry inserts or replaces an entry, keeping every index right.
func (st *state) putEntry(e *entry) {
	old := st.entries[e.ID]
	if old != nil {
		st.unindex(old)
	}
	st.entries[e.ID] = e
	if e.Seq >= st.nextSeq {
		st.nextSeq = e.Seq + 1
	}
	f := st.folder(e.Parent)
	f.names[e.Name] = e.ID
	i := sort.Search(len(f.order), func(i int) bool { return f.order[i].Seq >= e.Seq })
	f.order = append(f.order, nil)
	copy(f.order[i+1:], f.order[i:])
	f.order[i] = e
	if !e.Dir {
		st.byContent[contentKey(e.Etag, e.Size)]++
		st.ref(e.Etag)
	}
	if old != nil && !old.Dir { // after the new reference: the blob must not vanish in between
		k := contentKey(old.Etag, old.Size)
		if st.byContent[k]--; st.byContent[k] <= 0 {
			delete(st.byContent, k)
		}
		st.unref(old.Etag)
	}
}

func (st *state) unindex(e *entry) {
	f := st.folders[e.Parent]
	if f == nil {
		return
	}
	if f.names[e.Name] == e.ID {
		delete(f.names, e.Name)
	}
	i := sort.Search(len(f.order), func(i int) bool { return f.order[i].Seq >= e.Seq })
	for ; i < len(f.order) && f.order[i].Seq == e.Seq; i++ {
		if f.order[i].ID == e.ID {
			f.order = append(f.order[:i], f.order[i+1:]...)
			return
		}
	}
}

// deleteEntry removes one entry (not its children).
func (st *state) deleteEntry(id string) {
	e := st.entries[id]
	if e == nil {
		return
	}
	st.unindex(e)
	delete(st.entries, id)
	st.gone[id] = e.Seq
	if e.Dir {
		delete(st.folders, id)
	} else {
		k := contentKey(e.Etag, e.Size)
		if st.byContent[k]--; st.byContent[k] <= 0 {
			delete(st.byContent, k)
		}
		st.unref(e.Etag)
	}
}

// subtree lists id and, for a folder, everything below it (children first).
func (st *state) subtree(id string, out []string) []string {
	if f := st.folders[id]; f != nil {
		for _, c := range f.order {
			out = st.subtree(c.ID, out)
		}
	}
	return append(out, id)
}

// isRoot tells whether id addresses the root ("" or the root's own ID).
func (st *state) isRoot(id string) bool { return id == "" || id == st.meta.RootID }

// lookupFolder resolves a folder ID ("" = root) or explains why not.
func (st *state) lookupFolder(id string) (string, *apiError) {
	if st.isRoot(id) {
		return st.meta.RootID, nil
	}
	e := st.entries[id]
	if e == nil {
		return "", errf(wire.CodeNotFound, "folder %q does not exist", id)
	}
	if !e.Dir {
		return "", errf(wire.CodeNotFound, "%q is a file, not a folder", id)
	}
	return id, nil
}

// childNamed is the ID of the entry called name in folder parent, or "".
func (st *state) childNamed(parent, name string) string {
	if f := st.folders[parent]; f != nil {
		return f.names[name]
	}
	return ""
}

// inSubtree tells whether folder target is id or lies below it.
func (st *state) inSubtree(target, id string) bool {
	for target != "" && target != st.meta.RootID {
		if target == id {
			return true
		}
		e := st.entries[target]
		if e == nil {
			return false
		}
		target = e.Parent
	}
	return false
}

// Messages of the real service (seen by third-party clients); every clash
// says 重名, 同名 or 重复.
const (
	msgFolderClash = "已经有同名文件夹"
	msgFileClash   = "该目录下文件名重复无法创建"
	msgMoveClash   = "当前目录有重名文件"
	msgAlreadyIn   = "文件已在当前文件夹中，请选择其他文件夹"
	msgNoPreupload = "预上传ID不能为空"
	msgBadLogin    = "无效的登录信息"
)

// errClash answers a name taken in the folder: msg is one of the clash
// messages above.
func errClash(msg, name string) *apiError {
	return errf(wire.CodeInternal, "%s: %q", msg, name)
}

// extension is the name's extension without the dot, as 123pan shows it.
func extension(name string) string { return strings.TrimPrefix(path.Ext(name), ".") }

// wireEntry renders an entry for detail and list; base is "http://host".
func (s *Server) wireEntryLocked(e *entry, base string) wire.Entry {
	st := s.st
	w := wire.Entry{
		FileID: wire.ID(e.ID), Filename: e.Name, Size: e.Size, Etag: e.Etag, Status: e.Status,
		CreateAt: wire.FormatTime(e.Created), UpdateAt: wire.FormatTime(e.Updated),
		TotalTraffic: e.Traffic, ParentFileID: wire.ID(e.Parent),
	}
	if e.ID == st.meta.RootID {
		w.Type = wire.EntryFolder
		return w
	}
	if e.Dir {
		w.Type = wire.EntryFolder
	} else {
		w.Type = wire.EntryFile
		w.Extension = extension(e.Name)
		w.DownloadURL = s.downloadURL(base, e)
		w.UserSelfURL = w.DownloadURL // the documented answer without a custom domain
		if own := s.ctl.getOwnDomain(); own != "" {
			w.UserSelfURL = s.downloadURL(own, e)
		}
	}
	if p := st.entries[e.Parent]; p != nil {
		w.ParentFilename = p.Name
	} else {
		w.ParentFilename = rootName
	}
	return w
}

// rootEntryLocked is the root folder as an entry.
func (s *Server) rootEntryLocked() *entry {
	m := s.st.meta
	return &entry{ID: m.RootID, Name: rootName, Dir: true, Created: m.RootCreated, Updated: m.RootCreated}
}

// newFileEntryLocked builds (does not store) a file entry.
func (s *Server) newFileEntryLocked(parent, name, etag string, size int64) *entry {
	now := time.Now()
	e := &entry{ID: s.newEntryIDLocked(), Name: name, Parent: parent, Size: size, Etag: etag,
		Status: statusNormal, Created: now, Updated: now, Seq: s.st.nextSeq}
	s.st.nextSeq++
	return e
}

// newFolderEntryLocked builds (does not store) a folder entry.
func (s *Server) newFolderEntryLocked(parent, name string) *entry {
	now := time.Now()
	e := &entry{ID: s.newEntryIDLocked(), Name: name, Dir: true, Parent: parent, Created: now, Updated: now, Seq: s.st.nextSeq}
	s.st.nextSeq++
	return e
}
