package emulator_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// Many clients at once: every upload lands with its own bytes, and a unique
// index lets exactly one of several same-named adds through.
func TestConcurrentUploadsAndAdds(t *testing.T) {
	r := dbRig(t)
	var e wire.Envelope
	r.call(wire.PathUpdateIndex, wire.UpdateIndexRequest{Env: testEnv, CollectionName: coll, CreateIndexes: []wire.CreateIndex{{
		Name: "parent_name", Unique: true, Keys: []wire.IndexKey{{Name: "parent", Direction: "1"}, {Name: "name", Direction: "1"}}}}}, &e)
	const n = 16
	ids := make([]string, n)
	added := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = r.upload(fmt.Sprintf("c/%d", i), []byte(fmt.Sprint("content ", i)))
			var resp wire.AddResponse
			r.db(wire.PathDatabaseAdd, fmt.Sprintf(`db.collection(%q).add({data: {parent: "p", name: "same", i: %d}})`, coll, i), &resp)
			added[i] = resp.ErrCode
		}()
	}
	wg.Wait()
	ok := 0
	for i := range n {
		if _, got := fetch(t, http.MethodGet, r.link(ids[i])); string(got) != fmt.Sprint("content ", i) {
			t.Errorf("file %d: %q", i, got)
		}
		switch added[i] {
		case 0:
			ok++
		case wire.CodeDBDuplicate:
		default:
			t.Errorf("add %d: errcode %d", i, added[i])
		}
	}
	if ok != 1 {
		t.Errorf("%d same-named adds succeeded, want 1", ok)
	}
	if st := r.emu.Stats(); st.Objects != n || st.Documents != 1 {
		t.Errorf("stats %+v", st)
	}
}
