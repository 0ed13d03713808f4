package emulator

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// A parsed database query: db.collection("c") followed by method calls.
// The grammar is the subset of the CloudBase SDK's source text that a
// client builds, read without evaluating anything:
//
//	query  = "db" "." "collection" "(" string ")" { "." ident "(" [ value { "," value } ] ")" } [ ";" ]
//	value  = string | number | "true" | "false" | "null" | object | array
//	object = "{" [ member { "," member } [ "," ] ] "}"
//	member = ( string | ident ) ":" value
//	array  = "[" [ value { "," value } [ "," ] ] "]"
//
// Strings take double quotes (JSON escapes) or single quotes. Values come
// out as encoding/json would decode them: string, float64, bool, nil,
// map[string]any, []any. Two query commands are read as well, `_.in(array)`
// and `_.gt(value)` (the docs' `_` is db.command), as a command: plan.go
// takes them only as the value of a field of where(). Anything else
// (_.inc, _.lt, db.command, new Date(), regular expressions) is a syntax
// error.
//
//	value += "_" "." ( "in" "(" array ")" | "gt" "(" value ")" )
type parsedQuery struct {
	collection string
	calls      []call
}

// call is one method call of the chain.
type call struct {
	name string
	args []any
}

// parseQuery parses src by the grammar above.
func parseQuery(src string) (parsedQuery, error) {
	p := &parser{src: src}
	var q parsedQuery
	for _, word := range []string{"db", ".", "collection", "("} {
		if err := p.expect(word); err != nil {
			return q, err
		}
	}
	name, err := p.value()
	if err != nil {
		return q, err
	}
	s, isString := name.(string)
	if !isString || s == "" {
		return q, p.errorf("collection name must be a non-empty string")
	}
	q.collection = s
	if err := p.expect(")"); err != nil {
		return q, err
	}
	for {
		p.space()
		if p.done() || p.peek() == ';' {
			break
		}
		if err := p.expect("."); err != nil {
			return q, err
		}
		c, err := p.call()
		if err != nil {
			return q, err
		}
		q.calls = append(q.calls, c)
	}
	if !p.done() {
		p.pos++ // the ';'
		if p.space(); !p.done() {
			return q, p.errorf("text after the query")
		}
	}
	return q, nil
}

// parser walks src; pos is the next byte.
type parser struct {
	src string
	pos int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("query syntax at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) done() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte { return p.src[p.pos] }

func (p *parser) space() {
	for !p.done() && strings.IndexByte(" \t\r\n", p.peek()) >= 0 {
		p.pos++
	}
}

// expect skips space and then word, or fails.
func (p *parser) expect(word string) error {
	p.space()
	if !strings.HasPrefix(p.src[p.pos:], word) {
		return p.errorf("want %q", word)
	}
	p.pos += len(word)
	return nil
}

// accept skips space and then c if it is next.
func (p *parser) accept(c byte) bool {
	p.space()
	if !p.done() && p.peek() == c {
		p.pos++
		return true
	}
	return false
}

func isIdentByte(c byte, first bool) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

// ident reads an identifier.
func (p *parser) ident() (string, error) {
	p.space()
	start := p.pos
	for !p.done() && isIdentByte(p.peek(), p.pos == start) {
		p.pos++
	}
	if p.pos == start {
		return "", p.errorf("want a name")
	}
	return p.src[start:p.pos], nil
}

// call reads name(args).
func (p *parser) call() (call, error) {
	name, err := p.ident()
	if err != nil {
		return call{}, err
	}
	c := call{name: name}
	if err := p.expect("("); err != nil {
		return c, err
	}
	if p.accept(')') {
		return c, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return c, err
		}
		c.args = append(c.args, v)
		if p.accept(')') {
			return c, nil
		}
		if !p.accept(',') {
			return c, p.errorf("want ',' or ')' in the arguments of %s", name)
		}
	}
}

// value reads one value.
func (p *parser) value() (any, error) {
	p.space()
	if p.done() {
		return nil, p.errorf("want a value")
	}
	switch c := p.peek(); {
	case c == '"' || c == '\'':
		return p.str()
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	word, err := p.ident()
	if err != nil {
		return nil, err
	}
	switch word {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	case "_":
		return p.command()
	}
	return nil, p.errorf("unsupported expression %q", word)
}

// command is a query command of where(): `_.in([...])` (the field equals
// one of args) or `_.gt(v)` (the field is greater than args[0], in
// compareValues' order).
type command struct {
	op   string // "in" or "gt"
	args []any
}

// command reads the rest of `_.in(array)` or `_.gt(value)`, after the "_".
func (p *parser) command() (command, error) {
	if err := p.expect("."); err != nil {
		return command{}, err
	}
	name, err := p.ident()
	if err != nil {
		return command{}, err
	}
	if name != "in" && name != "gt" {
		return command{}, p.errorf("unsupported command _.%s", name)
	}
	if err := p.expect("("); err != nil {
		return command{}, err
	}
	p.space()
	c := command{op: name}
	if name == "in" {
		if p.done() || p.peek() != '[' {
			return command{}, p.errorf("_.in() takes an array")
		}
		if c.args, err = p.array(); err != nil {
			return command{}, err
		}
	} else {
		v, err := p.value()
		if err != nil {
			return command{}, err
		}
		if hasCommand(v) {
			return command{}, p.errorf("_.gt() takes a plain value")
		}
		c.args = []any{v}
	}
	if err := p.expect(")"); err != nil {
		return command{}, err
	}
	return c, nil
}

// str reads a quoted string. A single-quoted one is rewritten as JSON
// (\' becomes ', a bare " becomes \") and decoded like a double-quoted one.
func (p *parser) str() (string, error) {
	quote := p.peek()
	var b strings.Builder
	b.WriteByte('"')
	for i := p.pos + 1; i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case c == quote:
			p.pos = i + 1
			b.WriteByte('"')
			var s string
			if err := json.Unmarshal([]byte(b.String()), &s); err != nil {
				return "", p.errorf("bad string: %v", err)
			}
			return s, nil
		case c == '\\' && i+1 < len(p.src):
			i++
			if p.src[i] == '\'' {
				b.WriteByte('\'')
			} else {
				b.WriteByte('\\')
				b.WriteByte(p.src[i])
			}
		case c == '"':
			b.WriteString(`\"`)
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errorf("unterminated string")
}

// number reads a JSON number.
func (p *parser) number() (float64, error) {
	start := p.pos
	for !p.done() && strings.IndexByte("+-.eE0123456789", p.peek()) >= 0 {
		p.pos++
	}
	text := p.src[start:p.pos]
	if !json.Valid([]byte(text)) {
		return 0, p.errorf("bad number %q", text)
	}
	return strconv.ParseFloat(text, 64)
}

// object reads {member, ...}.
func (p *parser) object() (map[string]any, error) {
	p.pos++ // '{'
	m := map[string]any{}
	for {
		if p.accept('}') {
			return m, nil
		}
		p.space()
		var key string
		var err error
		if !p.done() && (p.peek() == '"' || p.peek() == '\'') {
			key, err = p.str()
		} else {
			key, err = p.ident()
		}
		if err != nil {
			return nil, err
		}
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		if m[key], err = p.value(); err != nil {
			return nil, err
		}
		if !p.accept(',') {
			if p.accept('}') {
				return m, nil
			}
			return nil, p.errorf("want ',' or '}' in an object")
		}
	}
}

// array reads [value, ...].
func (p *parser) array() ([]any, error) {
	p.pos++ // '['
	list := []any{}
	for {
		if p.accept(']') {
			return list, nil
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		if !p.accept(',') {
			if p.accept(']') {
				return list, nil
			}
			return nil, p.errorf("want ',' or ']' in an array")
		}
	}
}
