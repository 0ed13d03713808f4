package wechat

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
	"github.com/pan123fs/pan123fs/store"
)

// Delete deletes entries by ID (a folder with everything under it) and
// storage objects by file ID (cloud://..., as Put's Leftovers name them).
// IDs already gone are skipped. The documents are read, and those of files
// removed, wire.MaxBatch to a database call (where _id in the batch): a
// batch of files costs a query, a batchdeletefile and a remove, not a
// query and a remove per file.
//
// The objects go first, in batchdeletefile calls of wire.MaxBatch, and the
// documents after them, children before their folder. The other order
// would lose objects for good: a failure or crash after the documents went
// leaves objects nothing names (the API cannot list them), and a retried
// Delete of the same IDs finds no documents to learn them from. This way
// a failure leaves documents whose content is gone (read as missing) until
// the retry, which deletes the objects again (already gone: no error) and
// then the documents.
func (b *Backend) Delete(ctx context.Context, ids []string) error {
	var (
		objects []string // file IDs
		entries []string // IDs of documents
		files   []string // documents of files
		folders []string // documents of folders, each after its subfolders
	)
	for _, id := range ids {
		switch {
		case id == "":
			return store.Wrap(errors.New("wechat: the root cannot be deleted"), store.ErrPermanent)
		case strings.HasPrefix(id, wire.FileIDScheme):
			objects = append(objects, id)
		default:
			entries = append(entries, id)
		}
	}
	docs, err := b.docsByID(ctx, entries)
	if err != nil {
		return err
	}
	for _, id := range entries {
		d, ok := docs[id]
		if !ok {
			continue
		}
		if d.Type != typeDir {
			objects = appendObject(objects, d)
			files = append(files, d.ID)
			continue
		}
		sub, err := b.subtree(ctx, d.ID)
		if err != nil {
			return err
		}
		for _, s := range sub {
			objects = appendObject(objects, s)
			if s.Type != typeDir {
				files = append(files, s.ID)
			}
		}
		folders = append(folders, folderOrder(d.ID, sub)...)
	}
	for _, o := range objects {
		b.links.Remove(o)
	}
	if err := b.c.DeleteFiles(ctx, objects); err != nil {
		return err
	}
	// Only the documents read above, files first, then folders deepest
	// first: one a file another client put in a folder meanwhile is not
	// removed without its object.
	for chunk := range slices.Chunk(append(files, folders...), wire.MaxBatch) {
		if err := b.remove(ctx, b.q().whereIn("_id", chunk)); err != nil {
			return err
		}
	}
	return nil
}

// docsByID reads the documents of ids, wire.MaxBatch to a query; those
// that are not there are left out.
func (b *Backend) docsByID(ctx context.Context, ids []string) (map[string]doc, error) {
	out := make(map[string]doc, len(ids))
	for chunk := range slices.Chunk(ids, wire.MaxBatch) {
		docs, err := b.queryDocs(ctx, b.q().whereIn("_id", chunk).call("limit", len(chunk)))
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			out[d.ID] = d
		}
	}
	return out, nil
}

// appendObject adds d's objects: its content, and the one its last
// overwrite replaced (gone already, unless that overwrite was cut short).
func appendObject(objects []string, d doc) []string {
	if d.Type != typeFile {
		return objects
	}
	for _, id := range []string{d.FileID, d.Prev} {
		if id != "" {
			objects = append(objects, id)
		}
	}
	return objects
}

// subtree is every document under folder, folders before what they hold.
func (b *Backend) subtree(ctx context.Context, folder string) ([]doc, error) {
	var out []doc
	queue := []string{folder}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		for d, err := range b.findDocs(ctx, map[string]any{"parent": f}) {
			if err != nil {
				return nil, err
			}
			out = append(out, d)
			if d.Type == typeDir {
				queue = append(queue, d.ID)
			}
		}
	}
	return out, nil
}

// folderOrder is folder and the folders of sub (listed parents first), the
// deepest first, so that removing each one's children and then itself
// removes children before their folder.
func folderOrder(folder string, sub []doc) []string {
	order := []string{folder}
	for _, d := range sub {
		if d.Type == typeDir {
			order = append(order, d.ID)
		}
	}
	slices.Reverse(order)
	return order
}

// remove removes the documents q selects; none is not an error.
func (b *Backend) remove(ctx context.Context, q *query) error {
	var resp wire.DeleteResponse
	_, err := b.db(ctx, wire.PathDatabaseDelete, q.call("remove").String(), &resp)
	if hasCode(err, wire.CodeResourceMissing) {
		return nil
	}
	return err
}
