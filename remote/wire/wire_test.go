package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateName(t *testing.T) {
	cases := []struct {
		name string
		want error
	}{
		{"a.jpg", nil},
		{"测试图床.jpg", nil},
		{" leading space.png", nil},
		{strings.Repeat("图", 254), nil},
		{"", ErrNameEmpty},
		{"   ", ErrNameAllSpaces},
		{strings.Repeat("图", 255), ErrNameTooLong},
		{"a\xffb", ErrNameNotUTF8},
	}
	for _, c := range ForbiddenChars {
		cases = append(cases, struct {
			name string
			want error
		}{"x" + string(c) + "y", ErrNameBadChar})
	}
	for _, tc := range cases {
		err := ValidateName(tc.name)
		if tc.want == nil {
			assert.NoError(t, err, "ValidateName(%q)", tc.name)
		} else {
			assert.ErrorIs(t, err, tc.want, "ValidateName(%q)", tc.name)
		}
	}
}

func TestIDAcceptsStringsAndNumbers(t *testing.T) {
	var v struct {
		A, B, C ID
	}
	require.NoError(t, json.Unmarshal([]byte(`{"A":"x1","B":12345678901234,"C":null}`), &v))
	assert.Equal(t, ID("x1"), v.A)
	assert.Equal(t, ID("12345678901234"), v.B)
	assert.Equal(t, ID(""), v.C)
	assert.Error(t, json.Unmarshal([]byte(`{"A":{}}`), &v))
}

func TestNamesBothForms(t *testing.T) {
	var r MkdirRequest
	require.NoError(t, json.Unmarshal([]byte(`{"name":"a","parentID":"","type":1}`), &r))
	assert.Equal(t, Names{"a"}, r.Name)
	require.NoError(t, json.Unmarshal([]byte(`{"name":["a","b"],"parentID":"","type":1}`), &r))
	assert.Equal(t, Names{"a", "b"}, r.Name)
	b, err := json.Marshal(MkdirRequest{Name: Names{"x"}, Type: 1})
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"x","parentID":"","type":1}`, string(b))
	assert.Error(t, json.Unmarshal([]byte(`{"name":5}`), &r))
}

func TestFlag(t *testing.T) {
	for in, want := range map[string]bool{`true`: true, `false`: false, `1`: true, `0`: false, `"1"`: true, `null`: false} {
		var f Flag
		require.NoError(t, json.Unmarshal([]byte(in), &f), in)
		assert.Equal(t, want, bool(f), in)
	}
	var f Flag
	assert.Error(t, json.Unmarshal([]byte(`"yes"`), &f))
}

func TestTimes(t *testing.T) {
	tm, err := ParseTime("2025-03-03 16:38:26")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2025, 3, 3, 8, 38, 26, 0, time.UTC), tm.UTC())
	assert.Equal(t, "2025-03-03 16:38:26", FormatTime(tm.UTC()))
	_, err = ParseTime("yesterday")
	assert.Error(t, err)
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"a", "", " ", "a/b", strings.Repeat("x", 300), "图床"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateName(name)
		if err != nil {
			if !errors.Is(err, ErrNameEmpty) && !errors.Is(err, ErrNameTooLong) && !errors.Is(err, ErrNameBadChar) &&
				!errors.Is(err, ErrNameAllSpaces) && !errors.Is(err, ErrNameNotUTF8) {
				t.Fatalf("ValidateName(%q) = %v: not one of the name errors", name, err)
			}
			return
		}
		if strings.ContainsAny(name, ForbiddenChars) || strings.TrimSpace(name) == "" && strings.Trim(name, " ") == "" {
			t.Fatalf("ValidateName(%q) accepted a forbidden name", name)
		}
	})
}
