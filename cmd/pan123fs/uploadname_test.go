package main

import (
	"testing"
	"time"
)

func TestRenderName(t *testing.T) {
	in := nameInput{name: "cat.photo.png", md5: "0123456789abcdef0123456789abcdef", size: 42,
		now: time.Date(2026, 3, 7, 9, 5, 1, 0, time.UTC)}
	for _, c := range []struct{ tmpl, want string }{
		{"{name}", "cat.photo.png"},
		{"{base}.{ext}", "cat.photo.png"},
		{"{Y}/{m}/{d}/{md5:8}.{ext}", "2026/03/07/01234567.png"},
		{"{y}{m}{d}{H}{M}{S}-{size}-{md5}", "260307090501-42-0123456789abcdef0123456789abcdef"},
		{"{ts}.{ext}", "1772874301.png"},
	} {
		if err := checkNameTemplate(c.tmpl); err != nil {
			t.Errorf("checkNameTemplate(%q): %v", c.tmpl, err)
		}
		if got := renderName(c.tmpl, in); got != c.want {
			t.Errorf("renderName(%q) = %q, want %q", c.tmpl, got, c.want)
		}
	}
	for _, bad := range []string{"{nope}", "{name:3}", "/{name}", "../{name}", "{Y}/../../{name}"} {
		if checkNameTemplate(bad) == nil {
			t.Errorf("checkNameTemplate(%q) accepted", bad)
		}
	}
}

func TestSuffixed(t *testing.T) {
	for _, c := range []struct {
		name string
		n    int
		want string
	}{{"cat.png", 0, "cat.png"}, {"cat.png", 2, "cat-2.png"}, {"README", 1, "README-1"}, {".png", 1, ".png-1"}} {
		if got := suffixed(c.name, c.n); got != c.want {
			t.Errorf("suffixed(%q, %d) = %q, want %q", c.name, c.n, got, c.want)
		}
	}
}
