package main

import (
	"fmt"
	"html"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// placeholder matches a {word} of a --template.
var placeholder = regexp.MustCompile(`\{[a-z0-9]+\}`)

// placeholders are the words a template may name.
var placeholders = map[string]bool{"{url}": true, "{name}": true, "{base}": true, "{ext}": true,
	"{path}": true, "{size}": true, "{md5}": true, "{id}": true}

// checkTemplate refuses a template that names an unknown placeholder, so
// that a typo fails at once instead of printing "{nmae}" for every file.
func checkTemplate(t string) error {
	for _, m := range placeholder.FindAllString(t, -1) {
		if !placeholders[m] {
			return fmt.Errorf("unknown placeholder %s (known: {url} {name} {base} {ext} {path} {size} {md5} {id})", m)
		}
	}
	return nil
}

// linkFacts are what a template may print of one file.
type linkFacts struct {
	url, name, path, md5, id string
	size                     int64
}

// readLinkFacts reads p's link (which: download or custom) and, of the
// rest of its facts, those tmpl names: each costs a call through the
// mount ({id}, {md5}: an attribute; {size}: a stat; {path}: an attribute of
// each folder up to the mount's root).
func readLinkFacts(p, which, tmpl string) (linkFacts, error) {
	attr := "user.pan123.url"
	if which == "custom" {
		attr = "user.pan123.customurl"
	}
	link, err := getxattr(p, attr)
	if err != nil {
		if which == "custom" {
			if _, derr := fileURL(p); derr == nil {
				err = fmt.Errorf("no custom-domain link (the account has no custom domain; --link download gives the download link)")
			}
		}
		return linkFacts{}, err
	}
	l := linkFacts{url: link, name: filepath.Base(p)}
	uses := func(word string) bool { return strings.Contains(tmpl, word) }
	if uses("{id}") {
		if l.id, err = getxattr(p, "user.pan123.id"); err != nil {
			return linkFacts{}, err
		}
	}
	if uses("{md5}") {
		if l.md5, err = getxattr(p, "user.pan123.etag"); err != nil {
			return linkFacts{}, err
		}
	}
	if uses("{size}") {
		fi, err := os.Stat(p)
		if err != nil {
			return linkFacts{}, err
		}
		l.size = fi.Size()
	}
	if uses("{path}") {
		if _, l.path, err = mountOf(p); err != nil {
			return linkFacts{}, err
		}
	}
	return l, nil
}

// render fills the template: the link percent-encoded when encode is set,
// every value HTML-escaped when escapeHTML is.
func (l linkFacts) render(tmpl string, encode, escapeHTML bool) string {
	link := l.url
	if encode {
		link = encodeURL(link)
	}
	ext := strings.TrimPrefix(path.Ext(l.name), ".")
	vals := map[string]string{
		"{url}": link, "{name}": l.name, "{base}": strings.TrimSuffix(l.name, path.Ext(l.name)),
		"{ext}": ext, "{path}": l.path, "{size}": strconv.FormatInt(l.size, 10), "{md5}": l.md5, "{id}": l.id,
	}
	return placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		v := vals[m]
		if escapeHTML {
			v = html.EscapeString(v)
		}
		return v
	})
}

// encodeURL percent-encodes what a URL may not hold as it is (spaces,
// non-ASCII letters), leaving what is already valid, escapes included; a
// link that is no URL is left as it is.
func encodeURL(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	return u.String()
}

// formatLink writes link, the link of a file called name, in format (a key
// of formats, checked by the caller), as url --format does.
func formatLink(format, name, link string) string {
	return linkFacts{url: link, name: name}.render(formats[format], false, format == "html")
}
