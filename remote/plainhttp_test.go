package remote

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	for _, tc := range []struct {
		base     string
		insecure bool
		refused  bool
	}{
		{"http://open-api.123pan.com", false, true},
		{"http://192.0.2.7:8080", false, true},
		{"http://[2001:db8::1]:80", false, true},
		{"http://localhost.example", false, true},
		{"http://open-api.123pan.com", true, false},
		{"http://192.0.2.7:8080", true, false},
		{"https://open-api.123pan.com", false, false},
		{"http://127.0.0.1:8123", false, false},
		{"http://127.3.4.5", false, false},
		{"http://[::1]:8123", false, false},
		{"http://localhost:8123", false, false},
		{"http://LOCALHOST.:8123", false, false},
	} {
		_, err := New(Config{BaseURL: tc.base, InsecureHTTP: tc.insecure})
		if !tc.refused {
			assert.NoError(t, err, "New(%s, InsecureHTTP %v)", tc.base, tc.insecure)
			continue
		}
		require.Error(t, err, "New(%s, InsecureHTTP %v)", tc.base, tc.insecure)
		assert.ErrorIs(t, err, ErrPlainHTTP, tc.base)
		assert.Contains(t, err.Error(), "unencrypted", tc.base)
	}
}
