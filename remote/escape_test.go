package remote

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every ID that goes into a query string travels escaped: IDs shaped like
// real ones hold "=", and "+" and "/" are base64 too. The service must
// read back exactly the ID the caller gave.
func TestIDsEscapedInQueries(t *testing.T) {
	const id = "Ab+c/D==e&f=1 z%2F"
	f := newFakePan(t)
	c := testClient(t, f.srv.URL)
	var mu sync.Mutex
	got := map[string]url.Values{}
	f.before = func(name string, w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet {
			return false
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		assert.NoError(t, err, "%s: query %q", name, r.URL.RawQuery)
		mu.Lock()
		got[name] = q
		mu.Unlock()
		writeEnv(w, 0, "ok", map[string]any{})
		return true
	}
	_, err := c.Detail(t.Context(), id)
	require.NoError(t, err)
	_, err = c.CopyProcess(t.Context(), id)
	require.NoError(t, err)
	_, err = c.CopyFailures(t.Context(), id, 1, 10)
	require.NoError(t, err)
	_, err = c.OfflineProcess(t.Context(), id)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{id}, got["detail"]["fileID"], "detail")
	assert.Equal(t, []string{id}, got["process"]["taskID"], "copy and offline process")
	assert.Equal(t, []string{id}, got["fail"]["taskID"], "copy/fail")
	assert.Len(t, got, 3, "GET calls seen: %v", got)
}
