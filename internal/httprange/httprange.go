// Package httprange reads the Content-Range of an answer to an HTTP Range
// request.
package httprange

import (
	"strconv"
	"strings"
)

// Parse reads "bytes a-b/total" (total may be "*": -1); ok is false for
// anything else, and for a range that cannot be (b < a, b past total).
func Parse(s string) (start, last, total int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	rng, tot, found2 := strings.Cut(rest, "/")
	a, b, found3 := strings.Cut(rng, "-")
	if !found || !found2 || !found3 {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	start, err1 = strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	last, err2 = strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	total = -1
	if t := strings.TrimSpace(tot); t != "*" {
		total, err3 = strconv.ParseInt(t, 10, 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || start < 0 || last < start || (total >= 0 && last >= total) {
		return 0, 0, 0, false
	}
	return start, last, total, true
}
