package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// rcloneScenarios repeats scenarios 1-3 on `rclone mount` of `rclone serve
// webdav` (a local folder served on loopback), when rclone is on PATH, and
// puts the figures in the rclone column. cp and cp -r use --vfs-cache-mode
// off (cp exits once the WebDAV PUT is done, as pan123fs's default mode
// exits once the upload is done); the reads use --vfs-cache-mode full
// (a fresh cache: cold, then warm).
func (b *bench) rcloneScenarios(ctx context.Context) {
	if b.rclone == "" || ctx.Err() != nil {
		return
	}
	logf("rclone column")
	note := func(ids []string, err error) {
		for _, id := range ids {
			b.rcloneRes[id] = "error: " + err.Error()
		}
	}
	remoteDir := filepath.Join(b.tmp, "rclone-remote")
	if err := os.MkdirAll(remoteDir, 0o755); err != nil {
		note([]string{"1", "2a", "2b", "3"}, err)
		return
	}
	addr, err := freeAddr()
	if err != nil {
		note([]string{"1", "2a", "2b", "3"}, err)
		return
	}
	srv, err := b.kids.startServer(ctx, "rclone-webdav", filepath.Join(b.tmp, "rclone-webdav.log"), addr,
		[]string{b.rclone, "serve", "webdav", "--addr", addr, remoteDir})
	if err != nil {
		note([]string{"1", "2a", "2b", "3"}, err)
		return
	}
	defer b.kids.stopServer(srv)
	mountRclone := func(name, mode string) (*mountProc, error) {
		b.seq++
		id := fmt.Sprintf("%s-%d", name, b.seq)
		dir, state := filepath.Join(b.tmp, "mnt-"+id), filepath.Join(b.tmp, "state-"+id)
		argv := []string{b.rclone, "mount", ":webdav:", dir, "--webdav-url", "http://" + addr,
			"--vfs-cache-mode", mode, "--cache-dir", state, "--config", filepath.Join(state, "rclone.conf")}
		return b.kids.startMount(ctx, name, dir, state, argv)
	}

	if big := b.state["big"]; big != "" && b.ran["1"] {
		func() {
			m, err := mountRclone("rclone-s1", "off")
			if err != nil {
				note([]string{"1", "2a", "2b"}, err)
				return
			}
			defer b.stopMount(m)
			d, err := timed(ctx, "cp", big, filepath.Join(m.dir, "big.bin"))
			if err != nil {
				note([]string{"1"}, err)
				return
			}
			b.rcloneRes["1"] = fmt.Sprintf("%.2f s (%.0f MiB/s)", d.Seconds(), mib(b.big)/d.Seconds())
		}()
		if b.ran["2"] && b.rcloneRes["1"] != "" && b.rcloneRes["1"][0] != 'e' {
			func() {
				m, err := mountRclone("rclone-s2", "full")
				if err != nil {
					note([]string{"2a", "2b"}, err)
					return
				}
				defer b.stopMount(m)
				path := filepath.Join(m.dir, "big.bin")
				nc, cold, err := readAll(path, nil)
				if err != nil || nc != b.big {
					note([]string{"2a", "2b"}, fmt.Errorf("cold read: %d bytes, %v", nc, err))
					return
				}
				nw, warm, err := readAll(path, nil)
				if err != nil || nw != b.big {
					note([]string{"2b"}, fmt.Errorf("warm read: %d bytes, %v", nw, err))
					return
				}
				b.rcloneRes["2a"] = fmt.Sprintf("%.0f MiB/s", mib(b.big)/cold.Seconds())
				b.rcloneRes["2b"] = fmt.Sprintf("%.0f MiB/s", mib(b.big)/warm.Seconds())
			}()
		}
	}
	if set := b.state["setB"]; set != "" && b.ran["3"] {
		func() {
			m, err := mountRclone("rclone-s3", "off")
			if err != nil {
				note([]string{"3"}, err)
				return
			}
			defer b.stopMount(m)
			d, err := timed(ctx, "cp", "-r", set, filepath.Join(m.dir, "s3"))
			if err != nil {
				note([]string{"3"}, err)
				return
			}
			b.rcloneRes["3"] = fmt.Sprintf("%.0f files/s (%.1f s)", float64(b.nSmall)/d.Seconds(), d.Seconds())
		}()
	}
}

// freeAddr is a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitListening waits until something accepts connections at addr.
func waitListening(ctx context.Context, addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before listening on %s", addr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("nothing listening on %s within 30 s", addr)
}
