package pan123

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/wire"
	"github.com/pan123fs/pan123fs/store"
)

// Put stores req's content. A file that replaces another (req.Replaces) is
// put without a moment where 123pan holds neither version, though 123pan
// has no overwrite and refuses two entries of one name: the new content
// goes up under a temporary name, the old entry is deleted, the content is
// created again under the real name (instant: same md5 and size), and the
// temporary entry is deleted. A temporary entry that could not be deleted
// is in the result's Leftovers; one that holds the only copy (the last
// create failed) is kept and logged, and Leftover recognises it later.
func (b *Backend) Put(ctx context.Context, req store.PutRequest) (store.PutResult, error) {
	rname, err := remoteName(req.Name)
	if err != nil {
		return store.PutResult{}, err
	}
	in := remote.UploadInput{ParentID: req.Parent, Name: rname, Src: req.Content, Size: req.Size, MD5: req.MD5,
		Progress: req.Progress}
	if req.Started != nil {
		in.Started = func(preuploadID string, sliceSize int64) {
			if req.Size > sliceSize { // one slice: resuming would save nothing
				req.Started(resumeToken(preuploadID, sliceSize))
			}
		}
	}
	if req.Replaces == "" {
		res, err := b.upload(ctx, in, req.Resume)
		if err != nil {
			return store.PutResult{}, wrap(err)
		}
		return store.PutResult{Entry: newEntry(res.FileID, req)}, nil
	}
	tmp := in
	tmp.Name = tmpName(rname)
	tres, err := b.c.Upload(ctx, tmp)
	if err != nil {
		return store.PutResult{}, wrap(err)
	}
	if err := b.c.Delete(ctx, []string{req.Replaces}); err != nil {
		return store.PutResult{Leftovers: []string{tres.FileID}}, wrap(err)
	}
	res, err := b.c.Upload(ctx, in)
	if err != nil {
		b.log.Error("the new content is on 123pan only under a temporary name", "name", rname, "temporary", tmp.Name, "err", err)
		return store.PutResult{}, wrap(err)
	}
	out := store.PutResult{Entry: newEntry(res.FileID, req)}
	if err := b.c.Delete(ctx, []string{tres.FileID}); err != nil {
		b.log.Warn("deleting the temporary entry failed; queued", "temporary", tmp.Name, "err", err)
		out.Leftovers = []string{tres.FileID}
	}
	return out, nil
}

// upload resumes an interrupted upload when 123pan still knows it, else
// starts one.
func (b *Backend) upload(ctx context.Context, in remote.UploadInput, token string) (*remote.UploadResult, error) {
	if r, ok := parseResume(token); ok {
		in.SliceSize = r.SliceSize
		res, err := b.c.ResumeUpload(ctx, r.PreuploadID, in)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		b.log.Info("could not resume an upload; starting it again", "name", in.Name, "err", err)
	}
	return b.c.Upload(ctx, in)
}

// resume is the token of an upload a restart may carry on: create's
// preupload ID and slice size. Journals of earlier versions held these two
// fields, and the spool carries them over in this very form.
type resume struct {
	PreuploadID string `json:"preuploadID"`
	SliceSize   int64  `json:"sliceSize"`
}

func resumeToken(preuploadID string, sliceSize int64) string {
	b, _ := json.Marshal(resume{PreuploadID: preuploadID, SliceSize: sliceSize})
	return string(b)
}

func parseResume(token string) (resume, bool) {
	var r resume
	if token == "" || json.Unmarshal([]byte(token), &r) != nil || r.PreuploadID == "" || r.SliceSize <= 0 {
		return resume{}, false
	}
	return r, true
}

// newEntry describes a file just uploaded from what the upload knew. The
// upload answers only the ID; the download link is asked for (Stat) only
// when something needs it, not once per upload.
func newEntry(id string, req store.PutRequest) store.Entry {
	now := time.Now()
	return store.Entry{ID: id, Parent: req.Parent, Name: req.Name, Size: req.Size, MD5: req.MD5,
		Created: now, Modified: now}
}

// tmpPrefix starts the names replacements are uploaded under.
const tmpPrefix = ".pan123fs-"

// tmpName is the name a replacement is uploaded under before it takes the
// real name: ".pan123fs-XXXXXXXX-NAME".
func tmpName(rname string) string {
	var b [4]byte
	rand.Read(b[:])
	prefix := tmpPrefix + hex.EncodeToString(b[:]) + "-"
	for utf8.RuneCountInString(prefix+rname) >= wire.MaxNameLen {
		_, size := utf8.DecodeLastRuneInString(rname)
		rname = rname[:len(rname)-size]
	}
	return prefix + rname
}

// Leftover tells whether e is the temporary entry of a replacement of name
// with content md5 (see Put).
func (b *Backend) Leftover(e store.Entry, name, md5 string) bool {
	return !e.Folder && e.MD5 == md5 && isTmpName(encodeName(e.Name), encodeName(name))
}

// isTmpName tells whether name is a temporary name made by tmpName for
// rname (possibly shortened).
func isTmpName(name, rname string) bool {
	rest, ok := strings.CutPrefix(name, tmpPrefix)
	if !ok || len(rest) < 9 || rest[8] != '-' {
		return false
	}
	short := rest[9:]
	return short != "" && strings.HasPrefix(rname, short)
}
