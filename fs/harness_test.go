package fs

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/cache"
	"github.com/pan123fs/pan123fs/config"
	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/emulator"
	"github.com/pan123fs/pan123fs/remote/pan123"
	"github.com/pan123fs/pan123fs/remote/wire"
	"github.com/pan123fs/pan123fs/spool"
	"github.com/pan123fs/pan123fs/store"
)

const testSlice = 64 << 10

// testEnv is a filesystem mounted in-process over an emulator, with a
// separate client to look at what 123pan holds.
type testEnv struct {
	mnt   string
	emu   *emulator.Server
	check *remote.Client
	fsys  *FS
	state string
}

func newTestEnv(t *testing.T, opts Options) *testEnv {
	t.Helper()
	return newTestEnvWith(t, envConfig{opts: opts})
}

// envConfig are the less common knobs of a test mount.
type envConfig struct {
	opts        Options
	rejectEmpty bool   // the emulator refuses zero-byte files
	spoolMax    int64  // spool size limit (0: none)
	state       string // state folder (spool, journal) an earlier run left; "" for a fresh one
}

func newTestEnvWith(t *testing.T, ec envConfig) *testEnv {
	t.Helper()
	opts := ec.opts
	emu, err := emulator.New(emulator.Config{SliceSize: testSlice, AsyncDelay: 20 * time.Millisecond, RejectEmpty: ec.rejectEmpty})
	require.NoError(t, err)
	require.NoError(t, emu.Start("127.0.0.1:0"))
	t.Cleanup(func() { emu.Close() })

	unlimited := map[string]float64{}
	for name := range remote.DefaultLimits {
		unlimited[name] = 0 // the emulator here has no rate limits
	}
	newClient := func() *remote.Client {
		rc, err := remote.New(remote.Config{BaseURL: emu.URL(), ClientID: "test", ClientSecret: "secret", Limits: unlimited,
			StateDir: t.TempDir(), AsyncPollInterval: 20 * time.Millisecond, Logger: quietLogger(),
			Retry: backoff.Policy{Attempts: 3, Initial: time.Millisecond, Max: 10 * time.Millisecond, Jitter: true}})
		require.NoError(t, err)
		return rc
	}
	rc := newClient()
	state := ec.state
	if state == "" {
		state = t.TempDir()
	}
	if opts.DeleteWindow == 0 {
		opts.DeleteWindow = 50 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	fsys, mnt := serve(t, pan123.New(rc, opts.Logger), state, ec.spoolMax, opts)
	return &testEnv{mnt: mnt, emu: emu, check: newClient(), fsys: fsys, state: state}
}

// serve builds the filesystem over b with its spool and journal in state
// (an earlier run's work is recovered) and mounts it in-process at a fresh
// folder, which it returns; the test's end unmounts and closes it.
func serve(t *testing.T, b store.Backend, state string, spoolMax int64, opts Options) (*FS, string) {
	t.Helper()
	sp, err := spool.Open(filepath.Join(state, "spool"), spoolMax, 0)
	require.NoError(t, err)
	j, err := spool.OpenJournal(filepath.Join(state, "journal"))
	require.NoError(t, err)
	bc, err := cache.NewBlockCache(cache.Options{Dir: t.TempDir(), MaxBytes: 64 << 20, BlockSize: config.Default().Cache.BlockSize})
	require.NoError(t, err)
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	fsys := New(b, sp, j, bc, opts)
	require.NoError(t, fsys.Recover(context.Background()))
	mnt := t.TempDir()
	server, err := fsys.Mount(mnt, MountOptions{DirectMount: true})
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := server.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		fsys.Close(ctx)
		if err := bc.Close(); err != nil {
			t.Errorf("block cache close: %v", err)
		}
	})
	return fsys, mnt
}

func quietLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func (e *testEnv) path(p string) string { return filepath.Join(e.mnt, p) }

// remoteEntries lists a remote folder (by path of folder names from the
// root) through the checking client: name → entry.
func (e *testEnv) remoteEntries(t *testing.T, dirs ...string) map[string]wire.Entry {
	t.Helper()
	ctx := context.Background()
	id := ""
	for _, d := range dirs {
		found := false
		for en, err := range e.check.List(ctx, id) {
			require.NoError(t, err)
			if en.Filename == d && en.IsDir() {
				id, found = string(en.FileID), true
			}
		}
		require.True(t, found, "remote folder %q not found", d)
	}
	out := map[string]wire.Entry{}
	for en, err := range e.check.List(ctx, id) {
		require.NoError(t, err)
		_, dup := out[en.Filename]
		require.False(t, dup, "two remote entries named %q", en.Filename)
		out[en.Filename] = en
	}
	return out
}

// download fetches a remote file's bytes over its public link.
func download(t *testing.T, e wire.Entry) []byte {
	t.Helper()
	resp, err := http.Get(e.DownloadURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// deleteCalls reads the emulator's count of delete calls.
func (e *testEnv) calls(key string) int64 {
	return e.emu.Stats().Calls[key]
}

func (e *testEnv) setFaults(t *testing.T, list string) {
	t.Helper()
	f, err := emulator.ParseFaults(list)
	require.NoError(t, err)
	e.emu.SetFaults(f)
}

// setStatus sets an entry's moderation status through the emulator's admin API.
func (e *testEnv) setStatus(t *testing.T, id string, status int) {
	t.Helper()
	body := strings.NewReader(fmt.Sprintf(`{"fileId":%q,"status":%d}`, id, status))
	resp, err := http.Post(e.emu.URL()+"/__emulator/status", "application/json", body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func uploadOf(parentID, name string, data []byte) remote.UploadInput {
	return remote.UploadInput{ParentID: parentID, Name: name, Src: bytes.NewReader(data), Size: int64(len(data)), MD5: md5hex(data)}
}
