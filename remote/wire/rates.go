package wire

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ParseRates reads a list of per-endpoint rates such as
// "create=2, list=4,delete=0.5" (the client's --rate-limit and the
// emulator's --qps): every name must be in known, every rate a number of
// requests per second, at least 0 when zeroOK (0 meaning unlimited) and
// above 0 otherwise. Empty items are skipped; "" gives an empty map.
func ParseRates(list string, known []string, zeroOK bool) (map[string]float64, error) {
	out := map[string]float64{}
	for _, kv := range SplitList(list) {
		name, val, ok := strings.Cut(kv, "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !ok || !slices.Contains(known, name) {
			return nil, fmt.Errorf("rate %q: want NAME=PER_SECOND with NAME one of %s", kv, strings.Join(known, ", "))
		}
		qps, err := strconv.ParseFloat(val, 64)
		if err != nil || qps < 0 || (qps == 0 && !zeroOK) {
			return nil, fmt.Errorf("rate %q: %q is not a number of requests per second", kv, val)
		}
		out[name] = qps
	}
	return out, nil
}

// SplitList splits a comma-separated flag value into its items, trimmed,
// without empty ones.
func SplitList(list string) []string {
	var out []string
	for _, kv := range strings.Split(list, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			out = append(out, kv)
		}
	}
	return out
}
