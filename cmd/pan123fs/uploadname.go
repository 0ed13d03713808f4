package main

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Upload names: put and serve name each file on 123pan by a template
// (--name), and resolve a name already taken by --on-clash.

// defaultNameTemplate keeps the file's own name.
const defaultNameTemplate = "{name}"

// nameFields are what a name template may use, with what they stand for.
var nameFields = map[string]func(f nameInput) string{
	"name": func(f nameInput) string { return f.name },
	"base": func(f nameInput) string { return strings.TrimSuffix(f.name, path.Ext(f.name)) },
	"ext":  func(f nameInput) string { return strings.TrimPrefix(path.Ext(f.name), ".") },
	"md5":  func(f nameInput) string { return f.md5 },
	"size": func(f nameInput) string { return strconv.FormatInt(f.size, 10) },
	"Y":    func(f nameInput) string { return f.now.Format("2006") },
	"y":    func(f nameInput) string { return f.now.Format("06") },
	"m":    func(f nameInput) string { return f.now.Format("01") },
	"d":    func(f nameInput) string { return f.now.Format("02") },
	"H":    func(f nameInput) string { return f.now.Format("15") },
	"M":    func(f nameInput) string { return f.now.Format("04") },
	"S":    func(f nameInput) string { return f.now.Format("05") },
	"ts":   func(f nameInput) string { return strconv.FormatInt(f.now.Unix(), 10) },
}

// nameInput is what a template is filled from.
type nameInput struct {
	name string // the local file's name
	md5  string // lowercase hex
	size int64
	now  time.Time
}

var fieldRE = regexp.MustCompile(`\{([A-Za-z][A-Za-z0-9]*)(?::([0-9]+))?\}`)

// checkNameTemplate refuses a template with an unknown field, a length on
// a field other than md5, or a path that leaves the target folder.
func checkNameTemplate(t string) error {
	for _, m := range fieldRE.FindAllStringSubmatch(t, -1) {
		if _, ok := nameFields[m[1]]; !ok {
			return fmt.Errorf("--name %q: unknown field {%s} (known: {name} {base} {ext} {md5} {md5:N} {size} {Y} {y} {m} {d} {H} {M} {S} {ts})", t, m[1])
		}
		if m[2] != "" && m[1] != "md5" {
			return fmt.Errorf("--name %q: only {md5:N} takes a length", t)
		}
	}
	probe := renderName(t, nameInput{name: "a.png", md5: strings.Repeat("0", 32), now: time.Unix(0, 0)})
	if strings.HasPrefix(probe, "/") || path.Clean(probe) != probe || strings.HasPrefix(probe, "../") || probe == ".." || probe == "." {
		return fmt.Errorf("--name %q: the name must be a relative path without . or .. parts", t)
	}
	return nil
}

// renderName fills template t; a slash in the result makes subfolders.
func renderName(t string, in nameInput) string {
	return fieldRE.ReplaceAllStringFunc(t, func(s string) string {
		m := fieldRE.FindStringSubmatch(s)
		v := nameFields[m[1]](in)
		if n, err := strconv.Atoi(m[2]); err == nil && n < len(v) {
			v = v[:n]
		}
		return v
	})
}

// suffixed is name with -n before its extension: cat.png, cat-1.png, ...
func suffixed(name string, n int) string {
	if n == 0 {
		return name
	}
	ext := path.Ext(name)
	if ext == name { // ".png" alone: the dot is not an extension
		ext = ""
	}
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(name, ext), n, ext)
}
