package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// The mount helper: mount(8) runs /sbin/mount.fuse.pan123fs (for -t
// fuse.pan123fs and fstab lines of that type) or /sbin/mount.pan123fs (for
// -t pan123fs), both links to this binary, as
//
//	mount.fuse.pan123fs SOURCE MOUNTPOINT [-sfnv] [-N NAMESPACE] [-o OPTIONS] [-t TYPE.SUBTYPE]
//
// (util-linux mount(8), "EXTERNAL HELPERS"). SOURCE is not used: write
// pan123fs or none. The helper runs `pan123fs mount --daemon MOUNTPOINT`
// with every option turned into a flag, and exits as mount(8) expects:
// 0 once mounted, 1 for a bad invocation or option, 32 when the mount fails,
// with the reason on stderr.

// helperNames are the names under which the binary is the mount helper.
var helperNames = map[string]bool{"mount.fuse.pan123fs": true, "mount.pan123fs": true}

// isMountHelper tells whether the binary was started as the mount helper.
func isMountHelper(argv0 string) bool { return helperNames[filepath.Base(argv0)] }

// mount(8)'s exit statuses that the helper uses.
const (
	exitUsage   = 1
	exitFailure = 32
)

// helperRequest is mount(8)'s command line to the helper.
type helperRequest struct {
	source, mountpoint string
	options            []string // -o, split at commas, in order
	fake               bool     // -f: check everything, mount nothing
	sloppy             bool     // -s: ignore options not known, with a warning
	verbose            bool     // -v: say what is run
}

// parseHelperArgs reads mount(8)'s command line; -n (no mtab) and -t (the
// type, known from the name) are accepted and ignored.
func parseHelperArgs(args []string) (helperRequest, error) {
	var r helperRequest
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "" || a[0] != '-' || a == "-" {
			pos = append(pos, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			switch c := a[j]; c {
			case 's':
				r.sloppy = true
			case 'f':
				r.fake = true
			case 'n':
			case 'v':
				r.verbose = true
			case 'o', 't', 'N':
				val := a[j+1:]
				if val == "" {
					if i+1 == len(args) {
						return r, fmt.Errorf("-%c needs a value", c)
					}
					i++
					val = args[i]
				}
				switch c {
				case 'o':
					r.options = append(r.options, strings.Split(val, ",")...)
				case 'N':
					return r, fmt.Errorf("-N %s: mounting in another namespace is not supported", val)
				}
				j = len(a)
			default:
				return r, fmt.Errorf("unknown argument -%c", c)
			}
		}
	}
	if len(pos) != 2 {
		return r, fmt.Errorf("usage: mount.fuse.pan123fs SOURCE MOUNTPOINT [-sfnv] [-o OPTIONS]")
	}
	r.source, r.mountpoint = pos[0], pos[1]
	return r, nil
}

// ignoredOptions are mount(8)'s and fstab's generic options that say
// nothing to pan123fs: when and by whom it is mounted (auto, noauto, user,
// users, nouser, nofail, _netdev: mount(8) and systemd act on them),
// defaults, and dev, suid and exec bits (a FUSE mount has no device nodes
// nor setuid files, and its files are not marked executable).
var ignoredOptions = map[string]bool{
	"defaults": true, "auto": true, "noauto": true, "user": true, "users": true, "nouser": true,
	"nofail": true, "_netdev": true, "dev": true, "nodev": true, "suid": true, "nosuid": true,
	"exec": true, "noexec": true,
}

// renamedOptions are options passed on without checking them against the
// flags: --config belongs to the config file's part of the command.
var renamedOptions = map[string]string{"config": "config"}

// optionsToFlags turns -o options into flags of `pan123fs mount`, checked
// against flags: NAME=VALUE (NAME with _ or -) is --NAME=VALUE, a bare NAME
// is --NAME (a switch, or a flag with a default value such as
// --write-back), ro is --read-only. An unknown option is an error naming
// it, or with sloppy a warning.
func optionsToFlags(opts []string, flags *pflag.FlagSet, sloppy bool, warn func(string)) ([]string, error) {
	var out []string
	readOnly := false
	for _, o := range opts {
		name, value, hasValue := strings.Cut(o, "=")
		switch {
		case o == "":
			continue
		case o == "ro":
			readOnly = true
			continue
		case o == "rw":
			readOnly = false
			continue
		case ignoredOptions[o], name == "user" && hasValue, name == "comment", strings.HasPrefix(name, "x-"):
			continue
		}
		flag := renamedOptions[name]
		if flag == "" {
			flag = strings.ReplaceAll(name, "_", "-")
			f := flags.Lookup(flag)
			if f == nil || flag == "help" || flag == "daemon" {
				if sloppy {
					warn(fmt.Sprintf("ignoring unknown mount option %q", name))
					continue
				}
				return nil, fmt.Errorf("unknown mount option %q", name)
			}
			if !hasValue && f.NoOptDefVal == "" {
				return nil, fmt.Errorf("mount option %q needs a value (%s=...)", name, name)
			}
		}
		if hasValue {
			out = append(out, "--"+flag+"="+value)
		} else {
			out = append(out, "--"+flag)
		}
	}
	if readOnly {
		out = append(out, "--read-only")
	}
	return out, nil
}

// runMountHelper is the helper's main: it returns the exit status.
func runMountHelper(args []string) int {
	fail := func(code int, err error) int {
		fmt.Fprintln(os.Stderr, "mount.fuse.pan123fs:", err)
		return code
	}
	r, err := parseHelperArgs(args)
	if err != nil {
		return fail(exitUsage, err)
	}
	check := newMountCmd()
	flags, err := optionsToFlags(r.options, check.Flags(), r.sloppy, func(s string) {
		fmt.Fprintln(os.Stderr, "mount.fuse.pan123fs:", s)
	})
	if err != nil {
		return fail(exitUsage, err)
	}
	if err := check.ParseFlags(flags); err != nil {
		return fail(exitUsage, err)
	}
	daemonArgs = append([]string{"mount", "--daemon", r.mountpoint}, flags...)
	if r.verbose {
		fmt.Fprintln(os.Stderr, "mount.fuse.pan123fs: pan123fs", strings.Join(maskSecret(daemonArgs), " "))
	}
	if r.fake {
		return 0
	}
	root := newRootCmd()
	root.SetArgs(daemonArgs)
	if err := root.ExecuteContext(context.Background()); err != nil {
		var x *exitError
		if !errors.As(err, &x) || !x.quiet {
			fmt.Fprintln(os.Stderr, "mount.fuse.pan123fs:", err)
		}
		return exitFailure
	}
	return 0
}

// maskSecret hides the value of --client-secret in a command line shown.
func maskSecret(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.HasPrefix(a, "--client-secret=") {
			a = "--client-secret=***"
		}
		out[i] = a
	}
	return out
}
