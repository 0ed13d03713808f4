// Package durable writes small files so that a crash or a power cut leaves
// either the old content or the new one, never a mix or nothing, and locks
// files across processes (the saved tokens every process of a machine
// shares).
package durable

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile replaces path with data: it writes path+".tmp", fsyncs it,
// renames it over path and fsyncs the folder, so that the rename itself
// survives a power cut. The temporary file has a fixed name, so one that a
// crash left behind is simply written over the next time; callers write a
// given path from one place at a time.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp) // a no-op after the rename
	err = f.Chmod(perm)  // a file left behind may have other bits
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs a folder, which makes the entries made, renamed or removed
// in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}
