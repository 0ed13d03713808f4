package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// settingSource is where a mount flag took its value from, weakest first.
// A flag takes the strongest source that gives it: the command line, then
// PAN123FS_<FLAG>, then the variables pan123fs has always read
// (legacyEnv), then the config file, then its default.
type settingSource int

const (
	fromDefault settingSource = iota
	fromFile
	fromLegacyEnv
	fromEnv
	fromCommandLine
)

// legacyEnv are the variables that gave these flags before every flag had
// a PAN123FS_ variable (../shared/spec/cli.md). PAN123FS_STATE_DIR needs no
// entry: it is --state-dir's PAN123FS_ name.
var legacyEnv = map[string]string{
	"client-id":     "PAN123_CLIENT_ID",
	"client-secret": "PAN123_CLIENT_SECRET",
	"api-base":      "PAN123_API_BASE",
}

// notSettings are flags no variable or config file sets.
var notSettings = map[string]bool{"help": true, "config": true}

// clientSections are the config file's tables that hold the defaults of a
// client command's flags ([url] link = "custom"), apart from the mount's
// settings at the top level.
var clientSections = map[string]bool{"url": true, "put": true, "serve": true, "migrate": true}

// clientDefaults makes the flags of a client command (url, put, serve,
// migrate) take their defaults from PAN123FS_<FLAG> and from the config
// file's table of that command's name, as mount's flags do from the top
// level.
//
// The answer tells, once the command runs, where each flag's value came
// from (sources), so that a command can tell a flag the user typed from a
// default of the file.
func clientDefaults(cmd *cobra.Command) *serviceFlags {
	s := &serviceFlags{section: cmd.Name()}
	prev := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if prev != nil {
			if err := prev(cmd, args); err != nil {
				return err
			}
		}
		return s.applySettings(cmd.Flags())
	}
	return s
}

// serviceFlags are the flags that let mount run as a service: where its
// settings come from (--config, the environment), where its secret comes
// from (--client-secret-file, systemd credentials) and where its log goes.
type serviceFlags struct {
	configPath                   string
	secretFile                   string
	logLevel, logFormat, logFile string
	// section is the config file's table to read ("" the top level,
	// mount's settings; see clientSections).
	section string
	// sources says where each flag that is not at its default came from.
	sources map[string]settingSource
}

// bind registers the service flags on cmd and makes its settings come
// from the environment and the config file before cmd runs.
func (s *serviceFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.configPath, "config", "", "read settings from this TOML file, keys named as the flags (default $PAN123FS_CONFIG, else $XDG_CONFIG_HOME/pan123fs/config.toml or ~/.config/pan123fs/config.toml if it exists)")
	s.bindSecretFlags(f)
	s.bindLogFlags(f)
	prev := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if prev != nil {
			if err := prev(cmd, args); err != nil {
				return err
			}
		}
		if err := s.applySettings(cmd.Flags()); err != nil {
			return err
		}
		return s.resolveSecret(cmd.Flags())
	}
}

// envName is the PAN123FS_ variable of a flag: --cache-max-size is
// PAN123FS_CACHE_MAX_SIZE.
func envName(flag string) string {
	return "PAN123FS_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applySettings gives every flag the command line left alone its value
// from the environment or the config file, through the flag's own Set, so
// that each value is parsed and checked as on the command line.
func (s *serviceFlags) applySettings(f *pflag.FlagSet) error {
	s.sources = map[string]settingSource{}
	f.Visit(func(fl *pflag.Flag) { s.sources[fl.Name] = fromCommandLine })
	file, path, err := s.loadConfigFile(f)
	if err != nil {
		return err
	}
	var errs []error
	f.VisitAll(func(fl *pflag.Flag) {
		if notSettings[fl.Name] || fl.Changed {
			return
		}
		set := func(src settingSource, where, v string) bool {
			if fl.NoOptDefVal != "" && fl.Value.Type() != "bool" {
				switch v { // --write-back[=DELAY]: true means the bare flag
				case "true":
					v = fl.NoOptDefVal
				case "false":
					return true
				}
			}
			if err := f.Set(fl.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
			s.sources[fl.Name] = src
			return true
		}
		if v := os.Getenv(envName(fl.Name)); v != "" && set(fromEnv, envName(fl.Name), v) {
			return
		}
		if old, ok := legacyEnv[fl.Name]; ok {
			if v := os.Getenv(old); v != "" && set(fromLegacyEnv, old, v) {
				return
			}
		}
		if v, ok := file[fl.Name]; ok {
			set(fromFile, fmt.Sprintf("config file %s: %s", path, fl.Name), v)
		}
	})
	return errors.Join(errs...)
}

// configFilePath is the config file to read and whether it must exist:
// --config, else $PAN123FS_CONFIG, else the default place, which may be
// missing or out of reach.
func (s *serviceFlags) configFilePath() (string, bool) {
	if s.configPath != "" {
		return s.configPath, true
	}
	if p := os.Getenv(envName("config")); p != "" {
		return p, true
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", false
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "pan123fs", "config.toml"), false
}

// loadConfigFile reads the config file as flag values in text, keyed by
// flag name. A key that names no flag is an error, as is a file that holds
// the client secret and that others may read.
func (s *serviceFlags) loadConfigFile(f *pflag.FlagSet) (map[string]string, string, error) {
	path, required := s.configFilePath()
	if path == "" {
		return nil, "", nil
	}
	if _, err := os.Stat(path); err != nil && !required {
		// Not there, or behind a folder we may not enter (HOME of
		// another user): no default file.
		return nil, path, nil
	}
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		return nil, path, fmt.Errorf("config file %s: %w", path, err)
	}
	if s.section != "" {
		table, ok := raw[s.section].(map[string]any)
		if !ok && raw[s.section] != nil {
			return nil, path, fmt.Errorf("config file %s: %s is not a table ([%s])", path, s.section, s.section)
		}
		raw = table
	} else {
		for k, v := range raw {
			if _, table := v.(map[string]any); table && clientSections[k] {
				delete(raw, k)
			}
		}
	}
	if _, ok := raw["client-secret"]; ok {
		if err := checkSecretFile(path); err != nil {
			return nil, path, fmt.Errorf("config file holds client-secret: %w", err)
		}
	}
	out := make(map[string]string, len(raw))
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fl := f.Lookup(k)
		if fl == nil || notSettings[k] {
			return nil, path, fmt.Errorf("config file %s: unknown key %q%s", path, k, suggestFlag(f, k))
		}
		v, err := tomlFlagValue(fl, raw[k])
		if err != nil {
			return nil, path, fmt.Errorf("config file %s: %s: %w", path, k, err)
		}
		out[k] = v
	}
	return out, path, nil
}

// tomlFlagValue writes a TOML value as the flag's command-line text.
func tomlFlagValue(fl *pflag.Flag, v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int64:
		if fl.Value.Type() == "string" {
			// umask = 0o027 would arrive as 23 and be read as octal 23.
			return "", fmt.Errorf("%d: write it as a string, modes in octal digits (umask = \"027\")", v)
		}
		return strconv.FormatInt(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			p, err := tomlFlagValue(fl, e)
			if err != nil {
				return "", err
			}
			parts[i] = p
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("a %T is not a flag value (every key is a flag name at the top of the file, no tables)", v)
}

// suggestFlag names the flag closest to a mistyped key, when one is close.
func suggestFlag(f *pflag.FlagSet, key string) string {
	best, bestDist := "", 4
	f.VisitAll(func(fl *pflag.Flag) {
		if notSettings[fl.Name] {
			return
		}
		if d := editDistance(key, fl.Name); d < bestDist {
			best, bestDist = fl.Name, d
		}
	})
	if best == "" {
		return " (every key is the name of a mount flag: pan123fs mount --help)"
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
