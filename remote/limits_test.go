package remote

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLimits(t *testing.T) {
	got, err := ParseLimits("create=10, list=0,delete=0.5")
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"create": 10, "list": 0, "delete": 0.5}, got)
	for _, bad := range []string{"create", "nosuch=1", "list=-1", "list=fast"} {
		_, err := ParseLimits(bad)
		assert.Error(t, err, "ParseLimits(%q)", bad)
	}
}
