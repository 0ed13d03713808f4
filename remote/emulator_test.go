package remote_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/emulator"
)

const emuSlice = 64 << 10

func startEmulator(t *testing.T, cfg emulator.Config) *emulator.Server {
	t.Helper()
	cfg.SliceSize = emuSlice
	cfg.AsyncDelay = 20 * time.Millisecond
	cfg.ClientID, cfg.ClientSecret = "emu-id", "emu-secret"
	s, err := emulator.New(cfg)
	require.NoError(t, err)
	require.NoError(t, s.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func emuClient(t *testing.T, url string, attempts int) *remote.Client {
	t.Helper()
	limits := map[string]float64{}
	for k := range remote.DefaultLimits {
		limits[k] = 0
	}
	c, err := remote.New(remote.Config{
		BaseURL: url, ClientID: "emu-id", ClientSecret: "emu-secret", StateDir: t.TempDir(),
		Limits: limits, AsyncPollInterval: 10 * time.Millisecond, AsyncTimeout: 10 * time.Second,
		Retry: backoff.Policy{Attempts: attempts, Initial: time.Millisecond, Max: 5 * time.Millisecond, Jitter: true},
	})
	require.NoError(t, err)
	return c
}

func data(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*13>>2) ^ seed
	}
	return b
}

func sum(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// uploadAndVerify uploads b as name into dir, then downloads it back both
// ways and compares md5s.
func uploadAndVerify(t *testing.T, c *remote.Client, dir, name string, b []byte) string {
	t.Helper()
	ctx := t.Context()
	res, err := c.Upload(ctx, remote.UploadInput{ParentID: dir, Name: name, Src: bytes.NewReader(b), Size: int64(len(b)), MD5: sum(b)})
	require.NoError(t, err, name)
	e, err := c.Detail(ctx, res.FileID)
	require.NoError(t, err)
	assert.Equal(t, name, e.Filename)
	assert.Equal(t, int64(len(b)), e.Size)
	assert.Equal(t, sum(b), e.Etag)
	require.NotEmpty(t, e.DownloadURL)

	r := c.NewReader(e.DownloadURL, e.Size)
	got := make([]byte, len(b))
	n, err := r.ReadAt(got, 0)
	if err != nil {
		require.ErrorIs(t, err, io.EOF)
	}
	assert.Equal(t, len(b), n)
	assert.Equal(t, sum(b), sum(got), "ReadAt of %s", name)
	if len(b) > 10 {
		part := make([]byte, 7)
		_, err := r.ReadAt(part, int64(len(b)-9))
		require.NoError(t, err)
		assert.Equal(t, b[len(b)-9:len(b)-2], part)
	}
	rc, err := r.Open(ctx, 0)
	require.NoError(t, err)
	streamed, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, sum(b), sum(streamed), "stream of %s", name)
	return res.FileID
}

var sizes = []int{0, 1, emuSlice, 3*emuSlice + 1234}

func TestEmulatorUploadDownload(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	c := emuClient(t, s.URL(), 5)
	ctx := t.Context()
	dir, err := c.Mkdir(ctx, "", "上传")
	require.NoError(t, err)
	for i, n := range sizes {
		uploadAndVerify(t, c, dir, fmt.Sprintf("f%d.bin", i), data(n, byte(i)))
	}
	all, err := c.ListAll(ctx, dir)
	require.NoError(t, err)
	assert.Len(t, all, len(sizes))

	// Reuse: the same bytes under another name.
	b := data(3*emuSlice+1234, 3)
	res, err := c.Upload(ctx, remote.UploadInput{ParentID: dir, Name: "again.bin", Src: bytes.NewReader(b), Size: int64(len(b)), MD5: sum(b)})
	require.NoError(t, err)
	assert.True(t, res.Reused)

	// Name clash, move, delete.
	_, err = c.Mkdir(ctx, dir, "sub")
	require.NoError(t, err)
	_, err = c.Mkdir(ctx, dir, "sub")
	assert.ErrorIs(t, err, remote.ErrNameClash)
	require.NoError(t, c.Move(ctx, []string{res.FileID}, ""))
	e, err := c.Detail(ctx, res.FileID)
	require.NoError(t, err)
	root, err := c.RootID(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, root, "the root's own ID")
	assert.Equal(t, root, string(e.ParentFileID), "parent of a file moved into the root")
	require.NoError(t, c.Delete(ctx, []string{res.FileID, "no-such-id"}))
	_, err = c.Detail(ctx, res.FileID)
	assert.ErrorIs(t, err, remote.ErrNotFound)
}

// With every kind of fault injected, including "applied, then the answer
// lost", operations still succeed exactly once.
func TestEmulatorUnderFaults(t *testing.T) {
	s := startEmulator(t, emulator.Config{Seed: 42, Faults: emulator.Faults{
		P5xx: 0.1, Reset: 0.1, TooMany: 0.1, Verifying: 0.2,
	}})
	c := emuClient(t, s.URL(), 12)
	ctx := t.Context()
	var dirs []string
	for i := range 6 {
		id, err := c.Mkdir(ctx, "", fmt.Sprintf("d%d", i))
		require.NoError(t, err)
		dirs = append(dirs, id)
	}
	for i, n := range sizes {
		uploadAndVerify(t, c, dirs[i], "x.bin", data(n, byte(40+i)))
	}
	s.SetFaults(emulator.Faults{})
	top, err := c.ListAll(ctx, "")
	require.NoError(t, err)
	names := map[string]int{}
	for _, e := range top {
		names[e.Filename]++
	}
	for i := range 6 {
		assert.Equal(t, 1, names[fmt.Sprintf("d%d", i)], "folder d%d exactly once", i)
	}
	for i := range sizes {
		kids, err := c.ListAll(ctx, dirs[i])
		require.NoError(t, err)
		assert.Len(t, kids, 1)
	}
}
