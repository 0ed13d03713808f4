package wire

import (
	"errors"
	"strings"
	"testing"
)

func TestValidatePath(t *testing.T) {
	cases := []struct {
		path string
		ok   bool
	}{
		{"a", true},
		{"pan123fs/6f3e/3.jpg", true},
		{"中文/名字 with space,;=&$@+?", true},
		{strings.Repeat("x", MaxPathBytes), true},
		{"", false},
		{"/a", false},
		{"a//b", false},
		{strings.Repeat("x", MaxPathBytes+1), false},
		{"a\x18b", false},
		{"a\x19b", false},
		{"a\x1ab", false},
		{"a\x1bb", false},
		{"a\x17b\x1c", true},
	}
	for _, c := range cases {
		err := ValidatePath(c.path)
		if (err == nil) != c.ok {
			t.Errorf("ValidatePath(%q) = %v, want ok=%v", c.path, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidPath) {
			t.Errorf("ValidatePath(%q) = %v, does not wrap ErrInvalidPath", c.path, err)
		}
	}
}

func TestFileIDRoundTrip(t *testing.T) {
	b := Bucket("test2-4a89da")
	if b != "7465-test2-4a89da-1250000000" {
		t.Fatalf("Bucket = %q", b)
	}
	id := FileID("test2-4a89da", b, "dir/a.b/c.jpg")
	if id != "cloud://test2-4a89da.7465-test2-4a89da-1250000000/dir/a.b/c.jpg" {
		t.Fatalf("FileID = %q", id)
	}
	env, bucket, path, err := ParseFileID(id)
	if err != nil || env != "test2-4a89da" || bucket != b || path != "dir/a.b/c.jpg" {
		t.Fatalf("ParseFileID(%q) = %q, %q, %q, %v", id, env, bucket, path, err)
	}
	for _, bad := range []string{"", "http://x/y", "cloud://", "cloud://env", "cloud://env.bucket", "cloud://env.bucket/", "cloud://.b/p"} {
		if _, _, _, err := ParseFileID(bad); err == nil {
			t.Errorf("ParseFileID(%q): no error", bad)
		}
	}
}

func TestEnvelopeErr(t *testing.T) {
	if err := (Envelope{}).Err(); err != nil {
		t.Fatalf("errcode 0: %v", err)
	}
	err := Envelope{ErrCode: CodeTokenExpired, ErrMsg: "access_token expired"}.Err()
	var we *Error
	if !errors.As(err, &we) || we.Code != CodeTokenExpired {
		t.Fatalf("Err() = %v, want *Error with code %d", err, CodeTokenExpired)
	}
}
