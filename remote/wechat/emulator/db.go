package emulator

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// database holds the env's collections. One mutex guards everything: every
// call is a short in-memory scan, and holding it across a whole write makes
// each write atomic (all of a where().update() or none of it).
type database struct {
	mu          sync.Mutex
	collections map[string]*collection // GUARDED_BY(mu)
}

// collection is one collection's documents and indexes.
type collection struct {
	docs    map[string]*document // by _id
	nextSeq int64                // insertion order
	indexes map[string]*index    // by name
}

// document is one stored document. fields (which include "_id") is never
// changed in place: a write replaces it, so readers and the unique-index
// bookkeeping can keep the old map.
type document struct {
	seq    int64
	fields map[string]any
}

// index is one index made by updateindex. Only unique ones are enforced.
//
// INVARIANT (unique): owners maps tuple(d.fields) to d's _id for every
// document d.
type index struct {
	spec   wire.CreateIndex
	owners map[string]string
}

func (d *database) init() { d.collections = map[string]*collection{} }

// dbError is a database failure and the errcode it answers.
type dbError struct {
	code int
	msg  string
}

func (e *dbError) Error() string { return e.msg }

func dbErrorf(code int, format string, args ...any) *dbError {
	return &dbError{code: code, msg: fmt.Sprintf(format, args...)}
}

// collection returns name's collection. Call with mu held.
func (d *database) collection(name string) (*collection, *dbError) {
	c := d.collections[name]
	if c == nil {
		return nil, dbErrorf(wire.CodeDBCollectionMissing, "DATABASE_COLLECTION_NOT_EXIST: collection %q does not exist", name)
	}
	return c, nil
}

// createCollection makes an empty collection; an existing name fails.
func (d *database) createCollection(name string) *dbError {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.collections[name] != nil {
		return dbErrorf(wire.CodeDBCollectionExists, "%s: collection %q already exists", wire.CollectionExists, name)
	}
	d.collections[name] = &collection{docs: map[string]*document{}, indexes: map[string]*index{}}
	return nil
}

// updateIndex drops then creates indexes. Creating an index that exists
// with the same definition does nothing; with another definition it fails,
// as does dropping one that does not exist. A unique index over documents
// that already clash fails with CodeDBDuplicate. Nothing changes on failure.
func (d *database) updateIndex(name string, create []wire.CreateIndex, drop []wire.DropIndex) *dbError {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, err := d.collection(name)
	if err != nil {
		return err
	}
	indexes := maps.Clone(c.indexes)
	for _, dr := range drop {
		if indexes[dr.Name] == nil {
			return dbErrorf(wire.CodeCloudParam, "index %q not found", dr.Name)
		}
		delete(indexes, dr.Name)
	}
	for _, spec := range create {
		if spec.Name == "" || len(spec.Keys) == 0 {
			return dbErrorf(wire.CodeCloudParam, "an index needs a name and keys")
		}
		if old := indexes[spec.Name]; old != nil {
			if !reflect.DeepEqual(old.spec, spec) {
				return dbErrorf(wire.CodeCloudParam, "index %q exists with another definition", spec.Name)
			}
			continue
		}
		ix := &index{spec: spec}
		if spec.Unique {
			ix.owners = map[string]string{}
			for id, doc := range c.docs {
				t := ix.tuple(doc.fields)
				if other, clash := ix.owners[t]; clash {
					return duplicate(spec.Name, t, other)
				}
				ix.owners[t] = id
			}
		}
		indexes[spec.Name] = ix
	}
	c.indexes = indexes
	return nil
}

// tuple is the index key of fields: the JSON of its values, a missing field
// counting as null (as in MongoDB, so two documents without the fields
// clash on a unique index).
func (ix *index) tuple(fields map[string]any) string {
	vals := make([]any, len(ix.spec.Keys))
	for i, k := range ix.spec.Keys {
		vals[i] = fields[k.Name]
	}
	b, _ := json.Marshal(vals)
	return string(b)
}

func duplicate(index, tuple, id string) *dbError {
	return dbErrorf(wire.CodeDBDuplicate, "E11000 %s error: index %s dup key: %s (document %s)", wire.DuplicateKey, index, tuple, id)
}

// checkUnique fails if writing changes (new fields by _id) would make two
// documents share a tuple of a unique index. Call with mu held.
func (c *collection) checkUnique(changes map[string]map[string]any) *dbError {
	for name, ix := range c.indexes {
		if !ix.spec.Unique {
			continue
		}
		seen := map[string]string{}
		for _, id := range slices.Sorted(maps.Keys(changes)) {
			t := ix.tuple(changes[id])
			if other, clash := seen[t]; clash {
				return duplicate(name, t, other)
			}
			seen[t] = id
			if owner, taken := ix.owners[t]; taken && owner != id {
				if _, moving := changes[owner]; !moving {
					return duplicate(name, t, owner)
				}
			}
		}
	}
	return nil
}

// commit writes changes (after checkUnique) and keeps the indexes' owners.
// New documents take their insertion order from order, which lists the
// keys of changes. Call with mu held.
func (c *collection) commit(order []string, changes map[string]map[string]any) {
	for _, ix := range c.indexes {
		if !ix.spec.Unique {
			continue
		}
		for id := range changes {
			if old := c.docs[id]; old != nil {
				if t := ix.tuple(old.fields); ix.owners[t] == id {
					delete(ix.owners, t)
				}
			}
		}
		for id, f := range changes {
			ix.owners[ix.tuple(f)] = id
		}
	}
	for _, id := range order {
		if old := c.docs[id]; old != nil {
			c.docs[id] = &document{seq: old.seq, fields: changes[id]}
			continue
		}
		c.nextSeq++
		c.docs[id] = &document{seq: c.nextSeq, fields: changes[id]}
	}
}

// remove deletes the documents ids. Call with mu held.
func (c *collection) remove(ids []string) {
	for _, id := range ids {
		doc := c.docs[id]
		if doc == nil {
			continue
		}
		for _, ix := range c.indexes {
			if t := ix.tuple(doc.fields); ix.spec.Unique && ix.owners[t] == id {
				delete(ix.owners, t)
			}
		}
		delete(c.docs, id)
	}
}

// count is the number of documents in all collections.
func (d *database) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.collections {
		n += len(c.docs)
	}
	return n
}
