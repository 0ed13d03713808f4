package main

import (
	"html"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// The image links of a Markdown or HTML file, as migrate finds and
// rewrites them: inline Markdown images ![alt](URL "title"), reference
// images ![alt][label] through their definitions [label]: URL, and HTML
// <img src="URL">. Links inside fenced code blocks and inline code are
// examples, not images, and are left alone; so are links that are not
// http(s) (relative paths, data: URLs).

// imageLink is one image link in a text: its URL, and where the text
// holds it (text[start:end], as written, HTML-escaped in an <img> tag).
type imageLink struct {
	url        string
	start, end int
	html       bool // inside an HTML attribute: written escaped
}

var (
	// mdInline: ![alt](URL) or ![alt](<URL>) (which may hold spaces),
	// with an optional title; group 1 or 2 is the URL.
	mdInline = regexp.MustCompile(`!\[[^\]]*\]\(\s*(?:<([^<>\n]+)>|([^)\s<>]+))(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)`)
	// mdRefUse: ![alt][label], ![alt][] and ![alt]; groups: alt, label.
	mdRefUse = regexp.MustCompile(`!\[([^\]]*)\](?:\[([^\]]*)\])?`)
	// mdRefDef: [label]: URL or [label]: <URL> at the start of a line;
	// groups: label, then the URL in 2 or 3.
	mdRefDef = regexp.MustCompile(`(?m)^ {0,3}\[([^\]]+)\]:[ \t]*(?:<([^<>\n]+)>|([^\s<>]+))`)
	// htmlImgSrc: the src of an <img> tag, quoted either way or bare.
	htmlImgSrc = regexp.MustCompile(`(?is)<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))`)
	// fence opens or closes a fenced code block.
	fence = regexp.MustCompile("(?m)^ {0,3}(```|~~~)")
	// inlineCode is a code span of one or more backticks.
	inlineCode = regexp.MustCompile("(`+)[^`]+?(`+)")
)

// findImageLinks gives text's http(s) image links in the order they
// appear.
func findImageLinks(text string) []imageLink {
	code := codeRanges(text)
	var out []imageLink
	add := func(raw string, start, end int, inHTML bool) {
		if inRanges(code, start) {
			return
		}
		u := raw
		if inHTML {
			u = html.UnescapeString(raw)
		}
		if !isWebURL(u) {
			return
		}
		out = append(out, imageLink{url: u, start: start, end: end, html: inHTML})
	}
	for _, m := range mdInline.FindAllStringSubmatchIndex(text, -1) {
		g := firstGroup(m, 1, 2)
		add(text[m[g]:m[g+1]], m[g], m[g+1], false)
	}
	used := map[string]bool{}
	for _, m := range mdRefUse.FindAllStringSubmatchIndex(text, -1) {
		if inRanges(code, m[0]) || (m[1] < len(text) && text[m[1]] == '(') {
			continue // an inline image, found above
		}
		label := text[m[2]:m[3]]
		if m[4] >= 0 && m[5] > m[4] {
			label = text[m[4]:m[5]]
		}
		used[normLabel(label)] = true
	}
	for _, m := range mdRefDef.FindAllStringSubmatchIndex(text, -1) {
		if used[normLabel(text[m[2]:m[3]])] {
			g := firstGroup(m, 2, 3)
			add(text[m[g]:m[g+1]], m[g], m[g+1], false)
		}
	}
	for _, m := range htmlImgSrc.FindAllStringSubmatchIndex(text, -1) {
		g := firstGroup(m, 1, 3)
		add(text[m[g]:m[g+1]], m[g], m[g+1], true)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

// rewriteLinks replaces each link whose URL has an entry in to with that
// entry, and tells how many it replaced.
func rewriteLinks(text string, links []imageLink, to map[string]string) (string, int) {
	var b strings.Builder
	last, n := 0, 0
	for _, l := range links {
		nu, ok := to[l.url]
		if !ok {
			continue
		}
		if l.html {
			nu = html.EscapeString(nu)
		}
		b.WriteString(text[last:l.start])
		b.WriteString(nu)
		last = l.end
		n++
	}
	b.WriteString(text[last:])
	return b.String(), n
}

// isWebURL tells whether u is an absolute http(s) URL.
func isWebURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// normLabel is a reference label as Markdown matches it: case and runs of
// spaces do not count.
func normLabel(l string) string {
	return strings.ToLower(strings.Join(strings.Fields(l), " "))
}

// codeRanges are the byte ranges of text that are code: fenced blocks
// (an unclosed fence runs to the end) and inline code spans.
func codeRanges(text string) [][2]int {
	var out [][2]int
	fences := fence.FindAllStringSubmatchIndex(text, -1)
	for i := 0; i < len(fences); i += 2 {
		end := len(text)
		if i+1 < len(fences) {
			end = fences[i+1][1]
		}
		out = append(out, [2]int{fences[i][0], end})
	}
	for _, m := range inlineCode.FindAllStringSubmatchIndex(text, -1) {
		if m[3]-m[2] == m[5]-m[4] && !inRanges(out, m[0]) {
			out = append(out, [2]int{m[0], m[1]})
		}
	}
	return out
}

// firstGroup is the index in a submatch index slice m of the first of
// groups from..to that matched.
func firstGroup(m []int, from, to int) int {
	for g := from; g < to; g++ {
		if m[2*g] >= 0 {
			return 2 * g
		}
	}
	return 2 * to
}

func inRanges(rs [][2]int, at int) bool {
	for _, r := range rs {
		if at >= r[0] && at < r[1] {
			return true
		}
	}
	return false
}
