package emulator

import (
	"fmt"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// Actions, the last call of a query; each endpoint takes its own.
const (
	actGet    = "get"    // databasequery
	actCount  = "count"  // databasecount
	actAdd    = "add"    // databaseadd
	actUpdate = "update" // databaseupdate
	actSet    = "set"    // databaseupdate, with doc()
	actRemove = "remove" // databasedelete
)

// actionsOf says which actions each database endpoint runs.
var actionsOf = map[string][]string{
	wire.PathDatabaseQuery:  {actGet},
	wire.PathDatabaseCount:  {actCount},
	wire.PathDatabaseAdd:    {actAdd},
	wire.PathDatabaseUpdate: {actUpdate, actSet},
	wire.PathDatabaseDelete: {actRemove},
}

// plan is a checked query: what to select and what to do with it.
type plan struct {
	collection string
	docID      string // doc("id"); "" with hasDoc false = none
	hasDoc     bool
	where      map[string]any // nil = every document
	orders     []order
	skip       int
	limit      int
	action     string
	data       []map[string]any // add: the documents; update, set: one
}

// order is one orderBy.
type order struct {
	field string
	desc  bool
}

// makePlan checks q's calls: where, doc, orderBy, skip, limit in any order
// (each once, orderBy repeatable, never both where and doc), then exactly one
// action as the last call, of those the endpoint takes.
func makePlan(q parsedQuery, allowed []string) (plan, error) {
	pl := plan{collection: q.collection, limit: wire.DefaultQueryLimit}
	if len(q.calls) == 0 {
		return pl, fmt.Errorf("no action")
	}
	seen := map[string]bool{}
	for _, c := range q.calls[:len(q.calls)-1] {
		if seen[c.name] && c.name != "orderBy" {
			return pl, fmt.Errorf("%s given twice", c.name)
		}
		seen[c.name] = true
		if err := pl.modifier(c); err != nil {
			return pl, err
		}
	}
	if pl.hasDoc && pl.where != nil {
		return pl, fmt.Errorf("doc() and where() together")
	}
	last := q.calls[len(q.calls)-1]
	for _, a := range allowed {
		if last.name == a {
			return pl, pl.setAction(last, seen)
		}
	}
	return pl, fmt.Errorf("%s() is not an action of this endpoint (want %v)", last.name, allowed)
}

// modifier applies one call before the action.
func (pl *plan) modifier(c call) error {
	switch c.name {
	case "where":
		m, ok := oneObject(c)
		if !ok {
			return fmt.Errorf("where() takes one object")
		}
		for k, v := range m {
			if _, isCmd := v.(command); !isCmd && hasCommand(v) {
				return fmt.Errorf("where(): _.in() and _.gt() only as the value of a field (%s)", k)
			}
		}
		pl.where = m
	case "doc":
		id, ok := oneString(c)
		if !ok || id == "" {
			return fmt.Errorf("doc() takes one non-empty string")
		}
		pl.docID, pl.hasDoc = id, true
	case "orderBy":
		if len(c.args) != 2 {
			return fmt.Errorf("orderBy() takes a field and a direction")
		}
		field, ok1 := c.args[0].(string)
		dir, ok2 := c.args[1].(string)
		if !ok1 || !ok2 || field == "" || (dir != "asc" && dir != "desc") {
			return fmt.Errorf(`orderBy() takes a field name and "asc" or "desc"`)
		}
		pl.orders = append(pl.orders, order{field: field, desc: dir == "desc"})
	case "skip":
		n, ok := oneInt(c)
		if !ok || n < 0 {
			return fmt.Errorf("skip() takes an integer ≥ 0")
		}
		pl.skip = n
	case "limit":
		n, ok := oneInt(c)
		if !ok || n < 1 || n > wire.MaxQueryLimit {
			return fmt.Errorf("limit() takes an integer from 1 to %d", wire.MaxQueryLimit)
		}
		pl.limit = n
	default:
		return fmt.Errorf("unsupported call %s()", c.name)
	}
	return nil
}

// hasCommand says whether v is or holds a command.
func hasCommand(v any) bool {
	switch x := v.(type) {
	case command:
		return true
	case map[string]any:
		for _, e := range x {
			if hasCommand(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasCommand(e) {
				return true
			}
		}
	}
	return false
}

// setAction checks the action against the modifiers seen before it.
func (pl *plan) setAction(c call, seen map[string]bool) error {
	pl.action = c.name
	for _, a := range c.args {
		if hasCommand(a) {
			return fmt.Errorf("%s(): _.in() and _.gt() belong in where()", c.name)
		}
	}
	paging := seen["orderBy"] || seen["skip"] || seen["limit"]
	switch c.name {
	case actGet:
		if len(c.args) != 0 {
			return fmt.Errorf("get() takes no arguments")
		}
	case actCount:
		if len(c.args) != 0 || paging || pl.hasDoc {
			return fmt.Errorf("count() takes no arguments and only where()")
		}
	case actAdd:
		if paging || pl.hasDoc || pl.where != nil {
			return fmt.Errorf("add() goes right after collection()")
		}
		arg, ok := oneObject(c)
		if !ok {
			return fmt.Errorf("add() takes {data: object or array of objects}")
		}
		switch d := arg["data"].(type) {
		case map[string]any:
			pl.data = []map[string]any{d}
		case []any:
			for _, v := range d {
				m, ok := v.(map[string]any)
				if !ok {
					return fmt.Errorf("add(): every item of data must be an object")
				}
				pl.data = append(pl.data, m)
			}
		}
		if len(pl.data) == 0 {
			return fmt.Errorf("add() takes {data: object or non-empty array of objects}")
		}
	case actUpdate, actSet:
		if paging {
			return fmt.Errorf("%s() takes no orderBy, skip or limit", c.name)
		}
		if c.name == actSet && !pl.hasDoc {
			return fmt.Errorf("set() needs doc()")
		}
		if !pl.hasDoc && pl.where == nil {
			return fmt.Errorf("update() needs doc() or where()")
		}
		arg, ok := oneObject(c)
		data, isObject := arg["data"].(map[string]any)
		if !ok || !isObject {
			return fmt.Errorf("%s() takes {data: object}", c.name)
		}
		if _, has := data["_id"]; has {
			return fmt.Errorf("%s() cannot change _id", c.name)
		}
		pl.data = []map[string]any{data}
	case actRemove:
		if len(c.args) != 0 || paging {
			return fmt.Errorf("remove() takes no arguments and no orderBy, skip or limit")
		}
		if !pl.hasDoc && pl.where == nil {
			return fmt.Errorf("remove() needs doc() or where()")
		}
	}
	return nil
}

func oneObject(c call) (map[string]any, bool) {
	if len(c.args) != 1 {
		return nil, false
	}
	m, ok := c.args[0].(map[string]any)
	return m, ok
}

func oneString(c call) (string, bool) {
	if len(c.args) != 1 {
		return "", false
	}
	s, ok := c.args[0].(string)
	return s, ok
}

func oneInt(c call) (int, bool) {
	if len(c.args) != 1 {
		return 0, false
	}
	f, ok := c.args[0].(float64)
	if !ok || f != float64(int(f)) {
		return 0, false
	}
	return int(f), true
}
