package pan123

import (
	"context"
	"io"
	"sync"

	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/store"
)

// Rename maps a rename onto the calls 123pan has (it has no rename):
//   - to another folder under the same name: move (ID and link kept);
//   - a file under a new name: create with the same md5 and size (instant),
//     the content read back from the old entry only if 123pan does not
//     have it; the old entry stays, for the caller to delete;
//   - a folder under a new name: mkdir, and move the children into it; the
//     old folder, empty now, stays for the caller to delete.
func (b *Backend) Rename(ctx context.Context, e store.Entry, newParent, newName string) (store.Entry, error) {
	rname, err := remoteName(newName)
	if err != nil {
		return store.Entry{}, err
	}
	if encodeName(e.Name) == rname {
		if err := b.c.Move(ctx, []string{e.ID}, newParent); err != nil {
			return store.Entry{}, wrap(err)
		}
		e.Parent = newParent
		return e, nil
	}
	if e.Folder {
		return b.renameFolder(ctx, e, newParent, newName)
	}
	in := remote.UploadInput{ParentID: newParent, Name: rname, Size: e.Size, MD5: e.MD5,
		Src: &entrySource{ctx: ctx, b: b, e: e}}
	res, err := b.c.Upload(ctx, in)
	if err != nil {
		return store.Entry{}, wrap(err)
	}
	return newEntry(res.FileID, store.PutRequest{Parent: newParent, Name: newName, Size: e.Size, MD5: e.MD5}), nil
}

// renameFolder makes folder newName in newParent and moves everything in
// folder e into it (in calls of up to 100).
func (b *Backend) renameFolder(ctx context.Context, e store.Entry, newParent, newName string) (store.Entry, error) {
	made, err := b.Mkdir(ctx, newParent, newName)
	if err != nil {
		return store.Entry{}, err
	}
	var ids []string
	for ch, err := range b.c.List(ctx, e.ID) {
		if err != nil {
			return store.Entry{}, wrap(err)
		}
		ids = append(ids, string(ch.FileID))
	}
	if len(ids) > 0 {
		if err := b.c.Move(ctx, ids, made.ID); err != nil {
			return store.Entry{}, wrap(err)
		}
	}
	return made, nil
}

// entrySource reads an entry's content, finding its link on first use.
type entrySource struct {
	ctx  context.Context
	b    *Backend
	e    store.Entry
	once sync.Once
	r    io.ReaderAt
	err  error
}

func (s *entrySource) ReadAt(p []byte, off int64) (int, error) {
	s.once.Do(func() {
		e := s.e
		if e.Link == "" {
			e, s.err = s.b.Stat(s.ctx, e.ID)
		}
		s.r = s.b.Reader(e)
	})
	if s.err != nil {
		return 0, s.err
	}
	return s.r.ReadAt(p, off)
}
