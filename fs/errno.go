package fs

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// toErrno is the one place where an error becomes an errno. Every FUSE
// method returns toErrno(err) for the errors of remote, spool and cache;
// errors that are not recognised become EIO and are logged once here.
func (f *FS) toErrno(op, path string, err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		// already an errno (from the kernel side, the spool or this package)
	case errors.Is(err, wire.ErrNameTooLong):
		errno = syscall.ENAMETOOLONG
	case errors.Is(err, wire.ErrNameEmpty), errors.Is(err, wire.ErrNameBadChar),
		errors.Is(err, wire.ErrNameAllSpaces), errors.Is(err, wire.ErrNameNotUTF8),
		errors.Is(err, remote.ErrInvalidName):
		errno = syscall.EINVAL
	case errors.Is(err, remote.ErrNotFound):
		errno = syscall.ENOENT
	case errors.Is(err, remote.ErrNameClash):
		errno = syscall.EEXIST
	case errors.Is(err, remote.ErrQuota):
		errno = syscall.EDQUOT
	case errors.Is(err, remote.ErrAuth):
		errno = syscall.EACCES
	case errors.Is(err, context.Canceled):
		errno = syscall.EINTR
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, remote.ErrRateLimited):
		errno = syscall.ETIMEDOUT
	default:
		errno = syscall.EIO
	}
	level := slog.LevelDebug
	if errno == syscall.EIO || errno == syscall.EACCES || errno == syscall.EDQUOT || errno == syscall.ETIMEDOUT {
		level = slog.LevelWarn
	}
	f.log.Log(context.Background(), level, "operation failed", "op", op, "path", path, "errno", errno.Error(), "err", err)
	return errno
}
