package fs

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	"github.com/pan123fs/pan123fs/store"
)

// toErrno is the one place where an error becomes an errno. Every FUSE
// method returns toErrno(err) for the errors of the backend, spool and
// cache; errors that are not recognised become EIO and are logged once
// here. A failure of the backend (store.FromBackend) is EIO whatever the
// socket said: an errno of the client's own connection (ECONNREFUSED,
// ECONNRESET, ...) never reaches an application.
func (f *FS) toErrno(op, path string, err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var errno syscall.Errno
	switch {
	case errors.Is(err, context.Canceled):
		errno = syscall.EINTR // the kernel interrupted the caller
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, errListingTimedOut):
		errno = syscall.EIO // the operation's time limit (Options.OpTimeout)
	case errors.Is(err, errHiddenEntries):
		errno = syscall.ENOTEMPTY
	case errors.Is(err, errTrashRefused):
		errno = syscall.EPERM
	case errors.Is(err, errFileTooLarge):
		errno = syscall.EFBIG
	case errors.Is(err, store.ErrNameTooLong):
		errno = syscall.ENAMETOOLONG
	case errors.Is(err, store.ErrInvalidName):
		errno = syscall.EINVAL
	case errors.Is(err, store.ErrNotFound):
		errno = syscall.ENOENT
	case errors.Is(err, store.ErrExists):
		errno = syscall.EEXIST
	case errors.Is(err, store.ErrQuota):
		errno = syscall.EDQUOT
	case errors.Is(err, store.ErrAuth):
		errno = syscall.EACCES
	case store.FromBackend(err):
		errno = syscall.EIO
	case errors.As(err, &errno):
		// already an errno (from the kernel side, the spool or this package)
	default:
		errno = syscall.EIO
	}
	level := slog.LevelDebug
	if errno == syscall.EIO || errno == syscall.EACCES || errno == syscall.EDQUOT {
		level = slog.LevelWarn
	}
	f.log.Log(context.Background(), level, "operation failed", "op", op, "path", path, "errno", errno.Error(), "err", err)
	return errno
}
