package main

import (
	"os"
	"regexp"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's table of config keys lists every flag of mount with its
// variable, and no key that is not a flag: a flag added later fails here
// until it is documented.
func TestReadmeListsEveryConfigKey(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\| `(PAN123FS_[A-Z0-9_]+)`").FindAllStringSubmatch(string(b), -1) {
		rows[m[1]] = m[2]
	}
	flags := newMountCmd().Flags()
	flags.VisitAll(func(f *pflag.Flag) {
		if notSettings[f.Name] {
			return
		}
		env, ok := rows[f.Name]
		if assert.True(t, ok, "README's Configuration table has no row for %s", f.Name) {
			assert.Equal(t, envName(f.Name), env, "variable of %s", f.Name)
		}
	})
	for key := range rows {
		assert.NotNil(t, flags.Lookup(key), "README lists config key %s, which is no flag of mount", key)
	}
}
