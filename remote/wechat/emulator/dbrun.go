package emulator

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"sort"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// run executes a checked query and returns the endpoint's answer.
func (d *database) run(pl plan) any {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, err := d.collection(pl.collection)
	if err != nil {
		return errorf(err.code, "%s", err.msg)
	}
	var resp any
	switch pl.action {
	case actGet:
		resp = c.get(pl)
	case actCount:
		resp = wire.CountResponse{Envelope: success, Count: len(c.selectDocs(pl))}
	case actAdd:
		resp, err = c.add(pl.data)
	case actUpdate:
		resp, err = c.update(pl)
	case actSet:
		resp, err = c.set(pl)
	case actRemove:
		docs := c.selectDocs(pl)
		ids := make([]string, len(docs))
		for i, doc := range docs {
			ids[i] = doc.fields["_id"].(string)
		}
		c.remove(ids)
		resp = wire.DeleteResponse{Envelope: success, Deleted: len(ids)}
	}
	if err != nil {
		return errorf(err.code, "%s", err.msg)
	}
	return resp
}

// selectDocs is the documents pl selects (doc() or where()), in insertion
// order.
func (c *collection) selectDocs(pl plan) []*document {
	if pl.hasDoc {
		if doc := c.docs[pl.docID]; doc != nil {
			return []*document{doc}
		}
		return nil
	}
	var out []*document
	for _, doc := range c.docs {
		if matches(doc.fields, pl.where) {
			out = append(out, doc)
		}
	}
	slices.SortFunc(out, func(a, b *document) int { return int(a.seq - b.seq) })
	return out
}

// matches says whether fields equals where on every field it names (a
// missing field equals null), or meets its command (_.in, _.gt).
func matches(fields, where map[string]any) bool {
	for k, v := range where {
		if c, ok := v.(command); ok {
			var hit bool
			switch c.op {
			case "in":
				hit = slices.ContainsFunc(c.args, func(x any) bool { return reflect.DeepEqual(fields[k], x) })
			case "gt":
				hit = fields[k] != nil && compareValues(fields[k], c.args[0]) > 0
			}
			if !hit {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(fields[k], v) {
			return false
		}
	}
	return true
}

// get answers databasequery: the selection sorted by the orderBys (stable,
// so ties keep insertion order), then skip and limit.
func (c *collection) get(pl plan) wire.QueryResponse {
	docs := c.selectDocs(pl)
	sort.SliceStable(docs, func(i, j int) bool {
		for _, o := range pl.orders {
			if r := compareValues(docs[i].fields[o.field], docs[j].fields[o.field]); r != 0 {
				return (r < 0) != o.desc
			}
		}
		return false
	})
	total := len(docs)
	docs = docs[min(pl.skip, total):min(pl.skip+pl.limit, total)]
	data := make([]string, len(docs))
	for i, doc := range docs {
		b, _ := json.Marshal(doc.fields)
		data[i] = string(b)
	}
	return wire.QueryResponse{Envelope: success, Pager: wire.Pager{Offset: pl.skip, Limit: pl.limit, Total: total}, Data: data}
}

// add inserts documents, each with its own _id (a string) or a new one.
func (c *collection) add(data []map[string]any) (any, *dbError) {
	changes := map[string]map[string]any{}
	ids := make([]string, len(data))
	for i, d := range data {
		id := randomHex(16)
		if v, has := d["_id"]; has {
			s, isString := v.(string)
			if !isString || s == "" {
				return nil, dbErrorf(wire.CodeCloudParam, "_id must be a non-empty string")
			}
			id = s
		}
		if _, clash := changes[id]; clash || c.docs[id] != nil {
			return nil, duplicate("_id_", `["`+id+`"]`, id)
		}
		f := maps.Clone(d)
		f["_id"] = id
		changes[id], ids[i] = f, id
	}
	if err := c.checkUnique(changes); err != nil {
		return nil, err
	}
	c.commit(ids, changes)
	return wire.AddResponse{Envelope: success, IDList: ids}, nil
}

// update merges data into every selected document: nested objects merge
// field by field (as the SDK's update does), anything else replaces.
func (c *collection) update(pl plan) (any, *dbError) {
	docs := c.selectDocs(pl)
	changes := map[string]map[string]any{}
	for _, doc := range docs {
		f := merged(doc.fields, pl.data[0])
		if !reflect.DeepEqual(f, doc.fields) {
			changes[doc.fields["_id"].(string)] = f
		}
	}
	if err := c.checkUnique(changes); err != nil {
		return nil, err
	}
	c.commit(slices.Sorted(maps.Keys(changes)), changes)
	return wire.UpdateResponse{Envelope: success, Matched: len(docs), Modified: len(changes)}, nil
}

// set replaces the document doc() names with data, or inserts it under that
// _id (then the answer carries the id).
func (c *collection) set(pl plan) (any, *dbError) {
	f := maps.Clone(pl.data[0])
	f["_id"] = pl.docID
	old := c.docs[pl.docID]
	resp := wire.UpdateResponse{Envelope: success}
	if old != nil {
		resp.Matched = 1
		if reflect.DeepEqual(old.fields, f) {
			return resp, nil
		}
		resp.Modified = 1
	} else {
		resp.ID = pl.docID
	}
	changes := map[string]map[string]any{pl.docID: f}
	if err := c.checkUnique(changes); err != nil {
		return nil, err
	}
	c.commit([]string{pl.docID}, changes)
	return resp, nil
}

// merged is old with patch merged in, sharing nothing old can see changed.
func merged(old, patch map[string]any) map[string]any {
	out := maps.Clone(old)
	for k, v := range patch {
		if pm, ok := v.(map[string]any); ok {
			if om, ok := out[k].(map[string]any); ok {
				out[k] = merged(om, pm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// compareValues orders two values as MongoDB orders BSON types: null (and
// missing) < numbers < strings < objects < arrays < booleans; within a
// type by value (objects and arrays by their JSON).
func compareValues(a, b any) int {
	ra, rb := typeRank(a), typeRank(b)
	if ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case string:
		y := b.(string)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case nil:
		return 0
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	switch {
	case string(ja) < string(jb):
		return -1
	case string(ja) > string(jb):
		return 1
	}
	return 0
}

func typeRank(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case float64:
		return 1
	case string:
		return 2
	case map[string]any:
		return 3
	case []any:
		return 4
	case bool:
		return 5
	}
	return 6
}
