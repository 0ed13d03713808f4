package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// stateDir resolves the state directory: the flag, then PAN123FS_STATE_DIR,
// then $XDG_STATE_HOME/pan123fs, then ~/.local/state/pan123fs. It is
// created with mode 0700.
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
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	return dir, nil
}

// envOr returns v, or the environment variable key when v is empty.
func envOr(v, key string) string {
	if v != "" {
		return v
	}
	return os.Getenv(key)
}
