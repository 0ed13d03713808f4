package config

import (
	"fmt"
	"math"
	"math/big"
	"strings"
)

// Size is a count of bytes as a flag, a config-file value or an
// environment variable takes it: plain bytes ("1048576", "512B"), powers
// of 1024 ("K", "M", "G", "T" and "KiB", "MiB", "GiB", "TiB") or powers
// of 1000 ("kB"/"KB", "MB", "GB", "TB"). The single letters are binary,
// as in dd, sort -S and most tools people set cache sizes with. A decimal
// fraction is taken when it comes to whole bytes ("1.5GiB"); negative
// sizes, fractions of a byte, other suffixes and sizes past 2^63-1 are
// refused. A Size prints in the largest unit that divides it exactly.
type Size struct{ p *int64 }

// NewSize returns a Size that stores into p, starting from def (a
// pflag.Value: f.Var(config.NewSize(&c.Cache.MaxBytes, def), ...)).
func NewSize(p *int64, def int64) Size {
	*p = def
	return Size{p: p}
}

// sizeUnits are the suffixes ParseSize takes, with their multipliers.
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	"kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
}

// ParseSize reads s as a Size does.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	mul, ok := sizeUnits[unit]
	if num == "" || strings.Count(num, ".") > 1 || num[0] == '.' || num[len(num)-1] == '.' || !ok {
		return 0, fmt.Errorf("size %q: want a whole number of bytes, optionally with a unit: K, M, G, T (or KiB, MiB, GiB, TiB; powers of 1024), kB, MB, GB, TB (powers of 1000)", s)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("size %q: not a number", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(mul))
	if !r.IsInt() {
		return 0, fmt.Errorf("size %q: not a whole number of bytes", s)
	}
	if n := r.Num(); !n.IsInt64() {
		return 0, fmt.Errorf("size %q: larger than %d bytes", s, int64(math.MaxInt64))
	}
	return r.Num().Int64(), nil
}

// FormatSize writes n in the largest binary unit that divides it exactly
// ("1GiB", "256MiB"), else in a decimal one ("5MB"), else in bytes.
func FormatSize(n int64) string {
	if n == 0 {
		return "0"
	}
	for _, u := range []string{"TiB", "GiB", "MiB", "KiB", "TB", "GB", "MB", "kB"} {
		if m := sizeUnits[u]; n%m == 0 {
			return fmt.Sprintf("%d%s", n/m, u)
		}
	}
	return fmt.Sprintf("%d", n)
}

// String is the size in a readable unit (pflag.Value).
func (s Size) String() string {
	if s.p == nil {
		return "0"
	}
	return FormatSize(*s.p)
}

// Set parses v (pflag.Value).
func (s Size) Set(v string) error {
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	*s.p = n
	return nil
}

// Type names the value in --help (pflag.Value).
func (s Size) Type() string { return "size" }
