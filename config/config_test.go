package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	require.NoError(t, c.Validate())
}

func TestValidateNamesEachBadSetting(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"file mode 0", func(c *Config) { c.Mount.FileMode = 0 }, "--file-mode 0000"},
		{"dir mode too big", func(c *Config) { c.Mount.DirMode = 0o1777 }, "--dir-mode 1777"},
		{"umask too big", func(c *Config) { c.Mount.Umask = 0o1000 }, "--umask 1000"},
		{"subtype with a comma", func(c *Config) { c.Mount.Subtype = "a,b" }, `--subtype "a,b"`},
		{"empty subtype", func(c *Config) { c.Mount.Subtype = "" }, `--subtype ""`},
		{"read-ahead small", func(c *Config) { c.Mount.ReadAhead = 100 }, "--read-ahead 100: at least 4096 bytes"},
		{"op timeout small", func(c *Config) { c.OpTimeout = time.Millisecond }, "--op-timeout 1ms: at least 100ms"},
		{"no upload workers", func(c *Config) { c.Upload.Workers = 0 }, "--uploads 0"},
		{"no listing entries", func(c *Config) { c.Listing.MaxEntries = 0 }, "--dir-cache-entries 0"},
		{"cache below a block", func(c *Config) { c.Cache.MaxBytes = 10 }, "--cache-max-size 10"},
		{"negative spool", func(c *Config) { c.Spool.MaxBytes = -1 }, "--spool-max-size -1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.edit(&c)
			err := c.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.Upload.Workers, c.OpTimeout = 0, 0
	err := c.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--uploads")
	assert.Contains(t, err.Error(), "--op-timeout")
}
