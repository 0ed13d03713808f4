package emulator

import (
	"reflect"
	"testing"
)

func TestParseQueryValues(t *testing.T) {
	q, err := parseQuery(` db . collection( 'c\'s' )
		.where({ "a\"b": "x\u00e9\n", bare_$1: -1.5e2, t: true, f: false, n: null, o: {x: [1, "2", [],],}, })
		.limit(3) ; `)
	if err != nil {
		t.Fatal(err)
	}
	want := parsedQuery{collection: "c's", calls: []call{
		{name: "where", args: []any{map[string]any{
			`a"b`: "xé\n", "bare_$1": -150.0, "t": true, "f": false, "n": nil,
			"o": map[string]any{"x": []any{1.0, "2", []any{}}},
		}}},
		{name: "limit", args: []any{3.0}},
	}}
	if !reflect.DeepEqual(q, want) {
		t.Fatalf("got %#v\nwant %#v", q, want)
	}
}

func TestParseQueryRefuses(t *testing.T) {
	for _, src := range []string{
		``,
		`db.collection("")`,
		`db.collection("c").where({a: 01})`,
		`db.collection("c").where({a: "x})`,
		`db.collection("c").where({a: 1 b: 2})`,
		`db.collection("c").where({a: [1 2]})`,
		`db.collection("c").where({a: undefined})`,
		`db.collection("c").get() extra`,
		`db.collection("c").get(); more()`,
		`db.collection("c").get`,
		`db["collection"]("c")`,
		"db.collection(\"c\").where({a: \"tab\there\"})",
	} {
		if q, err := parseQuery(src); err == nil {
			t.Errorf("parseQuery(%q) = %+v, want an error", src, q)
		}
	}
}
