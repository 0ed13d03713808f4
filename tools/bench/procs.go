package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pan123fs/pan123fs/tools/internal/benchkit"
)

// children are the processes this program started: the emulator and the
// mounts. Mounts are stopped first (they drain to the emulator), each by
// its own PID, and unmounted lazily if they do not unmount themselves.
type children struct {
	emu     *exec.Cmd
	mounts  []*mountProc
	servers []*mountProc // other long-running children (rclone serve)
	// hurry tells stop not to wait long for a draining mount (interrupted).
	hurry func() bool
}

// mountProc is one `pan123fs mount` or `rclone mount` child.
type mountProc struct {
	name, dir, state, logPath string
	cmd                       *exec.Cmd
	exited                    chan struct{}
	hwm                       *hwmSampler
}

// startEmulator runs `pan123fs emulator --data dir` on a loopback port and
// returns the URL from the first line it prints. Its log goes to dir.log.
func (k *children) startEmulator(ctx context.Context, bin, dir string) (string, error) {
	cmd, url, err := benchkit.StartEmulator(ctx, bin, dir)
	if cmd != nil {
		k.emu = cmd
	}
	return url, err
}

// startMount runs argv (a mount command whose last argument is the mount
// point dir, with env added to this process's environment) and waits until dir shows in /proc/self/mountinfo. The child
// gets SIGTERM (it unmounts itself) should this process die first.
func (k *children) startMount(ctx context.Context, name, dir, state string, argv []string, env ...string) (*mountProc, error) {
	for _, d := range []string{dir, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	m, err := spawn(name, state+".log", argv, env, syscall.SIGTERM)
	if err != nil {
		return nil, err
	}
	m.dir, m.state = dir, state
	k.mounts = append(k.mounts, m)
	m.hwm = sampleHWM(m.cmd.Process.Pid, m.exited)
	deadline := time.After(60 * time.Second)
	for {
		if ok, _ := isMounted(dir); ok {
			return m, nil
		}
		select {
		case <-m.exited:
			return nil, fmt.Errorf("%s exited before mounting: %s", name, logTail(m.logPath))
		case <-deadline:
			return nil, fmt.Errorf("%s not mounted within 60 s: %s", name, logTail(m.logPath))
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM to the mount's process, waits up to 90 s (pan123fs
// drains queued work for up to --drain-timeout, 1 min; 10 s once
// interrupted), then SIGKILLs its process group;
// whatever is still mounted is unmounted lazily. It removes the mount's
// state directory unless keep.
func (k *children) stop(m *mountProc, keep bool) error {
	if m == nil {
		return nil
	}
	var err error
	pid := m.cmd.Process.Pid
	wait := 90 * time.Second
	if k.hurry != nil && k.hurry() {
		wait = 10 * time.Second
	}
	if benchkit.Stop(m.cmd, m.exited, wait) {
		err = fmt.Errorf("%s (pid %d) did not exit within %v of SIGTERM; killed", m.name, pid, wait)
	}
	if ok, _ := isMounted(m.dir); ok {
		if out, uerr := exec.Command("fusermount3", "-u", "-z", m.dir).CombinedOutput(); uerr != nil {
			err = errors.Join(err, fmt.Errorf("fusermount3 -u -z %s: %v: %s", m.dir, uerr, out))
		}
	}
	for i, x := range k.mounts {
		if x == m {
			k.mounts = append(k.mounts[:i], k.mounts[i+1:]...)
			break
		}
	}
	if !keep {
		os.RemoveAll(m.state)
	}
	return err
}

// startServer runs argv until stopServer and waits until it listens on addr.
func (k *children) startServer(ctx context.Context, name, logPath, addr string, argv []string) (*mountProc, error) {
	p, err := spawn(name, logPath, argv, nil, syscall.SIGKILL)
	if err != nil {
		return nil, err
	}
	k.servers = append(k.servers, p)
	if err := waitListening(ctx, addr, p.exited); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", name, err, logTail(logPath))
	}
	return p, nil
}

// spawn starts argv in a process group of its own, its output in logPath
// and env added to this process's environment; the child gets deathSig
// should this process die first.
func spawn(name, logPath string, argv, env []string, deathSig syscall.Signal) (*mountProc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSig}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &mountProc{name: name, logPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	return p, nil
}

// stopServer sends SIGTERM to the server's process group, SIGKILL after 10 s.
func (k *children) stopServer(p *mountProc) {
	benchkit.Stop(p.cmd, p.exited, 10*time.Second)
	for i, x := range k.servers {
		if x == p {
			k.servers = append(k.servers[:i], k.servers[i+1:]...)
			break
		}
	}
}

// killAll stops every mount still running, then the other servers, then
// the emulator.
func (k *children) killAll() {
	for len(k.mounts) > 0 {
		if err := k.stop(k.mounts[len(k.mounts)-1], true); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
	}
	for len(k.servers) > 0 {
		k.stopServer(k.servers[len(k.servers)-1])
	}
	if k.emu == nil {
		return
	}
	benchkit.Stop(k.emu, nil, 10*time.Second)
	k.emu = nil
}

// isMounted tells whether dir is a mount point, from /proc/self/mountinfo.
func isMounted(dir string) (bool, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.ReplaceAll(f[4], `\040`, " ") == dir {
			return true, nil
		}
	}
	return false, nil
}

// logTail is the end of a log file, for error messages.
func logTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return fmt.Sprintf("(log %s) %s", path, strings.TrimSpace(string(b)))
}

// hwmSampler follows a process's peak resident set size (VmHWM, itself a
// high-water mark kept by the kernel) every 100 ms until it exits.
type hwmSampler struct {
	mu   sync.Mutex
	peak int64 // bytes
}

func sampleHWM(pid int, exited <-chan struct{}) *hwmSampler {
	s := &hwmSampler{}
	path := filepath.Join("/proc", strconv.Itoa(pid), "status")
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample(path)
			select {
			case <-exited:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *hwmSampler) sample(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				s.mu.Lock()
				s.peak = max(s.peak, kb<<10)
				s.mu.Unlock()
			}
		}
	}
}

// Peak samples once more (if the process still runs) and returns the peak.
func (s *hwmSampler) Peak(pid int) int64 {
	s.sample(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}
