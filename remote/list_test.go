package remote

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

func fill(f *fakePan, parent string, n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for i := range n {
		name := fmt.Sprintf("f%03d.jpg", i)
		f.add(parent, name, wire.EntryFile, md5hex([]byte(name)), int64(i))
		names = append(names, name)
	}
	return names
}

func collect(t *testing.T, c *Client, parent string) []string {
	t.Helper()
	var got []string
	for e, err := range c.List(t.Context(), parent) {
		require.NoError(t, err)
		got = append(got, e.Filename)
	}
	return got
}

func TestListPagesBothEndStyles(t *testing.T) {
	for _, emptyEnd := range []bool{false, true} {
		for _, n := range []int{0, 1, 7, 21} {
			t.Run(fmt.Sprintf("emptyEnd=%v/n=%d", emptyEnd, n), func(t *testing.T) {
				f := newFakePan(t)
				f.pageSize = 7 // the client asks 100; this server gives fewer
				f.emptyEnd = emptyEnd
				want := fill(f, "", n)
				c := testClient(t, f.srv.URL)
				assert.Equal(t, want, collect(t, c, ""))
				pages := (n + 6) / 7
				if pages == 0 || emptyEnd {
					pages++
				}
				if emptyEnd && n == 0 {
					pages = 1
				}
				assert.Equal(t, pages, f.count("list"))
			})
		}
	}
}

func TestListSendsLimitAndType(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	var bodies []map[string]any
	f.before = func(name string, w http.ResponseWriter, r *http.Request) bool {
		if name == "list" {
			var m map[string]any
			_ = json.NewDecoder(r.Body).Decode(&m)
			bodies = append(bodies, m)
			writeEnv(w, 0, "ok", map[string]any{"lastFileId": "-1", "fileList": []any{}})
			return true
		}
		return false
	}
	collect(t, c, "dir1")
	require.Len(t, bodies, 1)
	assert.Equal(t, float64(100), bodies[0]["limit"])
	assert.Equal(t, float64(1), bodies[0]["type"])
	assert.Equal(t, "dir1", bodies[0]["parentFileId"])
}

func TestListStopsOnStuckCursor(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	f.before = func(name string, w http.ResponseWriter, r *http.Request) bool {
		if name != "list" {
			return false
		}
		// Always the same page with the same cursor, and numeric IDs.
		writeEnv(w, 0, "ok", map[string]any{"lastFileId": 42, "fileList": []any{
			map[string]any{"fileId": 41, "filename": "a"}, map[string]any{"fileId": 42, "filename": "b"}}})
		return true
	}
	assert.Equal(t, []string{"a", "b"}, collect(t, c, ""))
	assert.Equal(t, 2, f.count("list"))
}

func TestListEarlyBreakAndError(t *testing.T) {
	f := newFakePan(t)
	f.pageSize = 2
	fill(f, "", 10)
	c := testClient(t, f.srv.URL)
	for range c.List(t.Context(), "") {
		break
	}
	assert.Equal(t, 1, f.count("list"))

	failFirst(f, "list", 1000, func(w http.ResponseWriter) { writeEnv(w, 5066, "目录不存在", nil) })
	var errs int
	for _, err := range c.List(t.Context(), "gone") {
		require.ErrorIs(t, err, ErrNotFound)
		errs++
	}
	assert.Equal(t, 1, errs)
}

func TestRootIDLearnt(t *testing.T) {
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	f.before = func(name string, w http.ResponseWriter, r *http.Request) bool {
		if name != "list" {
			return false
		}
		writeEnv(w, 0, "ok", map[string]any{"lastFileId": "-1", "fileList": []any{
			map[string]any{"fileId": "x", "filename": "a", "parentFileId": "ROOT"}}})
		return true
	}
	id, err := c.RootID(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "ROOT", id)
}
