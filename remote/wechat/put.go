package wechat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
	"github.com/pan123fs/pan123fs/store"
)

// Put stores req's content in three steps, in an order that never leaves
// a document without its content:
//
//  1. the content goes up as a new object, under a key no other upload
//     ever takes (objectKey), and req.Started hears a token of it;
//  2. the document is added (a new file), or updated to the new object
//     with its generation raised (a replacement: the ID stays, and the
//     update is conditional on the generation it read, so that two hosts
//     replacing one file cannot both win and orphan an object);
//  3. the replaced object is deleted; when that fails its file ID is in
//     the result's Leftovers, for Delete.
//
// A crash between 1 and 2 leaves an object that no document names; the
// token the caller journalled names it, and a Put resumed with that token
// (same size and md5) skips the upload and uses it. When step 2 fails
// for good (a taken name, the replaced entry gone), the new object is
// deleted, or handed back in Leftovers.
func (b *Backend) Put(ctx context.Context, req store.PutRequest) (store.PutResult, error) {
	if err := b.CheckName(req.Name); err != nil {
		return store.PutResult{}, err
	}
	var old doc
	if req.Replaces != "" {
		d, err := b.getDoc(ctx, req.Replaces)
		if err != nil {
			return store.PutResult{}, err
		}
		if d.Type != typeFile {
			return store.PutResult{}, store.Wrap(fmt.Errorf("wechat: %q is a folder", req.Replaces),
				store.ErrNotFound, store.ErrPermanent)
		}
		old = d
	} else if err := b.checkFolder(ctx, req.Parent); err != nil {
		return store.PutResult{}, err
	}

	up, err := b.upload(ctx, req, old)
	if err != nil {
		return store.PutResult{}, err
	}
	var res store.PutResult
	if req.Replaces == "" {
		res, err = b.create(ctx, req, up)
	} else {
		res, err = b.replace(ctx, req, up, old)
	}
	if err != nil && store.IsPermanent(err) {
		// The new object will never be named: drop it.
		if derr := b.c.DeleteFiles(ctx, []string{up.FileID}); derr != nil {
			res.Leftovers = append(res.Leftovers, up.FileID)
		}
	}
	return res, err
}

// uploaded is an object Put uploaded, and the resume token's content.
type uploaded struct {
	Key    string `json:"key"`
	FileID string `json:"fileid"`
	MD5    string `json:"md5"`
	Size   int64  `json:"size"`
}

// upload puts the content up, or finds it up already by req.Resume.
func (b *Backend) upload(ctx context.Context, req store.PutRequest, old doc) (uploaded, error) {
	if up, ok := b.resumable(ctx, req); ok {
		return up, nil
	}
	key, err := b.objectKey(req.Name, old)
	if err != nil {
		return uploaded{}, err
	}
	fileID, err := b.c.Upload(ctx, key, req.Content, req.Size, req.Progress)
	if err != nil {
		return uploaded{}, err
	}
	up := uploaded{Key: key, FileID: fileID, MD5: req.MD5, Size: req.Size}
	if req.Started != nil {
		tok, _ := json.Marshal(up)
		req.Started(string(tok))
	}
	return up, nil
}

// resumable reads req.Resume: an upload of the same content whose object
// storage still has, and that no document names but the one this Put
// makes or replaces (an earlier run may have got that far). Anything else
// (garbage, other content, an object gone, one that an entry of another
// name holds since) is not, and the content goes up again: two entries
// must never share an object, which the first one deleted would take
// from the other.
func (b *Backend) resumable(ctx context.Context, req store.PutRequest) (uploaded, bool) {
	var up uploaded
	if req.Resume == "" || json.Unmarshal([]byte(req.Resume), &up) != nil ||
		up.FileID == "" || !strings.HasPrefix(up.FileID, wire.FileIDScheme) || up.MD5 != req.MD5 || up.Size != req.Size {
		return uploaded{}, false
	}
	why := ""
	for d, err := range b.findDocs(ctx, map[string]any{"fileid": up.FileID}) {
		if err != nil {
			why = err.Error()
		} else if d.ID != req.Replaces && (d.Parent != req.Parent || d.Name != req.Name) {
			why = fmt.Sprintf("entry %q (%q) holds it", d.ID, d.Name)
		}
		if why != "" {
			break
		}
	}
	if why == "" {
		if _, err := b.link(ctx, up.FileID); err != nil {
			why = err.Error()
		}
	}
	if why != "" {
		b.c.log.Info("wechat: cannot resume an upload; uploading again", "name", req.Name, "why", why)
		return uploaded{}, false
	}
	return up, true
}

// objectKey is a key no upload has had: <prefix>/<dir>/<gen>-<nonce><ext>,
// where dir is the replaced entry's ID (a random ID for a new file), gen
// the generation the content will be, and nonce random, so that two
// uploads for one generation (two hosts, or a retry after a crash) differ
// too. ext is the name's extension when it is short and plain, for the
// Content-Type storage infers; the name itself never goes in (a rename
// leaves the object alone, and no name can break the cloud-path rules).
func (b *Backend) objectKey(name string, old doc) (string, error) {
	dir, gen := old.ID, old.Gen+1
	if dir == "" {
		dir = randomHex(16)
	}
	key := fmt.Sprintf("%s/%s/%d-%s%s", b.prefix, dir, gen, randomHex(4), plainExt(name))
	if err := wire.ValidatePath(key); err != nil {
		return "", fmt.Errorf("wechat: object key %q: %w", key, err)
	}
	return key, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// plainExt is name's extension, lower case, when it is "." and 1 to 10
// ASCII letters or digits; else "".
func plainExt(name string) string {
	ext := path.Ext(name)
	if len(ext) < 2 || len(ext) > 11 {
		return ""
	}
	for _, r := range ext[1:] {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return ""
		}
	}
	return strings.ToLower(ext)
}

// create adds the document of a new file. A duplicate that is this very
// object (a resumed Put whose first run had added it) is success.
func (b *Backend) create(ctx context.Context, req store.PutRequest, up uploaded) (store.PutResult, error) {
	now := b.c.clock.Now().UnixMilli()
	d := doc{Parent: req.Parent, Name: req.Name, Type: typeFile, FileID: up.FileID, Key: up.Key,
		Size: up.Size, MD5: up.MD5, MTime: now, CTime: now, Gen: 1}
	id, err := b.add(ctx, d, req.Resume != "", func(got doc) bool { return got.FileID == up.FileID })
	if err != nil {
		return store.PutResult{}, err
	}
	d.ID = id
	return store.PutResult{Entry: b.entryOf(d)}, nil
}

// maxReplaceRounds bounds the conditional updates of one replacement
// that lose to another writer.
const maxReplaceRounds = 5

// replace points the document req.Replaces at the new object, then deletes
// the object it named. The document keeps that object's file ID as prev
// until the next replacement, so that a replacement whose end was lost (a
// crash, or an answer that never came) still deletes it when it is tried
// again: it finds the document naming its own object already.
func (b *Backend) replace(ctx context.Context, req store.PutRequest, up uploaded, old doc) (store.PutResult, error) {
	for round := range maxReplaceRounds {
		if round > 0 { // old, read before the upload, changed meanwhile
			var err error
			if old, err = b.getDoc(ctx, req.Replaces); err != nil {
				return store.PutResult{}, err
			}
		}
		if old.FileID == up.FileID { // done by an earlier attempt
			return b.dropReplaced(ctx, store.PutResult{Entry: b.entryOf(old)}, old.Prev), nil
		}
		nd := old
		nd.FileID, nd.Key, nd.Size, nd.MD5, nd.Prev = up.FileID, up.Key, up.Size, up.MD5, old.FileID
		nd.MTime, nd.Gen = b.c.clock.Now().UnixMilli(), old.Gen+1
		set := map[string]any{"fileid": nd.FileID, "key": nd.Key, "size": nd.Size, "md5": nd.MD5,
			"prev": nd.Prev, "mtime": nd.MTime, "gen": nd.Gen}
		if old.Parent != req.Parent || old.Name != req.Name {
			nd.Parent, nd.Name = req.Parent, req.Name
			set["parent"], set["name"] = nd.Parent, nd.Name
		}
		var resp wire.UpdateResponse
		q := b.q().where(map[string]any{"_id": old.ID, "gen": old.Gen}).withData("update", set)
		if _, err := b.db(ctx, wire.PathDatabaseUpdate, q, &resp); err != nil {
			return store.PutResult{}, err
		}
		if resp.Matched == 0 {
			continue // changed meanwhile (or by our own attempt): read it again
		}
		return b.dropReplaced(ctx, store.PutResult{Entry: b.entryOf(nd)}, old.FileID), nil
	}
	return store.PutResult{}, store.Wrap(errors.New("wechat: the entry kept changing under the replacement"), store.ErrTemporary)
}

// dropReplaced deletes the replaced object fileID ("" none), or hands it
// back in res.Leftovers.
func (b *Backend) dropReplaced(ctx context.Context, res store.PutResult, fileID string) store.PutResult {
	if fileID == "" {
		return res
	}
	b.links.Remove(fileID)
	if err := b.c.DeleteFiles(ctx, []string{fileID}); err != nil {
		b.c.log.Warn("wechat: deleting the replaced object failed; handed back", "fileid", fileID, "err", err)
		res.Leftovers = append(res.Leftovers, fileID)
	}
	return res
}
