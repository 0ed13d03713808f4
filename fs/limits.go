package fs

import (
	"errors"
	"fmt"

	"github.com/pan123fs/pan123fs/store"
)

// The backend's limits as the mount applies them: names longer than
// Limits.NameMax (the NAME_MAX statfs reports) are too long wherever they
// appear, lookups included; sizes beyond Limits.MaxFileSize are refused
// before anything changes.

// errFileTooLarge: a write or truncate would make a file larger than the
// backend stores; errno.go maps it to EFBIG.
var errFileTooLarge = errors.New("file larger than the service stores")

// checkNameLen refuses a name longer than NameMax bytes, so that a lookup
// of one answers ENAMETOOLONG, as on a local filesystem, not ENOENT.
func (f *FS) checkNameLen(name string) error {
	if len(name) > f.limits.NameMax {
		return fmt.Errorf("name of %d bytes, more than %d: %w", len(name), f.limits.NameMax, store.ErrNameTooLong)
	}
	return nil
}

// checkSize refuses a file length beyond MaxFileSize (0: no limit).
func (f *FS) checkSize(size int64) error {
	if m := f.limits.MaxFileSize; m > 0 && size > m {
		return fmt.Errorf("%d bytes, more than %d: %w", size, m, errFileTooLarge)
	}
	return nil
}
