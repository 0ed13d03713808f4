//go:build !linux

package cache

import (
	"errors"
	"os"
	"syscall"
)

// punchHole is not supported here: an evicted block's file is deleted with
// all its blocks instead.
func punchHole(f *os.File, off, length int64) error { return errors.ErrUnsupported }

// syncFS writes back every dirty page (sync(2): no syncfs here).
func syncFS(string) error {
	syscall.Sync()
	return nil
}
