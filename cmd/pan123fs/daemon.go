package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	pfs "github.com/pan123fs/pan123fs/fs"
)

// Background mode (--daemon, and the mount helper's default).
//
// The command re-executes its own binary with the same arguments and a
// pipe as file descriptor 3 (readyFDEnv names it), in a session of its own
// (setsid), and waits. The child mounts, then writes "READY" on the pipe, or
// "ERROR reason" if it cannot mount; the command then exits 0, or prints the
// reason and exits non-zero. A child that dies without a word fails the
// command too. Not a fork: a Go process cannot fork safely.
//
// Until ready the child's stderr is the command's, so that its log lines
// (and a crash) show where the command was started; once ready, its
// stdin, stdout and stderr are /dev/null (a log file given with --log-file,
// where there is one, still receives the log).

// readyFDEnv names, in the child's environment, the descriptor of the pipe
// on which it reports readiness.
const readyFDEnv = "PAN123FS_READY_FD"

// daemonArgs are the arguments the background child is started with: the
// command line, or what the mount helper made of mount(8)'s.
var daemonArgs = os.Args[1:]

// service is how the mount reports to whoever started it: the parent of a
// --daemon child through the pipe, systemd through NOTIFY_SOCKET.
type service struct {
	daemon bool      // --daemon
	ready  *os.File  // the pipe to the parent; nil when not a daemon's child
	notify *notifier // nil without NOTIFY_SOCKET
	log    *slog.Logger
}

// addServiceFlags registers --daemon on the mount command.
func addServiceFlags(f *pflag.FlagSet, s *service) {
	f.BoolVar(&s.daemon, "daemon", false, "mount in the background: return once the mount is ready (exit 0) or has failed (non-zero, with the reason)")
}

// runService runs the mount in the foreground, or as --daemon starts it in
// the background and waits for it to be ready.
func runService(ctx context.Context, mountpoint string, fl *mountFlags) error {
	s := &fl.svc
	fdText, child := os.LookupEnv(readyFDEnv)
	if s.daemon && !child {
		return startDaemon()
	}
	if child {
		os.Unsetenv(readyFDEnv)
		fd, err := strconv.Atoi(fdText)
		if err != nil {
			return fmt.Errorf("%s=%q: not a file descriptor", readyFDEnv, fdText)
		}
		s.ready = os.NewFile(uintptr(fd), "ready pipe")
	}
	s.log = newLogger(fl.debug)
	s.notify = newNotifier(s.log)
	err := runMount(ctx, mountpoint, fl)
	if err != nil && s.ready != nil {
		// Not ready yet: the parent says why, and exits non-zero.
		fmt.Fprintf(s.ready, "ERROR %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		s.ready.Close()
		return &exitError{code: 1, quiet: true, err: err}
	}
	return err
}

// checkCredentials asks the account (user/info, which needs a token) before
// a background or systemd mount says it is ready, so that bad credentials
// or an unreachable API fail the start instead of every later operation.
// A foreground mount starts without asking, as it always has.
func (s *service) checkCredentials(ctx context.Context, info func(context.Context) error, timeout time.Duration) error {
	if s.ready == nil && s.notify == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := info(ctx); err != nil {
		return fmt.Errorf("checking the credentials with the API (--op-timeout %s): %w", timeout, err)
	}
	return nil
}

// mounted reports readiness once mnt is in the mount table: to the parent
// (then the child lets go of the caller's terminal or pipe), and to systemd.
func (s *service) mounted(mnt string, fsys *pfs.FS) error {
	if ok, err := isMounted(mnt); !ok {
		return fmt.Errorf("mount %s: not in /proc/self/mountinfo after mounting (%v)", mnt, err)
	}
	if s.ready != nil {
		_, err := io.WriteString(s.ready, "READY\n")
		s.ready.Close()
		s.ready = nil
		if err != nil {
			s.log.Warn("the starting command went away before the mount was ready", "err", err)
		}
		if err := detachStdio(); err != nil {
			s.log.Warn("stdin, stdout and stderr not moved to /dev/null", "err", err)
		}
	}
	s.notify.ready(mnt, fsys)
	return nil
}

// stopping tells systemd that unmounting and draining begin.
func (s *service) stopping(mnt string) { s.notify.stopping(mnt) }

// detachStdio points descriptors 0, 1 and 2 at /dev/null, so that the
// background mount holds no terminal or pipe of the command that started it.
func detachStdio() error {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	for fd := 0; fd <= 2; fd++ {
		if err := syscall.Dup3(int(null.Fd()), fd, 0); err != nil {
			return err
		}
	}
	return nil
}

// startDaemon starts the background child and waits for its word.
func startDaemon() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	exe, err := os.Executable()
	if err != nil {
		w.Close()
		return err
	}
	cmd := exec.Command(exe, daemonArgs...)
	cmd.Args[0] = "pan123fs" // not the mount helper's name: the child is the plain command
	cmd.Env = append(os.Environ(), readyFDEnv+"=3")
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stderr = os.Stderr // stdin and stdout: /dev/null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("starting the background mount: %w", err)
	}
	line, rerr := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSuffix(line, "\n")
	if line == "READY" {
		return cmd.Process.Release()
	}
	werr := cmd.Wait()
	if reason, ok := strings.CutPrefix(line, "ERROR "); ok {
		return errors.New(reason)
	}
	if rerr != nil && rerr != io.EOF {
		return fmt.Errorf("reading the background mount's answer: %w", rerr)
	}
	return fmt.Errorf("the background mount ended before it was ready (%v)", werr)
}
