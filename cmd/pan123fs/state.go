package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// stateDir resolves the state directory: the flag, then PAN123FS_STATE_DIR,
// then $XDG_STATE_HOME/pan123fs, then ~/.local/state/pan123fs. A missing
// one is created with mode 0700. An existing one keeps its mode, but must
// be ours and writable by nobody else: it holds the saved token, the
// control socket and files the mount trusts.
func stateDir(flag string) (string, error) {
	dir := flag
	if dir == "" {
		dir = os.Getenv("PAN123FS_STATE_DIR")
	}
	if dir == "" {
		if x := os.Getenv("XDG_STATE_HOME"); x != "" {
			dir = filepath.Join(x, "pan123fs")
		} else {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("no state directory: set PAN123FS_STATE_DIR or --state-dir: %w", err)
			}
			dir = filepath.Join(home, ".local", "state", "pan123fs")
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	if err := checkPrivateDir(dir); err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	return dir, nil
}

// checkPrivateDir refuses a folder that another user owns or may write
// into (and so replace what is in it). It changes nothing: a folder such as
// /tmp is shared on purpose.
func checkPrivateDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s belongs to uid %d, not to you (uid %d): use a folder of your own", dir, st.Uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%s is writable by other users (mode %04o): use a private folder, or chmod go-w %s", dir, fi.Mode().Perm()|sticky(fi.Mode()), dir)
	}
	return nil
}

// sticky is the sticky bit of m as an octal permission bit.
func sticky(m os.FileMode) os.FileMode {
	if m&os.ModeSticky != 0 {
		return 0o1000
	}
	return 0
}

// envOr returns v, or the environment variable key when v is empty.
func envOr(v, key string) string {
	if v != "" {
		return v
	}
	return os.Getenv(key)
}
