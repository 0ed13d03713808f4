package emulator_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/pan123fs/pan123fs/remote/wechat/emulator"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

const coll = "pan123fs_entries"

// dbRig is a rig with the entries collection made.
func dbRig(t *testing.T) *rig {
	r := newRig(t, emulator.Options{})
	var resp wire.Envelope
	r.call(wire.PathDatabaseCollectionAdd, wire.CollectionRequest{Env: testEnv, CollectionName: coll}, &resp)
	if resp.ErrCode != 0 {
		t.Fatalf("databasecollectionadd: %+v", resp)
	}
	return r
}

// add inserts docs (JSON objects) and returns their IDs.
func (r *rig) add(docs ...string) []string {
	r.t.Helper()
	var resp wire.AddResponse
	r.db(wire.PathDatabaseAdd, fmt.Sprintf(`db.collection(%q).add({data: [%s]})`, coll, strings.Join(docs, ",")), &resp)
	if resp.ErrCode != 0 || len(resp.IDList) != len(docs) {
		r.t.Fatalf("add %v: %+v", docs, resp)
	}
	return resp.IDList
}

// query runs a databasequery and decodes each document.
func (r *rig) query(query string) (wire.Pager, []map[string]any) {
	r.t.Helper()
	var resp wire.QueryResponse
	r.db(wire.PathDatabaseQuery, query, &resp)
	if resp.ErrCode != 0 {
		r.t.Fatalf("query %s: %+v", query, resp.Envelope)
	}
	docs := make([]map[string]any, len(resp.Data))
	for i, s := range resp.Data {
		if err := json.Unmarshal([]byte(s), &docs[i]); err != nil {
			r.t.Fatalf("data[%d] %q is not a JSON-encoded document: %v", i, s, err)
		}
	}
	return resp.Pager, docs
}

func names(docs []map[string]any) string {
	var out []string
	for _, d := range docs {
		out = append(out, fmt.Sprint(d["name"]))
	}
	return strings.Join(out, ",")
}

func TestDatabaseAddThenQueryReturnsJSONStrings(t *testing.T) {
	r := dbRig(t)
	ids := r.add(`{"parent": "", "name": "a", "size": 1}`)
	var one wire.AddResponse
	r.db(wire.PathDatabaseAdd, `db.collection("`+coll+`").add({data: {parent: "", 'name': 'b\'s', size: 2.5, tags: ["x"], meta: {deep: true}, none: null}})`, &one)
	if one.ErrCode != 0 || len(one.IDList) != 1 || one.IDList[0] == ids[0] {
		t.Fatalf("add of one object: %+v", one)
	}
	pager, docs := r.query(`db.collection("` + coll + `").get()`)
	if pager != (wire.Pager{Offset: 0, Limit: 10, Total: 2}) || len(docs) != 2 {
		t.Fatalf("get: pager %+v, %d docs", pager, len(docs))
	}
	if docs[0]["_id"] != ids[0] || docs[0]["name"] != "a" || docs[0]["size"] != 1.0 {
		t.Fatalf("first doc %v", docs[0])
	}
	b := docs[1]
	if b["_id"] != one.IDList[0] || b["name"] != "b's" || b["size"] != 2.5 || fmt.Sprint(b["tags"]) != "[x]" ||
		fmt.Sprint(b["meta"]) != "map[deep:true]" || b["none"] != nil {
		t.Fatalf("second doc %v", b)
	}
	_, got := r.query(`db.collection("` + coll + `").doc("` + ids[0] + `").get()`)
	if len(got) != 1 || got[0]["name"] != "a" {
		t.Fatalf("doc().get(): %v", got)
	}
	if _, got := r.query(`db.collection("` + coll + `").doc("missing").get()`); len(got) != 0 {
		t.Fatalf("doc(missing).get(): %v", got)
	}
}

func TestDatabaseWhereOrderBySkipLimitAndCount(t *testing.T) {
	r := dbRig(t)
	r.add(`{"parent":"p","name":"c","n":3}`, `{"parent":"q","name":"x","n":0}`, `{"parent":"p","name":"a","n":1}`,
		`{"parent":"p","name":"b","n":2}`, `{"parent":"p","name":"d","n":4}`)
	q := `db.collection("` + coll + `").where({parent: "p"})`
	if _, docs := r.query(q + `.get()`); names(docs) != "c,a,b,d" {
		t.Fatalf("where, insertion order: %s", names(docs))
	}
	if _, docs := r.query(q + `.orderBy("name", "asc").get()`); names(docs) != "a,b,c,d" {
		t.Fatalf("orderBy name asc: %s", names(docs))
	}
	if _, docs := r.query(q + `.orderBy("n", "desc").get()`); names(docs) != "d,c,b,a" {
		t.Fatalf("orderBy n desc: %s", names(docs))
	}
	pager, docs := r.query(q + `.orderBy("name","asc").skip(1).limit(2).get()`)
	if names(docs) != "b,c" || pager != (wire.Pager{Offset: 1, Limit: 2, Total: 4}) {
		t.Fatalf("skip 1 limit 2: %s, %+v", names(docs), pager)
	}
	if pager, docs := r.query(q + `.skip(10).get()`); len(docs) != 0 || pager.Total != 4 {
		t.Fatalf("skip past the end: %d docs, %+v", len(docs), pager)
	}
	if _, docs := r.query(`db.collection("` + coll + `").where({parent: "p", name: "b"}).get()`); names(docs) != "b" {
		t.Fatalf("where on two fields: %s", names(docs))
	}
	if _, docs := r.query(`db.collection("` + coll + `").where({missing: null}).get()`); len(docs) != 5 {
		t.Fatalf("where missing == null: %d docs", len(docs))
	}
	var count wire.CountResponse
	r.db(wire.PathDatabaseCount, q+`.count()`, &count)
	if count.ErrCode != 0 || count.Count != 4 {
		t.Fatalf("count: %+v", count)
	}
	r.db(wire.PathDatabaseCount, `db.collection("`+coll+`").count()`, &count)
	if count.Count != 5 {
		t.Fatalf("count of all: %+v", count)
	}
}

func TestDatabaseLimitDefaultsToTenAndStopsAtAThousand(t *testing.T) {
	r := dbRig(t)
	docs := make([]string, 1001)
	for i := range docs {
		docs[i] = fmt.Sprintf(`{"i": %d}`, i)
	}
	r.add(docs...)
	if pager, got := r.query(`db.collection("` + coll + `").get()`); len(got) != 10 || pager.Total != 1001 {
		t.Fatalf("default limit: %d docs, %+v", len(got), pager)
	}
	if _, got := r.query(`db.collection("` + coll + `").limit(1000).get()`); len(got) != 1000 {
		t.Fatalf("limit 1000: %d docs", len(got))
	}
	var resp wire.QueryResponse
	r.db(wire.PathDatabaseQuery, `db.collection("`+coll+`").limit(1001).get()`, &resp)
	if resp.ErrCode != wire.CodeDBBadQuery {
		t.Fatalf("limit 1001: %+v", resp.Envelope)
	}
}

func TestDatabaseUpdateByDocAndByWhere(t *testing.T) {
	r := dbRig(t)
	ids := r.add(`{"parent":"p","name":"a","meta":{"x":1,"y":2}}`, `{"parent":"p","name":"b"}`, `{"parent":"q","name":"c"}`)
	var up wire.UpdateResponse
	r.db(wire.PathDatabaseUpdate, `db.collection("`+coll+`").doc("`+ids[0]+`").update({data: {name: "a2", meta: {y: 3}}})`, &up)
	if up.ErrCode != 0 || up.Matched != 1 || up.Modified != 1 {
		t.Fatalf("doc().update: %+v", up)
	}
	_, docs := r.query(`db.collection("` + coll + `").doc("` + ids[0] + `").get()`)
	if docs[0]["name"] != "a2" || fmt.Sprint(docs[0]["meta"]) != "map[x:1 y:3]" || docs[0]["parent"] != "p" {
		t.Fatalf("after doc().update: %v", docs[0])
	}
	r.db(wire.PathDatabaseUpdate, `db.collection("`+coll+`").where({parent: "p"}).update({data: {parent: "r"}})`, &up)
	if up.Matched != 2 || up.Modified != 2 {
		t.Fatalf("where().update: %+v", up)
	}
	r.db(wire.PathDatabaseUpdate, `db.collection("`+coll+`").where({parent: "r"}).update({data: {parent: "r"}})`, &up)
	if up.Matched != 2 || up.Modified != 0 {
		t.Fatalf("update changing nothing: %+v", up)
	}
	r.db(wire.PathDatabaseUpdate, `db.collection("`+coll+`").doc("missing").update({data: {x: 1}})`, &up)
	if up.ErrCode != 0 || up.Matched != 0 {
		t.Fatalf("update of a missing doc: %+v", up)
	}
}

func TestDatabaseSetReplacesOrInserts(t *testing.T) {
	r := dbRig(t)
	ids := r.add(`{"name":"a","extra":1}`)
	var up wire.UpdateResponse
	r.db(wire.PathDatabaseUpdate, `db.collection("`+coll+`").doc("`+ids[0]+`").set({data: {name: "z"}})`, &up)
	if up.Matched != 1 || up.Modified != 1 || up.ID != "" {
		t.Fatalf("set of an existing doc: %+v", up)
	}
	_, docs := r.query(`db.collection("` + coll + `").doc("` + ids[0] + `").get()`)
	if _, has := docs[0]["extra"]; has || docs[0]["name"] != "z" {
		t.Fatalf("after set: %v", docs[0])
	}
	r.db(wire.PathDatabaseUpdate, `db.collection("`+coll+`").doc("mine").set({data: {name: "new"}})`, &up)
	if up.Matched != 0 || up.ID != "mine" {
		t.Fatalf("set of a new doc: %+v", up)
	}
	if _, docs := r.query(`db.collection("` + coll + `").doc("mine").get()`); len(docs) != 1 || docs[0]["name"] != "new" {
		t.Fatalf("doc inserted by set: %v", docs)
	}
}

func TestDatabaseRemoveByDocAndByWhere(t *testing.T) {
	r := dbRig(t)
	ids := r.add(`{"parent":"p","name":"a"}`, `{"parent":"p","name":"b"}`, `{"parent":"q","name":"c"}`)
	var del wire.DeleteResponse
	r.db(wire.PathDatabaseDelete, `db.collection("`+coll+`").doc("`+ids[2]+`").remove()`, &del)
	if del.ErrCode != 0 || del.Deleted != 1 {
		t.Fatalf("doc().remove: %+v", del)
	}
	r.db(wire.PathDatabaseDelete, `db.collection("`+coll+`").doc("`+ids[2]+`").remove()`, &del)
	if del.ErrCode != 0 || del.Deleted != 0 {
		t.Fatalf("second doc().remove: %+v", del)
	}
	r.db(wire.PathDatabaseDelete, `db.collection("`+coll+`").where({parent: "p"}).remove()`, &del)
	if del.Deleted != 2 {
		t.Fatalf("where().remove: %+v", del)
	}
	if pager, _ := r.query(`db.collection("` + coll + `").get()`); pager.Total != 0 {
		t.Fatalf("after removes: %+v", pager)
	}
}

// _.gt(v) selects the documents whose field is greater than v: paging by
// key (where _id > the last one seen), which a removal meanwhile cannot
// shift as it shifts skip.
func TestDatabaseWhereGtPagesByKey(t *testing.T) {
	r := dbRig(t)
	r.add(`{"parent":"p","name":"a"}`, `{"parent":"p","name":"b"}`, `{"parent":"q","name":"c"}`, `{"parent":"p","name":"d"}`)
	c := `db.collection("` + coll + `")`
	_, all := r.query(c + `.where({parent: "p"}).orderBy("_id", "asc").get()`)
	first, _ := all[0]["_id"].(string)
	_, rest := r.query(c + `.where({parent: "p", _id: _.gt(` + strconv.Quote(first) + `)}).orderBy("_id", "asc").get()`)
	if len(rest) != 2 || names(rest) == names(all) {
		t.Fatalf("after %s: got %s of %s", first, names(rest), names(all))
	}
	if _, docs := r.query(c + `.where({name: _.gt("b")}).get()`); names(docs) != "c,d" {
		t.Fatalf("name > b: got %s, want c,d", names(docs))
	}
}

func TestDatabaseWhereInSelectsDocumentsWithAnyOfTheValues(t *testing.T) {
	r := dbRig(t)
	ids := r.add(`{"parent":"p","name":"a"}`, `{"parent":"p","name":"b"}`, `{"parent":"q","name":"c"}`, `{"parent":"p","name":"d"}`)
	c := `db.collection("` + coll + `")`
	in := fmt.Sprintf(`_.in([%q, %q, "gone"])`, ids[0], ids[2])
	if _, docs := r.query(c + `.where({_id: ` + in + `}).get()`); names(docs) != "a,c" {
		t.Fatalf("where _id in [a, c, gone]: got %s, want a,c", names(docs))
	}
	if _, docs := r.query(c + `.where({parent: "p", name: _.in(["b", "c", "d"])}).get()`); names(docs) != "b,d" {
		t.Fatalf("where parent p, name in [b, c, d]: got %s, want b,d", names(docs))
	}
	var del wire.DeleteResponse
	r.db(wire.PathDatabaseDelete, c+`.where({_id: `+in+`}).remove()`, &del)
	if del.ErrCode != 0 || del.Deleted != 2 {
		t.Fatalf("where _id in [a, c, gone] remove: %+v, want 2 deleted", del)
	}
	if _, docs := r.query(c + `.get()`); names(docs) != "b,d" {
		t.Fatalf("after the remove: got %s, want b,d", names(docs))
	}
}

func TestDatabaseUniqueIndexOnParentAndName(t *testing.T) {
	r := dbRig(t)
	ix := wire.UpdateIndexRequest{Env: testEnv, CollectionName: coll, CreateIndexes: []wire.CreateIndex{{
		Name: "parent_name", Unique: true,
		Keys: []wire.IndexKey{{Name: "parent", Direction: wire.DirectionAsc}, {Name: "name", Direction: wire.DirectionAsc}},
	}}}
	for i := 0; i < 2; i++ {
		var resp wire.Envelope
		r.call(wire.PathUpdateIndex, ix, &resp)
		if resp.ErrCode != 0 {
			t.Fatalf("updateindex (call %d): %+v", i+1, resp)
		}
	}
	ids := r.add(`{"parent":"p","name":"a"}`, `{"parent":"p","name":"b"}`, `{"parent":"q","name":"a"}`)
	wantDup := func(what string, e wire.Envelope) {
		t.Helper()
		if e.ErrCode != wire.CodeDBDuplicate || !strings.Contains(e.ErrMsg, wire.DuplicateKey) {
			t.Fatalf("%s: %+v, want errcode %d with %q", what, e, wire.CodeDBDuplicate, wire.DuplicateKey)
		}
	}
	var add wire.AddResponse
	r.db(wire.PathDatabaseAdd, `db.collection("`+coll+`").add({data: {parent: "p", name: "a"}})`, &add)
	wantDup("add of a clashing name", add.Envelope)
	r.db(wire.PathDatabaseAdd, `db.collection("`+coll+`").add({data: [{parent: "z", name: "n"}, {parent: "z", name: "n"}]})`, &add)
	wantDup("add of two clashing docs", add.Envelope)
	var up wire.UpdateResponse
	r.db(wire.PathDatabaseUpdate, `db.collection("`+coll+`").doc("`+ids[1]+`").update({data: {name: "a"}})`, &up)
	wantDup("rename onto an existing name", up.Envelope)
	r.db(wire.PathDatabaseUpdate, `db.collection("`+coll+`").where({name: "a"}).update({data: {parent: "x"}})`, &up)
	wantDup("move of two same-named docs into one parent", up.Envelope)
	if pager, _ := r.query(`db.collection("` + coll + `").get()`); pager.Total != 3 {
		t.Fatalf("refused writes changed the collection: %d docs", pager.Total)
	}
	// After the clashing doc moves away, its old place is free.
	r.db(wire.PathDatabaseUpdate, `db.collection("`+coll+`").doc("`+ids[0]+`").update({data: {parent: "moved"}})`, &up)
	if up.ErrCode != 0 {
		t.Fatalf("move away: %+v", up)
	}
	r.db(wire.PathDatabaseUpdate, `db.collection("`+coll+`").doc("`+ids[1]+`").update({data: {name: "a"}})`, &up)
	if up.ErrCode != 0 || up.Modified != 1 {
		t.Fatalf("rename into the freed name: %+v", up)
	}
	var del wire.DeleteResponse
	r.db(wire.PathDatabaseDelete, `db.collection("`+coll+`").doc("`+ids[1]+`").remove()`, &del)
	r.add(`{"parent":"p","name":"a"}`)
	var resp wire.Envelope
	r.call(wire.PathUpdateIndex, wire.UpdateIndexRequest{Env: testEnv, CollectionName: coll, CreateIndexes: []wire.CreateIndex{{
		Name: "by_name", Unique: true, Keys: []wire.IndexKey{{Name: "name", Direction: wire.DirectionAsc}}}}}, &resp)
	wantDup("unique index over clashing docs", resp)
}

func TestDatabaseCollectionErrors(t *testing.T) {
	r := dbRig(t)
	var resp wire.QueryResponse
	r.db(wire.PathDatabaseQuery, `db.collection("nope").get()`, &resp)
	if resp.ErrCode != wire.CodeDBCollectionMissing {
		t.Fatalf("query of a missing collection: %+v", resp.Envelope)
	}
	var e wire.Envelope
	r.call(wire.PathUpdateIndex, wire.UpdateIndexRequest{Env: testEnv, CollectionName: "nope"}, &e)
	if e.ErrCode != wire.CodeDBCollectionMissing {
		t.Fatalf("updateindex of a missing collection: %+v", e)
	}
	r.call(wire.PathDatabaseCollectionAdd, wire.CollectionRequest{Env: testEnv, CollectionName: coll}, &e)
	if e.ErrCode != wire.CodeDBCollectionExists || !strings.Contains(e.ErrMsg, wire.CollectionExists) {
		t.Fatalf("databasecollectionadd of an existing name: %+v", e)
	}
}

func TestDatabaseRefusesQueriesOutsideTheSubset(t *testing.T) {
	r := dbRig(t)
	c := `db.collection("` + coll + `")`
	cases := []struct{ path, query string }{
		{wire.PathDatabaseQuery, c + `.where({n: _.lt(1)}).get()`},
		{wire.PathDatabaseQuery, c + `.where({n: _.gt(_.in([1]))}).get()`},
		{wire.PathDatabaseQuery, c + `.where({n: _.in(1)}).get()`},
		{wire.PathDatabaseQuery, c + `.where({o: {n: _.in([1])}}).get()`},
		{wire.PathDatabaseQuery, c + `.where({n: [_.in([1])]}).get()`},
		{wire.PathDatabaseQuery, c + `.doc(_.in(["x"])).get()`},
		{wire.PathDatabaseAdd, c + `.add({data: {n: _.in([1])}})`},
		{wire.PathDatabaseUpdate, c + `.doc("x").update({data: {n: _.in([1])}})`},
		{wire.PathDatabaseQuery, c + `.where({n: 1})`},
		{wire.PathDatabaseQuery, c + `.field({name: true}).get()`},
		{wire.PathDatabaseQuery, c + `.count()`},
		{wire.PathDatabaseQuery, c + `.limit(0).get()`},
		{wire.PathDatabaseQuery, c + `.skip(-1).get()`},
		{wire.PathDatabaseQuery, c + `.skip(1.5).get()`},
		{wire.PathDatabaseQuery, c + `.orderBy("n", "up").get()`},
		{wire.PathDatabaseQuery, c + `.where({}).doc("x").get()`},
		{wire.PathDatabaseQuery, c + `.get(); db.collection("x").remove()`},
		{wire.PathDatabaseQuery, `db.collection(name).get()`},
		{wire.PathDatabaseQuery, `require("fs")`},
		{wire.PathDatabaseAdd, c + `.add({data: "x"})`},
		{wire.PathDatabaseAdd, c + `.add({data: []})`},
		{wire.PathDatabaseAdd, c + `.add({data: {t: new Date()}})`},
		{wire.PathDatabaseUpdate, c + `.update({data: {x: 1}})`},
		{wire.PathDatabaseUpdate, c + `.where({}).set({data: {x: 1}})`},
		{wire.PathDatabaseUpdate, c + `.doc("x").update({data: {_id: "y"}})`},
		{wire.PathDatabaseUpdate, c + `.doc("x").update({data: {n: _.inc(1)}})`},
		{wire.PathDatabaseDelete, c + `.remove()`},
		{wire.PathDatabaseDelete, c + `.where({}).get()`},
		{wire.PathDatabaseCount, c + `.limit(5).count()`},
	}
	for _, cs := range cases {
		var resp wire.Envelope
		r.db(cs.path, cs.query, &resp)
		if resp.ErrCode != wire.CodeDBBadQuery {
			t.Errorf("%s %s: %+v, want errcode %d", cs.path, cs.query, resp, wire.CodeDBBadQuery)
		}
	}
}
