package fs

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/store"
	"github.com/pan123fs/pan123fs/store/memstore"
)

// memEnv is a filesystem mounted in-process over the in-memory backend:
// for tests of the filesystem's own behaviour, where an emulator of the
// service is not the point. What the store holds is looked at through its
// own interface, not through the filesystem.
type memEnv struct {
	mnt   string
	store *memstore.Store
	fsys  *FS
}

func newMemEnv(t *testing.T, opts Options) *memEnv {
	t.Helper()
	return newMemEnvWith(t, memstore.Options{}, 0, opts)
}

// newMemEnvWith is newMemEnv over a store made with so, and a spool of at
// most spoolMax bytes (0: no limit).
func newMemEnvWith(t *testing.T, so memstore.Options, spoolMax int64, opts Options) *memEnv {
	t.Helper()
	ms := memstore.New(so)
	opts.DeleteWindow = max(opts.DeleteWindow, time.Millisecond)
	fsys, mnt := serve(t, ms, t.TempDir(), spoolMax, opts)
	return &memEnv{mnt: mnt, store: ms, fsys: fsys}
}

func (e *memEnv) path(p string) string { return filepath.Join(e.mnt, p) }

// held reads what the store holds in folder ("" the root): name → content.
func (e *memEnv) held(t *testing.T, folder string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for ent, err := range e.store.List(t.Context(), folder) {
		require.NoError(t, err)
		if ent.Folder {
			out[ent.Name+"/"] = ""
			continue
		}
		full, err := e.store.Stat(t.Context(), ent.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since the listing
		}
		require.NoError(t, err)
		buf := make([]byte, full.Size)
		_, err = e.store.Reader(full).ReadAt(buf, 0)
		require.NoError(t, err)
		out[ent.Name] = string(buf)
	}
	return out
}
