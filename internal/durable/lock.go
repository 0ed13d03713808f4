package durable

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/pan123fs/pan123fs/internal/backoff"
)

// Lock takes an exclusive flock on the file name in dir (made, with dir,
// when missing: dir 0700, the file 0600), shared by every process that
// locks the same file, polling so that ctx is honoured. The returned func
// releases it.
func Lock(ctx context.Context, dir, name string) (func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, err
		}
		// Real time, not a test's clock: another process holds the lock.
		if err := backoff.Sleep(ctx, clockwork.NewRealClock(), 10*time.Millisecond); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
}
