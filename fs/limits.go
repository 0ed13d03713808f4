package fs

import (
	"fmt"

	"github.com/pan123fs/pan123fs/store"
)

// The backend's limits as the mount applies them: names longer than
// Limits.NameMax (the NAME_MAX statfs reports) are too long wherever they
// appear, lookups included.

// checkNameLen refuses a name longer than NameMax bytes, so that a lookup
// of one answers ENAMETOOLONG, as on a local filesystem, not ENOENT.
func (f *FS) checkNameLen(name string) error {
	if len(name) > f.limits.NameMax {
		return fmt.Errorf("name of %d bytes, more than %d: %w", len(name), f.limits.NameMax, store.ErrNameTooLong)
	}
	return nil
}
