package fs

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"syscall"

	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// toErrno is the one place where an error becomes an errno. Every FUSE
// method returns toErrno(err) for the errors of remote, spool and cache;
// errors that are not recognised become EIO and are logged once here.
// A failure to reach 123pan is EIO whatever the socket said: an errno of
// the client's own connection (ECONNREFUSED, ECONNRESET, ...) never
// reaches an application.
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
	case fromNetwork(err):
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

// fromNetwork tells whether err came from talking to 123pan (an API
// answer, or a connection that failed) rather than from the local disk.
// (Not net.Error: every syscall.Errno is one.)
func fromNetwork(err error) bool {
	var api *remote.APIError
	var uerr *url.Error
	var oerr *net.OpError
	return errors.As(err, &api) || errors.As(err, &uerr) || errors.As(err, &oerr)
}
