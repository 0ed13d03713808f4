package pan123

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNameMappingRoundTrips(t *testing.T) {
	cases := map[string]string{
		"plain.jpg":      "plain.jpg",
		`a:b*c?.png`:     "a：b＊c？.png",
		`q"\|<>.gif`:     "q＂＼｜＜＞.gif",
		"图：1.png":        "图‛：1.png",
		"‛：":             "‛‛‛：",
		"lone‛quote.jpg": "lone‛quote.jpg",
	}
	for local, remote := range cases {
		assert.Equal(t, remote, encodeName(local), "encodeName(%q)", local)
		assert.Equal(t, local, decodeName(remote), "decodeName(%q)", remote)
	}
}

func FuzzNameMapping(f *testing.F) {
	for _, s := range []string{"a:b", "图：1", "‛", "‛‛：", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, local string) {
		if got := decodeName(encodeName(local)); got != local {
			t.Fatalf("decodeName(encodeName(%q)) = %q", local, got)
		}
		if strings.ContainsAny(encodeName(local), `":*?|<>\`) {
			t.Fatalf("encodeName(%q) = %q keeps a forbidden character", local, encodeName(local))
		}
	})
}
