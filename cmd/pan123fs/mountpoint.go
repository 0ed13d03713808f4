package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// checkMountpoint refuses a missing, non-folder, non-empty or already
// mounted mount point with a message that says which.
func checkMountpoint(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if mounted, err := isMounted(abs); err == nil && mounted {
		return "", fmt.Errorf("mount point %s is already mounted (unmount it with: fusermount3 -u %s)", abs, abs)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("mount point %s does not exist (create it with: mkdir -p %s)", abs, abs)
	case err != nil:
		return "", fmt.Errorf("mount point %s: %w", abs, err)
	case !st.IsDir():
		return "", fmt.Errorf("mount point %s is not a folder", abs)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return "", fmt.Errorf("mount point %s: %w", abs, err)
	}
	if len(entries) > 0 {
		return "", fmt.Errorf("mount point %s is not empty", abs)
	}
	return abs, nil
}

// isMounted tells whether dir is a mount point, from /proc/self/mountinfo.
func isMounted(dir string) (bool, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeMountinfo(fields[4]) == dir {
			return true, nil
		}
	}
	return false, sc.Err()
}

// unescapeMountinfo undoes the octal escapes (\040 for space) of mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
