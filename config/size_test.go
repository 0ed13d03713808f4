package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "1048576", want: 1 << 20},
		{in: "512B", want: 512},
		{in: "4K", want: 4096},
		{in: "512M", want: 512 << 20},
		{in: "2G", want: 2 << 30},
		{in: "1T", want: 1 << 40},
		{in: "64KiB", want: 64 << 10},
		{in: "256MiB", want: 256 << 20},
		{in: "2GiB", want: 2 << 30},
		{in: "3TiB", want: 3 << 40},
		{in: "5kB", want: 5000},
		{in: "5KB", want: 5000},
		{in: "7MB", want: 7_000_000},
		{in: "2GB", want: 2_000_000_000},
		{in: "1TB", want: 1_000_000_000_000},
		{in: " 2 GiB ", want: 2 << 30},
		{in: "1.5GiB", want: 3 << 29},
		{in: "0.5K", want: 512},
		{in: "8388607TiB", want: 8388607 << 40},
		{in: "1.5", bad: true},        // half a byte
		{in: "0.0001K", bad: true},    // a fraction of a byte
		{in: "-1", bad: true},         // negative
		{in: "-1GiB", bad: true},      // negative
		{in: "8388608TiB", bad: true}, // 2^63: overflow
		{in: "9223372036854775808", bad: true},
		{in: "", bad: true},
		{in: "GiB", bad: true},
		{in: "2 gigabytes", bad: true},
		{in: "2gib", bad: true},
		{in: "1.2.3M", bad: true},
		{in: ".5M", bad: true},
		{in: "5.M", bad: true},
		{in: "0x10", bad: true},
		{in: "1e6", bad: true},
		{in: "2PiB", bad: true},
	} {
		got, err := ParseSize(tc.in)
		if tc.bad {
			assert.Error(t, err, "ParseSize(%q) = %d, want an error", tc.in, got)
			continue
		}
		if assert.NoError(t, err, "ParseSize(%q)", tc.in) {
			assert.Equal(t, tc.want, got, "ParseSize(%q)", tc.in)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{0, "0"}, {1, "1"}, {1000, "1kB"}, {1024, "1KiB"}, {1 << 20, "1MiB"}, {1 << 30, "1GiB"},
		{3 << 29, "1536MiB"}, {5_000_000, "5MB"}, {1 << 40, "1TiB"}, {1025, "1025"},
	} {
		assert.Equal(t, tc.want, FormatSize(tc.in), "FormatSize(%d)", tc.in)
		back, err := ParseSize(FormatSize(tc.in))
		assert.NoError(t, err)
		assert.Equal(t, tc.in, back, "ParseSize(FormatSize(%d))", tc.in)
	}
}

// A Size is a flag value: Set stores through the pointer, String prints
// what --help shows as the default, and garbage leaves the value alone.
func TestSizeValue(t *testing.T) {
	var n int64
	v := NewSize(&n, 1<<30)
	assert.Equal(t, "1GiB", v.String())
	assert.NoError(t, v.Set("512M"))
	assert.Equal(t, int64(512<<20), n)
	assert.Error(t, v.Set("lots"))
	assert.Equal(t, int64(512<<20), n)
	assert.Equal(t, "size", v.Type())
}
