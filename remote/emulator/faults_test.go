package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

func TestParseQPSAndFaults(t *testing.T) {
	q, err := ParseQPS(" delete=1, list=4,create=2.5 ")
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"delete": 1, "list": 4, "create": 2.5}, q)
	q, err = ParseQPS("")
	require.NoError(t, err)
	assert.Empty(t, q)
	for _, bad := range []string{"delete", "delete=0", "delete=x", "nosuch=1"} {
		_, err := ParseQPS(bad)
		assert.Error(t, err, bad)
	}
	f, err := ParseFaults("5xx=0.1,reset=0.05,429=0.1,slow=0.05,verifying=0.2,slow_delay=50ms")
	require.NoError(t, err)
	assert.Equal(t, Faults{P5xx: 0.1, Reset: 0.05, TooMany: 0.1, Slow: 0.05, Verifying: 0.2, SlowDelay: 50 * time.Millisecond}, f)
	g, err := ParseFaults(f.String())
	require.NoError(t, err)
	assert.Equal(t, f, g)
	for _, bad := range []string{"5xx=2", "5xx=-1", "boom=0.1", "reset", "slow_delay=fast"} {
		_, err := ParseFaults(bad)
		assert.Error(t, err, bad)
	}
}

func TestQPS(t *testing.T) {
	for _, http429 := range []bool{false, true} {
		e := newEnv(t, Config{QPS: map[string]float64{"list": 2}, HTTP429: http429})
		body := map[string]any{"limit": 1, "type": 1}
		codes := []int{}
		statuses := []int{}
		for range 5 {
			resp, b, err := e.do("POST", wire.PathList, body, nil)
			require.NoError(t, err)
			var env wire.Envelope
			require.NoError(t, json.Unmarshal(b, &env))
			codes = append(codes, env.Code)
			statuses = append(statuses, resp.StatusCode)
		}
		assert.Equal(t, []int{0, 0, 429, 429, 429}, codes, "burst of 2, then refused")
		if http429 {
			assert.Equal(t, []int{200, 200, 429, 429, 429}, statuses)
		} else {
			assert.Equal(t, []int{200, 200, 200, 200, 200}, statuses)
		}
		assert.EqualValues(t, 3, e.s.Stats().RateLimited)
		// Other endpoints are not limited; the bucket refills.
		e.ok("POST", wire.PathMkdir, map[string]any{"name": "x", "parentID": "", "type": 1}, nil)
		time.Sleep(600 * time.Millisecond)
		assert.Equal(t, 0, e.call("POST", wire.PathList, body, nil).Code)
		// Lifted at run time through the admin endpoint.
		e.admin("qps", "")
		for range 5 {
			assert.Equal(t, 0, e.call("POST", wire.PathList, body, nil).Code)
		}
		e.admin("qps", "list=1")
		assert.Equal(t, 0, e.call("POST", wire.PathList, body, nil).Code)
		_, b, err := e.do("POST", wire.PathList, body, nil)
		require.NoError(t, err)
		assert.Contains(t, string(b), `"code":429`)
	}
}

func TestFaultKinds(t *testing.T) {
	e := newEnv(t, Config{SliceSize: 100})
	list := map[string]any{"limit": 1, "type": 1}
	f0 := e.s.Stats().Faults

	e.s.SetFaults(Faults{TooMany: 1})
	assert.Equal(t, 429, e.call("POST", wire.PathList, list, nil).Code)

	e.s.SetFaults(Faults{Verifying: 1})
	assert.Equal(t, 0, e.call("POST", wire.PathList, list, nil).Code, "verifying only strikes upload completion")
	env := e.call("POST", wire.PathUploadAsyncResult, map[string]string{"preuploadID": "x"}, nil)
	assert.Equal(t, wire.CodeVerifying, env.Code)

	e.s.SetFaults(Faults{Slow: 1, SlowDelay: 300 * time.Millisecond})
	slow0 := e.s.Stats().Faults
	t0 := time.Now()
	assert.Equal(t, 0, e.call("POST", wire.PathList, list, nil).Code, "a slow answer is still an answer")
	assert.GreaterOrEqual(t, time.Since(t0), 300*time.Millisecond, "the answer waited SlowDelay (a lower bound only)")
	assert.Equal(t, slow0+1, e.s.Stats().Faults, "the call was counted as a fault")

	// 5xx: every call fails; about half of them were applied anyway.
	e.s.SetFaults(Faults{P5xx: 1})
	nonJSON := 0
	for i := range 20 {
		resp, b, err := e.do("POST", wire.PathMkdir, map[string]any{"name": "d" + string(rune('a'+i)), "parentID": "", "type": 1}, nil)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, resp.StatusCode, 500)
		if !json.Valid(b) {
			nonJSON++
		}
	}
	assert.Positive(t, nonJSON, "some 5xx answers are not JSON")
	e.s.SetFaults(Faults{})
	applied := len(e.listAll(""))
	assert.True(t, applied > 0 && applied < 20, "some but not all 5xx calls were applied, got %d", applied)

	// Reset: the connection dies without an answer.
	e.admin("faults", "reset=1")
	for range 6 {
		_, _, err := e.do("POST", wire.PathList, list, nil)
		assert.Error(t, err)
	}
	// Slice PUTs get faults too.
	e.admin("faults", "")
	c := e.create("", "f.jpg", []byte("abc"))
	u := e.uploadURL(c.PreuploadID, 1)
	e.admin("faults", `{"TooMany": 1}`)
	assert.Equal(t, http.StatusTooManyRequests, e.put(u, []byte("abc"), nil))
	e.admin("faults", "5xx=1")
	assert.GreaterOrEqual(t, e.put(u, []byte("abc"), nil), 500)
	e.admin("faults", "")
	// Admin and downloads are never faulted or counted as API calls.
	assert.Equal(t, http.StatusOK, e.put(u, []byte("abc"), nil))
	st := e.s.Stats()
	assert.EqualValues(t, f0+1+1+1+20+6+2, st.Faults)
	for k := range st.Calls {
		assert.False(t, strings.HasPrefix(k, "POST /__emulator"), k)
	}
}

func TestStats(t *testing.T) {
	e := newEnv(t, Config{})
	e.admin("stats/reset", "")
	e.mkdir("", "a")
	e.mkdir("", "b")
	e.call("POST", wire.PathDelete, map[string]any{"fileIDs": []string{"x"}}, nil)
	e.call("GET", wire.PathDetail+"?fileID=x", nil, nil)
	e.call("POST", wire.PathList, map[string]any{"limit": 1, "type": 1}, map[string]string{}) // no Platform: still counted
	resp, b := e.get("GET", e.url+"/__emulator/stats", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var st Stats
	require.NoError(t, json.Unmarshal(b, &st))
	assert.Equal(t, map[string]int64{
		"POST " + wire.PathMkdir:  2,
		"POST " + wire.PathDelete: 1,
		"GET " + wire.PathDetail:  1,
		"POST " + wire.PathList:   1,
	}, st.Calls)
	assert.Zero(t, st.Faults)
	assert.Zero(t, st.RateLimited)
	e.admin("stats/reset", "")
	assert.Empty(t, e.s.Stats().Calls)
}
