package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each layer overrides the ones below it: flag over PAN123FS_ variable
// over config file over default. --uploads below 1 is refused naming the
// value, so the error says which layer won.
func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, dir, "config.toml", "uploads = 0\n", 0o644)
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string // in the output; "" for none of the --uploads errors
	}{
		{name: "default", want: ""},
		{name: "file", args: []string{"--config", conf}, want: "--uploads 0: at least 1"},
		{name: "env over file", env: []string{"PAN123FS_UPLOADS=-2"}, args: []string{"--config", conf}, want: "--uploads -2: at least 1"},
		{name: "flag over env", env: []string{"PAN123FS_UPLOADS=-2"}, args: []string{"--config", conf, "--uploads", "-3"}, want: "--uploads -3: at least 1"},
		{name: "PAN123FS_CONFIG", env: []string{"PAN123FS_CONFIG=" + conf}, want: "--uploads 0: at least 1"},
		{name: "--config over PAN123FS_CONFIG", env: []string{"PAN123FS_CONFIG=" + missing}, args: []string{"--config", conf}, want: "--uploads 0: at least 1"},
		{name: "client tables are not mount's", args: []string{"--config", writeFile(t, dir, "tables.toml", "uploads = 0\n[url]\nlink = \"custom\"\n[put]\nuploads = 5\n", 0o644)}, want: "--uploads 0: at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runWith(t, cleanEnv(t, tc.env...), append([]string{"mount", missing, "--emulator", "--state-dir", t.TempDir()}, tc.args...)...)
			require.Error(t, err, "mount on a missing mount point")
			if tc.want == "" {
				assert.NotContains(t, out, "--uploads")
				assert.Contains(t, out, missing, "fails at the mount point, past the settings")
				return
			}
			assert.Contains(t, out, tc.want)
		})
	}
}

// The config file in $XDG_CONFIG_HOME/pan123fs/config.toml is read without
// --config; when it is missing, nothing is wrong. A --config file that is
// missing is an error.
func TestDefaultConfigFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	home := t.TempDir()
	env := append(cleanEnv(t), "XDG_CONFIG_HOME="+home) // the later one wins
	out, err := runWith(t, env, "mount", missing, "--emulator", "--state-dir", t.TempDir())
	require.Error(t, err)
	assert.NotContains(t, out, "config file", "no config file is fine")

	require.NoError(t, os.MkdirAll(filepath.Join(home, "pan123fs"), 0o700))
	writeFile(t, filepath.Join(home, "pan123fs"), "config.toml", "uploads = 0\n", 0o600)
	out, err = runWith(t, env, "mount", missing, "--emulator", "--state-dir", t.TempDir())
	require.Error(t, err)
	assert.Contains(t, out, "--uploads 0: at least 1")

	out, err = runWith(t, cleanEnv(t), "mount", missing, "--emulator", "--config", filepath.Join(home, "nope.toml"))
	require.Error(t, err)
	assert.Regexp(t, `config file .*nope.toml: open .*nope.toml: no such file`, out)
}

// What a config file may hold, and how it is refused otherwise: unknown
// keys with the file and the closest flag named, tables, numbers for
// modes, values the flag itself refuses.
func TestConfigFileRefusals(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct{ name, text, want string }{
		{"unknown key", "cache-max-sise = \"2GiB\"\n", `config file .*config.toml: unknown key "cache-max-sise" \(did you mean "cache-max-size"\?\)`},
		{"far from any flag", "colour = \"blue\"\n", `unknown key "colour" \(every key is the name of a mount flag`},
		{"config in config", "config = \"x.toml\"\n", `unknown key "config"`},
		{"table", "[mount]\nread-only = true\n", `unknown key "mount"`},
		{"octal number", "umask = 0o027\n", `umask: 23: write it as a string`},
		{"bad size", "cache-max-size = \"2 gigs\"\n", `config file .*config.toml: cache-max-size: invalid argument "2 gigs"`},
		{"not TOML", "read-only = \n", `config file .*config.toml: toml: line 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := writeFile(t, t.TempDir(), "config.toml", tc.text, 0o600)
			out, err := runWith(t, cleanEnv(t), "mount", missing, "--emulator", "--config", conf)
			require.Error(t, err)
			assert.Regexp(t, tc.want, out)
		})
	}
}

// Settings from a config file and the environment reach a real mount,
// with the precedence of the README: the file's dir-mode and read-only,
// the environment's umask over the file's, a flag over the file's
// read-only, and PAN123_API_BASE (the variable of old) over the file's
// api-base.
func TestSettingsReachTheMount(t *testing.T) {
	url := startEmulator(t)
	conf := writeFile(t, t.TempDir(), "config.toml", `
api-base = "http://127.0.0.1:1"
dir-mode = "0775"
umask = "077"
read-only = true
cache-max-size = "64MiB"
write-back = "10ms"
`, 0o644)
	mnt := t.TempDir()
	env := cleanEnv(t, "PAN123_API_BASE="+url, "PAN123_CLIENT_ID=e2e", "PAN123_CLIENT_SECRET=e2e-secret", "PAN123FS_UMASK=027")
	startMountEnv(t, mnt, env, testWriter(t, "mount"), "--config", conf, "--state-dir", t.TempDir(), "--read-only=false")

	fi, err := os.Stat(mnt)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o750), fi.Mode().Perm(), "dir-mode 0775 (file) less umask 027 (environment)")
	require.NoError(t, os.Mkdir(filepath.Join(mnt, "made"), 0o755), "--read-only=false on the command line over read-only = true in the file")
	rc := checker(t, url)
	_, ok := remoteTree(t, rc)["made"]
	assert.True(t, ok, "the folder is on the emulator that PAN123_API_BASE names")
}

// Sizes in human units reach the settings from the command line, the
// environment and the file alike: a read-ahead below 4096 bytes is
// refused naming the bytes it came to.
func TestHumanSizesThroughTheCommand(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	conf := writeFile(t, t.TempDir(), "config.toml", "read-ahead = \"1kB\"\n", 0o600)
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{args: []string{"--read-ahead", "2K"}, want: "--read-ahead 2048: at least 4096 bytes"},
		{env: []string{"PAN123FS_READ_AHEAD=3KiB"}, want: "--read-ahead 3072: at least 4096 bytes"},
		{args: []string{"--config", conf}, want: "--read-ahead 1000: at least 4096 bytes"},
		{args: []string{"--read-ahead", "-1M"}, want: `invalid argument "-1M" for "--read-ahead" flag`},
		{args: []string{"--cache-max-size", "lots"}, want: `invalid argument "lots" for "--cache-max-size" flag`},
	} {
		out, err := runWith(t, cleanEnv(t, tc.env...), append([]string{"mount", missing, "--emulator", "--state-dir", t.TempDir()}, tc.args...)...)
		require.Error(t, err)
		assert.Contains(t, out, tc.want, "env %v args %v", tc.env, tc.args)
	}
}
