package emulator

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// IDs are shaped like real ones: 52–57 characters, mixed case, some ending
// in "="; preuploadIDs long, with "/". Each one addresses its entry exactly.
func TestIDsShapedLikeRealOnes(t *testing.T) {
	e := newEnv(t, Config{})
	var padded, upper, lower int
	for i := range 40 {
		id := e.mkdir("", fmt.Sprintf("d%02d", i))
		assert.GreaterOrEqual(t, len(id), 52, "ID %q", id)
		assert.LessOrEqual(t, len(id), 57, "ID %q", id)
		if strings.HasSuffix(id, "=") {
			padded++
		}
		if strings.ContainsFunc(id, unicode.IsUpper) {
			upper++
		}
		if strings.ContainsFunc(id, unicode.IsLower) {
			lower++
		}
		assert.Equal(t, wire.ID(id), e.detail(id).FileID, "detail of %q", id)
	}
	assert.Positive(t, padded, "some IDs end in =")
	assert.Equal(t, 40, upper, "every ID has upper case")
	assert.Equal(t, 40, lower, "every ID has lower case")
	root := e.detail(e.mkdir("", "x")).ParentFileID
	assert.GreaterOrEqual(t, len(root), 52, "the root's ID %q", root)

	c := e.create("", "p.png", []byte("png"))
	assert.Contains(t, c.PreuploadID, "/", "preuploadID %q", c.PreuploadID)
	assert.Greater(t, len(c.PreuploadID), 64, "preuploadID %q", c.PreuploadID)
	// The presigned URL carries it escaped, and a PUT to it works.
	u := e.uploadURL(c.PreuploadID, 1)
	assert.Contains(t, u, url.PathEscape(c.PreuploadID), "presigned URL %s", u)
	require.Equal(t, 200, e.put(u, []byte("png"), nil))
	var d wire.UploadCompleteData
	e.ok("POST", wire.PathUploadComplete, map[string]string{"preuploadID": c.PreuploadID}, &d)
	assert.True(t, bool(d.Completed))
}

// IDs compare as exact strings: another case, or the ID unescaped the way
// a "+" or "=" would be mangled, addresses nothing.
func TestIDsCompareExactly(t *testing.T) {
	e := newEnv(t, Config{})
	id := e.mkdir("", "d")
	for _, other := range []string{strings.ToLower(id), strings.ToUpper(id), strings.TrimRight(id, "=") + "x", id + " "} {
		if other == id {
			continue
		}
		e.fail(wire.CodeNotFound, "GET", wire.PathDetail+"?"+url.Values{"fileID": {other}}.Encode(), nil)
	}
	e.ok("GET", wire.PathDetail+"?"+url.Values{"fileID": {id}}.Encode(), nil, nil)
	e.fail(1, "POST", wire.PathListUploadParts, map[string]string{"preuploadID": strings.Repeat("a/b+", 30)})
}
