package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// doc is one entry of the namespace as its database document.
type doc struct {
	ID     string `json:"_id,omitempty"`
	Parent string `json:"parent"`
	Name   string `json:"name"`
	Type   string `json:"type"` // typeFile or typeDir
	FileID string `json:"fileid,omitempty"`
	Key    string `json:"key,omitempty"`
	Size   int64  `json:"size"`
	MD5    string `json:"md5,omitempty"`
	MTime  int64  `json:"mtime"` // Unix ms
	CTime  int64  `json:"ctime"` // Unix ms
	Gen    int64  `json:"gen"`   // content generation; +1 on every overwrite
	// Prev is the file ID of the content the last overwrite replaced,
	// deleted by then unless that overwrite was cut short (put.go).
	Prev string `json:"prev,omitempty"`
}

// The document types.
const (
	typeFile = "file"
	typeDir  = "dir"
)

// queryLimit is the page size of a listing (wire.MaxQueryLimit).
const queryLimit = wire.MaxQueryLimit

// The indexes: the unique one on (parent, name), which also serves the
// listings, and one on fileid for the resume check (put.go).
const (
	indexName       = "parent_name"
	fileIDIndexName = "fileid"
)

// query builds the source text of a database query, every value
// JSON-encoded:
//
//	b.q().where(map[string]any{"parent": "x"}).call("skip", 0).call("get")
type query struct{ b strings.Builder }

func (b *Backend) q() *query {
	var q query
	q.b.WriteString("db.collection(")
	q.b.WriteString(jsonText(b.coll))
	q.b.WriteString(")")
	return &q
}

// jsonText is v as JSON. Values here are strings, numbers and maps of
// them: encoding cannot fail.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("wechat: encoding %v: %v", v, err))
	}
	return string(b)
}

func (q *query) call(name string, args ...any) *query {
	q.b.WriteString(".")
	q.b.WriteString(name)
	q.b.WriteString("(")
	for i, a := range args {
		if i > 0 {
			q.b.WriteString(",")
		}
		q.b.WriteString(jsonText(a))
	}
	q.b.WriteString(")")
	return q
}

func (q *query) where(m map[string]any) *query { return q.call("where", m) }
func (q *query) doc(id string) *query          { return q.call("doc", id) }
func (q *query) String() string                { return q.b.String() }

// whereAfter is where(m), and with after set, only the documents whose
// _id is greater: where({...m, _id: _.gt(after)}).
func (q *query) whereAfter(m map[string]any, after string) *query {
	if after == "" {
		return q.where(m)
	}
	fields := strings.TrimSuffix(jsonText(m), "}")
	if fields != "{" {
		fields += ","
	}
	q.b.WriteString(".where(" + fields + `"_id":_.gt(` + jsonText(after) + ")})")
	return q
}

// whereIn selects the documents whose field is one of values:
// where({field: _.in([...])}), where _ is the docs' name of db.command.
func (q *query) whereIn(field string, values []string) *query {
	q.b.WriteString(".where({" + jsonText(field) + ":_.in(" + jsonText(values) + ")})")
	return q
}

// withData ends q with name({data: d}): add, update, set.
func (q *query) withData(name string, d any) string {
	return q.call(name, map[string]any{"data": d}).String()
}

// db runs a database call. An answer that the collection does not exist
// makes it (with its index) and runs the call once more.
func (b *Backend) db(ctx context.Context, path, query string, out any) (ambiguous bool, err error) {
	req := wire.DatabaseRequest{Env: b.c.env, Query: query}
	ambiguous, err = b.c.callTracked(ctx, path, req, out)
	if hasCode(err, wire.CodeDBCollectionMissing) {
		if cerr := b.makeCollection(ctx); cerr != nil {
			return ambiguous, cerr
		}
		var again bool
		again, err = b.c.callTracked(ctx, path, req, out)
		ambiguous = ambiguous || again
	}
	return ambiguous, err
}

// makeCollection makes the collection and its indexes. Several processes
// may race to it: a collection that exists by now is fine, and the indexes
// are asked for anyway (updateindex of an index that exists as asked is
// no change). An index refused is logged, not fatal: without the unique
// one, names are unique only as far as each host's checks go.
func (b *Backend) makeCollection(ctx context.Context) error {
	b.makeMu.Lock()
	defer b.makeMu.Unlock()
	b.c.log.Info("wechat: making the namespace collection", "collection", b.coll)
	err := b.c.call(ctx, wire.PathDatabaseCollectionAdd, wire.CollectionRequest{Env: b.c.env, CollectionName: b.coll}, nil)
	var e *APIError
	if errors.As(err, &e) && (e.Code == wire.CodeDBCollectionExists || strings.Contains(e.Message, wire.CollectionExists)) {
		err = nil
	}
	if err != nil {
		return err
	}
	idx := wire.UpdateIndexRequest{Env: b.c.env, CollectionName: b.coll, CreateIndexes: []wire.CreateIndex{{
		Name: indexName, Unique: true,
		Keys: []wire.IndexKey{{Name: "parent", Direction: wire.DirectionAsc}, {Name: "name", Direction: wire.DirectionAsc}},
	}, {
		Name: fileIDIndexName,
		Keys: []wire.IndexKey{{Name: "fileid", Direction: wire.DirectionAsc}},
	}}}
	if err := b.c.call(ctx, wire.PathUpdateIndex, idx, nil); err != nil {
		b.c.log.Error("wechat: updateindex refused; names are not kept unique by the database", "collection", b.coll, "err", err)
	}
	return nil
}

// getDoc reads one document; ErrNotFound when it is not there.
func (b *Backend) getDoc(ctx context.Context, id string) (doc, error) {
	var resp wire.QueryResponse
	if _, err := b.db(ctx, wire.PathDatabaseQuery, b.q().doc(id).call("get").String(), &resp); err != nil {
		if hasCode(err, wire.CodeResourceMissing) {
			return doc{}, notFound(id)
		}
		return doc{}, err
	}
	docs, err := decodeDocs(resp.Data)
	if err != nil {
		return doc{}, err
	}
	if len(docs) == 0 {
		return doc{}, notFound(id)
	}
	return docs[0], nil
}

// findDocs yields the documents matching where, a page of queryLimit at
// a time, in _id order. Pages follow by key (_id greater than the last
// one seen), not by skip: a document removed meanwhile from a page already
// read would shift skip's next page and hide a document that is there.
func (b *Backend) findDocs(ctx context.Context, where map[string]any) func(func(doc, error) bool) {
	return func(yield func(doc, error) bool) {
		for after := ""; ; {
			docs, err := b.queryDocs(ctx, b.q().whereAfter(where, after).call("orderBy", "_id", "asc").call("limit", queryLimit))
			if err != nil {
				yield(doc{}, err)
				return
			}
			for _, d := range docs {
				if !yield(d, nil) {
					return
				}
			}
			if len(docs) < queryLimit {
				return
			}
			after = docs[len(docs)-1].ID
		}
	}
}

// queryDocs gets the documents q selects (one page).
func (b *Backend) queryDocs(ctx context.Context, q *query) ([]doc, error) {
	var resp wire.QueryResponse
	if _, err := b.db(ctx, wire.PathDatabaseQuery, q.call("get").String(), &resp); err != nil {
		return nil, err
	}
	return decodeDocs(resp.Data)
}

// decodeDocs decodes databasequery's data: each element a document in a
// JSON string.
func decodeDocs(data []string) ([]doc, error) {
	out := make([]doc, 0, len(data))
	for _, s := range data {
		var d doc
		if err := json.Unmarshal([]byte(s), &d); err != nil || d.ID == "" {
			return nil, classify(&APIError{Call: wire.PathDatabaseQuery, Message: "unreadable document", Err: err})
		}
		out = append(out, d)
	}
	return out, nil
}
