package wire

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIntAcceptsStringsAndNumbers(t *testing.T) {
	for in, want := range map[string]Int{`7`: 7, `"7"`: 7, `7.9`: 7, `" 12 "`: 12, `""`: 0, `null`: 0, `-3`: -3, `"100"`: 100} {
		var n Int
		require.NoError(t, json.Unmarshal([]byte(in), &n), "decoding %s", in)
		assert.Equal(t, want, n, "decoding %s", in)
	}
	for _, in := range []string{`"x"`, `true`, `[1]`, `"1e400"`} {
		var n Int
		assert.Error(t, json.Unmarshal([]byte(in), &n), "decoding %s", in)
	}
}

// The official example of list_upload_parts sends partNumber as a string.
func TestPartsAsTheOfficialExampleSendsThem(t *testing.T) {
	var d ListUploadPartsData
	body := `{"parts":[{"partNumber":"1","size":104857600,"etag":"a"},{"partNumber":2,"size":"5","etag":"b"}]}`
	require.NoError(t, json.Unmarshal([]byte(body), &d))
	assert.Equal(t, []Part{{PartNumber: 1, Size: 104857600, Etag: "a"}, {PartNumber: 2, Size: 5, Etag: "b"}}, d.Parts)

	b, err := json.Marshal(Part{PartNumber: 3, Size: 9, Etag: "c"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"partNumber":"3","size":9,"etag":"c"}`, string(b))
}

// Fields the docs and the examples disagree on: a string or a number.
func TestTolerantTaskFields(t *testing.T) {
	var p OfflineProcessData
	require.NoError(t, json.Unmarshal([]byte(`{"status":0,"process":"45"}`), &p))
	assert.Equal(t, Int(45), p.Process)
	require.NoError(t, json.Unmarshal([]byte(`{"status":2,"process":100}`), &p))
	assert.Equal(t, Int(100), p.Process)

	var f CopyFailData
	require.NoError(t, json.Unmarshal([]byte(`{"total":"2","list":[{"fileId":123456,"filename":"a.png"},{"fileId":"x9=","filename":"b.png"}]}`), &f))
	assert.Equal(t, Int(2), f.Total)
	assert.Equal(t, []CopyFailItem{{FileID: "123456", Filename: "a.png"}, {FileID: "x9=", Filename: "b.png"}}, f.List)

	for _, in := range []string{`{"taskID":"abc"}`, `{"taskID":781234}`} {
		var d CopyData
		require.NoError(t, json.Unmarshal([]byte(in), &d), in)
		assert.NotEmpty(t, d.TaskID, in)
	}
	var r CopyRequest
	require.NoError(t, json.Unmarshal([]byte(`{"fileIDs":["1"],"toParentFileID":"p","sourceType":1,"type":1}`), &r))
	assert.Equal(t, ID("1"), r.SourceType)
	b, err := json.Marshal(CopyRequest{SourceType: "1"})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"sourceType":"1"`)
}
