// Package benchkit holds what the benchmark programs under tools/ share:
// starting `pan123fs emulator` as a child process, and random test files.
package benchkit

import (
	"bufio"
	"context"
	"crypto/md5"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// StartEmulator runs `BIN emulator --data DIR ARGS...` on a loopback port
// and returns the child and the URL from the first line it prints. Its log
// goes to DIR.log. The child leads its own process group and gets SIGKILL
// should this process die first.
func StartEmulator(ctx context.Context, bin, dir string, args ...string) (*exec.Cmd, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	return StartEmulatorArgs(ctx, bin, dir+".log", append([]string{"--data", dir}, args...)...)
}

// StartEmulatorArgs is StartEmulator for an emulator that keeps no data
// directory (`--backend wechat-cloudbase`): `BIN emulator ARGS...`, its
// log in logPath.
func StartEmulatorArgs(ctx context.Context, bin, logPath string, args ...string) (*exec.Cmd, string, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, append([]string{"emulator", "--log-level", "warn"}, args...)...)
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, r)
	}()
	const prefix = "emulator listening on "
	select {
	case line := <-lines:
		url, ok := strings.CutPrefix(strings.TrimSpace(line), prefix)
		if !ok {
			return cmd, "", fmt.Errorf("first line %q does not start with %q (log: %s)", line, prefix, logf.Name())
		}
		return cmd, url, nil
	case <-time.After(30 * time.Second):
		return cmd, "", errors.New("no URL on stdout within 30 s")
	case <-ctx.Done():
		return cmd, "", ctx.Err()
	}
}

// NewRNG is a fast random source seeded from crypto/rand.
func NewRNG() *rand.ChaCha8 {
	var seed [32]byte
	crand.Read(seed[:])
	return rand.NewChaCha8(seed)
}

// WriteRandom fills path with size random bytes and returns their md5.
func WriteRandom(path string, size int64) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	rng, h := NewRNG(), md5.New()
	buf := make([]byte, 4<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		rng.Read(buf[:n])
		h.Write(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return "", err
		}
		left -= n
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}

// MD5File is the md5 (hex) of a file, read in 1 MiB pieces.
func MD5File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Stop ends a child started with Setpgid: SIGTERM to its process group,
// then, if it has not exited within grace, SIGKILL to the group. exited is
// closed once cmd.Wait has returned; if it is nil, Stop calls Wait itself.
// It reports whether the child had to be killed.
func Stop(cmd *exec.Cmd, exited <-chan struct{}, grace time.Duration) (killed bool) {
	if exited == nil {
		ch := make(chan struct{})
		go func() { cmd.Wait(); close(ch) }()
		exited = ch
	}
	pgid := cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-exited:
		return false
	case <-time.After(grace):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-exited
		return true
	}
}
