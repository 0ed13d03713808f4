package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRates(t *testing.T) {
	known := []string{"create", "delete", "list"}
	got, err := ParseRates(" delete=1, list=4,,create=2.5 ", known, false)
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"delete": 1, "list": 4, "create": 2.5}, got)
	got, err = ParseRates("", known, false)
	require.NoError(t, err)
	assert.Empty(t, got)
	got, err = ParseRates("list=0", known, true)
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"list": 0}, got, "0 = unlimited where allowed")
	for _, bad := range []string{"list=0", "list", "nope=1", "list=-1", "list=x", "=3"} {
		_, err := ParseRates(bad, known, false)
		assert.Error(t, err, bad)
	}
}
