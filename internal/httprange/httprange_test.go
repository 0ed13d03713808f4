package httprange

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	for in, want := range map[string][3]int64{
		"bytes 0-9/100": {0, 9, 100}, "bytes 5-5/*": {5, 5, -1}, " bytes 10-19/20 ": {10, 19, 20},
	} {
		a, b, c, ok := Parse(in)
		require.True(t, ok, in)
		assert.Equal(t, want, [3]int64{a, b, c}, in)
	}
	for _, in := range []string{"", "bytes */100", "bytes 9-0/100", "bytes 0-100/100", "items 0-1/2", "bytes 1-2"} {
		_, _, _, ok := Parse(in)
		assert.False(t, ok, in)
	}
}
