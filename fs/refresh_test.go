package fs

import (
	"io/fs"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// names lists a folder through the mount, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// refreshFixture is a mount with an hour's listing TTL over album/{a,b}.png,
// album/sub/s1.png and an empty folder other, all listed by the mount.
type refreshFixture struct {
	*testEnv
	album, sub, other, a, b string // IDs
}

func newRefreshFixture(t *testing.T, opts Options) *refreshFixture {
	t.Helper()
	opts.DirTTL = time.Hour
	env := newTestEnv(t, opts)
	ctx := t.Context()
	fx := &refreshFixture{testEnv: env}
	var err error
	fx.album, err = env.check.Mkdir(ctx, "", "album")
	require.NoError(t, err)
	fx.other, err = env.check.Mkdir(ctx, "", "other")
	require.NoError(t, err)
	fx.sub, err = env.check.Mkdir(ctx, fx.album, "sub")
	require.NoError(t, err)
	for name, id := range map[string]*string{"a.png": &fx.a, "b.png": &fx.b} {
		up, err := env.check.Upload(ctx, uploadOf(fx.album, name, []byte(name)))
		require.NoError(t, err)
		*id = up.FileID
	}
	_, err = env.check.Upload(ctx, uploadOf(fx.sub, "s1.png", []byte("s1")))
	require.NoError(t, err)

	require.Equal(t, []string{"album", "other"}, names(t, env.mnt))
	require.Equal(t, []string{"a.png", "b.png", "sub"}, names(t, env.path("album")))
	require.Equal(t, []string{"s1.png"}, names(t, env.path("album/sub")))
	require.Empty(t, names(t, env.path("other")))
	return fx
}

// changeElsewhere adds album/c.png, deletes album/a.png, moves album/b.png
// into other and adds album/sub/s2.png, through the other client.
func (fx *refreshFixture) changeElsewhere(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	_, err := fx.check.Upload(ctx, uploadOf(fx.album, "c.png", []byte("c")))
	require.NoError(t, err)
	require.NoError(t, fx.check.Delete(ctx, []string{fx.a}))
	require.NoError(t, fx.check.Move(ctx, []string{fx.b}, fx.other))
	_, err = fx.check.Upload(ctx, uploadOf(fx.sub, "s2.png", []byte("s2")))
	require.NoError(t, err)
}

func TestRefreshShowsChangesMadeElsewhereAtOnce(t *testing.T) {
	fx := newRefreshFixture(t, Options{})
	_, err := os.Stat(fx.path("album/c.png"))
	require.ErrorIs(t, err, fs.ErrNotExist, "looked up before it exists: the kernel caches the miss")
	fx.changeElsewhere(t)

	assert.Equal(t, []string{"a.png", "b.png", "sub"}, names(t, fx.path("album")), "within the TTL the old listing shows")

	got, err := fx.fsys.Refresh(t.Context(), "album", false)
	require.NoError(t, err)
	assert.Equal(t, Refreshed{Folder: "album", Listed: 1}, got)

	assert.Equal(t, []string{"c.png", "sub"}, names(t, fx.path("album")))
	data, err := os.ReadFile(fx.path("album/c.png"))
	require.NoError(t, err, "the kernel's cached miss is dropped")
	assert.Equal(t, "c", string(data))
	_, err = os.Stat(fx.path("album/a.png"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "the kernel's cached entry of a deleted file is dropped")
	assert.Equal(t, []string{"s1.png"}, names(t, fx.path("album/sub")), "without recursive the subfolder keeps its listing")
	assert.Empty(t, names(t, fx.path("other")), "other folders keep theirs")

	got, err = fx.fsys.Refresh(t.Context(), "album/sub/s1.png", false)
	require.NoError(t, err)
	assert.Equal(t, Refreshed{Folder: "album/sub", Listed: 1}, got, "a file's path refreshes its folder")
	assert.Equal(t, []string{"s1.png", "s2.png"}, names(t, fx.path("album/sub")))
}

func TestRefreshRecursiveReachesCachedSubfolders(t *testing.T) {
	fx := newRefreshFixture(t, Options{})
	fx.changeElsewhere(t)
	lists := fx.calls("POST /api/v1/oss/file/list")

	got, err := fx.fsys.Refresh(t.Context(), "", true)
	require.NoError(t, err)
	assert.Equal(t, Refreshed{Folder: "", Listed: 4}, got, "the root, album, album/sub and other")
	assert.Equal(t, lists+4, fx.calls("POST /api/v1/oss/file/list"), "one list call per cached folder")

	assert.Equal(t, []string{"c.png", "sub"}, names(t, fx.path("album")))
	assert.Equal(t, []string{"s1.png", "s2.png"}, names(t, fx.path("album/sub")))
	assert.Equal(t, []string{"b.png"}, names(t, fx.path("other")), "the moved file shows where it went")
	assert.Equal(t, lists+4, fx.calls("POST /api/v1/oss/file/list"), "the new listings are trusted for the TTL")
}

func TestRefreshOfAPathMadeElsewhereRefreshesTheFolderThatKnowsIt(t *testing.T) {
	fx := newRefreshFixture(t, Options{})
	_, err := fx.check.Mkdir(t.Context(), fx.album, "new")
	require.NoError(t, err)

	got, err := fx.fsys.Refresh(t.Context(), "album/new", false)
	require.NoError(t, err)
	assert.Equal(t, Refreshed{Folder: "album", Listed: 1}, got)
	st, err := os.Stat(fx.path("album/new"))
	require.NoError(t, err)
	assert.True(t, st.IsDir())
}

func TestRefreshKeepsFilesNotUploadedYet(t *testing.T) {
	fx := newRefreshFixture(t, Options{})
	f, err := os.Create(fx.path("album/local.png"))
	require.NoError(t, err)
	_, err = f.Write([]byte("written here"))
	require.NoError(t, err)
	fx.changeElsewhere(t)

	_, err = fx.fsys.Refresh(t.Context(), "album", true)
	require.NoError(t, err)
	assert.Equal(t, []string{"c.png", "local.png", "sub"}, names(t, fx.path("album")), "the open file survives the refresh")

	require.NoError(t, f.Close())
	got := fx.remoteEntries(t, "album")
	require.Contains(t, got, "local.png", "and uploads on close")
	assert.Equal(t, "written here", string(download(t, got["local.png"])))
}

func TestForgetListingsMakesTheNextAccessListAgain(t *testing.T) {
	fx := newRefreshFixture(t, Options{})
	fx.changeElsewhere(t)
	lists := fx.calls("POST /api/v1/oss/file/list")

	assert.Equal(t, 4, fx.fsys.ForgetListings(), "the root, album, album/sub and other")
	assert.Equal(t, lists, fx.calls("POST /api/v1/oss/file/list"), "forgetting makes no call")

	assert.Equal(t, []string{"c.png", "sub"}, names(t, fx.path("album")))
	assert.Equal(t, []string{"s1.png", "s2.png"}, names(t, fx.path("album/sub")))
	assert.Equal(t, []string{"b.png"}, names(t, fx.path("other")))
}
