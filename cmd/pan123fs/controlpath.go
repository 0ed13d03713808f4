package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
)

// maxSocketPath keeps a unix socket's path within sun_path (108 bytes on
// Linux, with room to spare).
const maxSocketPath = 100

// controlPath is where the control socket goes: control.sock in the state
// directory, which stateDir has checked to be private. When that path is
// too long for a unix socket, it goes in another folder that only we can
// enter: $XDG_RUNTIME_DIR if it is private, else a new folder of mode 0700
// under the temporary directory (never a predictable name in a shared
// folder, which another user could take first). cleanup removes what
// controlPath made.
func controlPath(state string) (path string, cleanup func(), err error) {
	p := filepath.Join(state, "control.sock")
	if len(p) < maxSocketPath {
		return p, func() {}, nil
	}
	sum := sha256.Sum256([]byte(state))
	name := fmt.Sprintf("pan123fs-%x.sock", sum[:8])
	if run := os.Getenv("XDG_RUNTIME_DIR"); isPrivate(run) && len(filepath.Join(run, name)) < maxSocketPath {
		return filepath.Join(run, name), func() {}, nil
	}
	dir, err := os.MkdirTemp("", "pan123fs-")
	if err != nil {
		return "", nil, fmt.Errorf("control socket: %w", err)
	}
	p = filepath.Join(dir, "control.sock")
	if len(p) >= maxSocketPath {
		os.Remove(dir)
		return "", nil, fmt.Errorf("control socket: %s is too long for a unix socket; use a shorter --state-dir or TMPDIR", p)
	}
	return p, func() { os.Remove(dir) }, nil
}

// isPrivate tells whether dir is an absolute path to a folder of ours that
// nobody else may enter.
func isPrivate(dir string) bool {
	if !filepath.IsAbs(dir) || checkPrivateDir(dir) != nil {
		return false
	}
	fi, err := os.Stat(dir)
	return err == nil && fi.Mode().Perm()&0o077 == 0
}
