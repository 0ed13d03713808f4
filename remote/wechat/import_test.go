package wechat_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wechat/emulator"
	"github.com/pan123fs/pan123fs/store"
)

// TestImportNamesAnObjectUploadedByOtherMeans: an object a mini program
// uploaded (here: through the client's own upload, under a path of its
// choosing) enters the namespace by its file ID with its size and md5,
// reads back, cannot be imported twice or under a taken name, and is
// deleted with its entry. Unknown and foreign IDs are refused.
func TestImportNamesAnObjectUploadedByOtherMeans(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	data := bytes.Repeat([]byte("mini program image "), 1000)
	fileID, err := b.Client().Upload(t.Context(), "miniprogram/avatars/u1.png", bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(t, err)
	dir, err := b.Mkdir(t.Context(), "", "imported")
	require.NoError(t, err)

	e, err := b.Import(t.Context(), dir.ID, "u1.png", fileID)
	require.NoError(t, err)
	assert.EqualValues(t, len(data), e.Size)
	assert.Equal(t, md5hex(data), e.MD5)
	var names []string
	for got, err := range b.List(t.Context(), dir.ID) {
		require.NoError(t, err)
		names = append(names, got.Name)
		assert.Equal(t, e.ID, got.ID)
	}
	assert.Equal(t, []string{"u1.png"}, names)
	full, err := b.Stat(t.Context(), e.ID)
	require.NoError(t, err)
	assert.Equal(t, data, readAll(t, b, full))

	_, err = b.Import(t.Context(), "", "again.png", fileID)
	assert.ErrorIs(t, err, store.ErrExists, "one object, one entry")
	other, err := b.Client().Upload(t.Context(), "miniprogram/u2.png", bytes.NewReader([]byte("u2")), 2, nil)
	require.NoError(t, err)
	_, err = b.Import(t.Context(), dir.ID, "u1.png", other)
	assert.ErrorIs(t, err, store.ErrExists, "a taken name")
	_, err = b.Import(t.Context(), e.ID, "inside.png", other)
	assert.ErrorIs(t, err, store.ErrNotFound, "a file is no folder to import into")
	_, err = b.Import(t.Context(), "", "gone.png", fileID+"-not-there")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.Import(t.Context(), "", "x.png", "cloud://another-env.7465-another-env-1250000000/x.png")
	assert.ErrorIs(t, err, store.ErrInvalidName)

	objects := emu.Stats().Objects
	require.NoError(t, b.Delete(t.Context(), []string{e.ID}))
	assert.Equal(t, objects-1, emu.Stats().Objects, "the object went with its entry (the emulator's count)")
}
