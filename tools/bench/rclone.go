package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/pan123fs/pan123fs/tools/internal/benchkit"
)

// rcloneModes are the --vfs-cache-mode values of the two rclone columns:
//   - off: cp exits once the WebDAV PUT is done, as cp on pan123fs's
//     default mode exits once the upload is done;
//   - writes: cp exits once the file is in rclone's local cache and the
//     upload follows (after rclone's default --vfs-write-back of 5 s); the
//     figure is the time until the server holds every byte, with cp's own
//     time beside it.
var rcloneModes = []string{"off", "writes"}

// rcloneScenarios repeats scenarios 1-3 on `rclone mount` of `rclone serve
// webdav` (a local folder served on loopback), in each of rcloneModes, when
// rclone is on PATH, and fills rcloneRes[mode][row ID].
func (b *bench) rcloneScenarios(ctx context.Context) {
	if b.rclone == "" || ctx.Err() != nil {
		return
	}
	logf("rclone columns")
	ids := []string{"1", "2a", "2b", "3"}
	remoteDir := filepath.Join(b.tmp, "rclone-remote")
	var srv *mountProc
	addr, err := freeAddr()
	if err == nil {
		err = os.MkdirAll(remoteDir, 0o755)
	}
	if err == nil {
		srv, err = b.kids.startServer(ctx, "rclone-webdav", filepath.Join(b.tmp, "rclone-webdav.log"), addr,
			[]string{b.rclone, "serve", "webdav", "--addr", addr, remoteDir})
	}
	for _, mode := range rcloneModes {
		b.rcloneRes[mode] = map[string]string{}
		if err != nil {
			note(b.rcloneRes[mode], ids, err)
		}
	}
	if err != nil {
		return
	}
	defer b.kids.stopServer(srv)
	for _, mode := range rcloneModes {
		b.rcloneMode(ctx, mode, addr, remoteDir, b.rcloneRes[mode])
	}
}

func (b *bench) rcloneMode(ctx context.Context, mode, addr, remoteDir string, res map[string]string) {
	mountRclone := func(name string) (*mountProc, error) {
		b.seq++
		id := fmt.Sprintf("%s-%s-%d", name, mode, b.seq)
		dir, state := filepath.Join(b.tmp, "mnt-"+id), filepath.Join(b.tmp, "state-"+id)
		argv := []string{b.rclone, "mount", ":webdav:", dir, "--webdav-url", "http://" + addr,
			"--vfs-cache-mode", mode, "--cache-dir", state, "--config", filepath.Join(state, "rclone.conf")}
		return b.kids.startMount(ctx, name, dir, state, argv)
	}
	// upload times cp of src to name in a fresh mount, and, in writes mode,
	// waits until the server holds want bytes under name. It returns the
	// time until the server holds the files, and fills res[id] with it.
	upload := func(id string, want map[string]int64, name string, args ...string) (time.Duration, bool) {
		m, err := mountRclone("rclone-s" + id)
		if err != nil {
			note(res, []string{id}, err)
			return 0, false
		}
		defer b.stopMount(m)
		quiesce()
		t0 := time.Now()
		if _, err := sh(ctx, "cp", append(args, filepath.Join(m.dir, name))...); err != nil {
			note(res, []string{id}, err)
			return 0, false
		}
		cp := time.Since(t0)
		if mode == "off" {
			res[id] = fmt.Sprintf("%.2f s", cp.Seconds())
			return cp, true
		}
		if err := waitFiles(ctx, filepath.Join(remoteDir, name), want, 10*time.Minute); err != nil {
			note(res, []string{id}, err)
			return 0, false
		}
		all := time.Since(t0)
		res[id] = fmt.Sprintf("%.2f s (cp %.2f s)", all.Seconds(), cp.Seconds())
		return all, true
	}

	if big := b.state["big"]; big != "" && b.ran["1"] {
		name := "big-" + mode + ".bin"
		if _, ok := upload("1", map[string]int64{"": b.big}, name, big); ok {
			if sum, err := benchkit.MD5File(filepath.Join(remoteDir, name)); err != nil || sum != b.state["big.md5"] {
				note(res, []string{"1"}, fmt.Errorf("the server's copy has md5 %s (%v), want %s", sum, err, b.state["big.md5"]))
			} else if b.ran["2"] {
				b.rcloneRead(ctx, mountRclone, name, res)
			}
		}
	}
	if set := b.state["setB"]; set != "" && b.ran["3"] {
		want, err := fileSizes(set)
		if err != nil {
			note(res, []string{"3"}, err)
			return
		}
		name := "s3-" + mode
		if d, ok := upload("3", want, name, "-r", set); ok {
			res["3"] = fmt.Sprintf("%.0f files/s (%s)", float64(len(want))/d.Seconds(), res["3"])
		}
	}
}

// rcloneRead reads name through a fresh rclone mount twice (cold, warm).
func (b *bench) rcloneRead(ctx context.Context, mountRclone func(string) (*mountProc, error), name string, res map[string]string) {
	m, err := mountRclone("rclone-s2")
	if err != nil {
		note(res, []string{"2a", "2b"}, err)
		return
	}
	defer b.stopMount(m)
	path := filepath.Join(m.dir, name)
	cold, err := readAll(path, b.big, nil)
	if err != nil {
		note(res, []string{"2a", "2b"}, fmt.Errorf("cold read: %w", err))
		return
	}
	warm, err := readAll(path, b.big, nil)
	if err != nil {
		note(res, []string{"2b"}, fmt.Errorf("warm read: %w", err))
		return
	}
	res["2a"] = fmt.Sprintf("%.0f MiB/s", mib(b.big)/cold.Seconds())
	res["2b"] = fmt.Sprintf("%.0f MiB/s", mib(b.big)/warm.Seconds())
}

// note puts err in the rclone column of the rows ids.
func note(res map[string]string, ids []string, err error) {
	for _, id := range ids {
		res[id] = "error: " + err.Error()
	}
}

// fileSizes maps the names of the regular files in dir to their sizes.
func fileSizes(dir string) (map[string]int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		if info.Mode().IsRegular() {
			out[e.Name()] = info.Size()
		}
	}
	return out, nil
}

// waitFiles waits until path (want's key "") or the files want names in the
// folder path have their sizes.
func waitFiles(ctx context.Context, path string, want map[string]int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		missing := 0
		for name, size := range want {
			st, err := os.Stat(filepath.Join(path, name))
			if err != nil || st.Size() != size {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d files not on the server after %v", missing, len(want), limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
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
