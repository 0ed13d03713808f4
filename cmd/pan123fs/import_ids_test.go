package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wechat"
	wxemulator "github.com/pan123fs/pan123fs/remote/wechat/emulator"
)

// TestImportIDs: objects a mini program stored (uploaded here with the
// WeChat client under paths of its own, never named in the namespace) are
// not in a WeChat CloudBase mount until import-ids names them; then they
// are listed with their bytes and a link, in the folder given, under the
// name given or their own. An unknown file ID is reported and the exit
// status says so; a 123pan mount refuses the command by name.
func TestImportIDs(t *testing.T) {
	emu := wxemulator.New(wxemulator.Options{AppID: "wx-app", Secret: "wx-secret"})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	mini, err := wechat.NewClient(wechat.Config{APIBase: srv.URL, Env: emu.Env(), AppID: "wx-app", Secret: "wx-secret", StateDir: t.TempDir()})
	require.NoError(t, err)
	a, b := bytes.Repeat([]byte("avatar "), 500), []byte("banner bytes")
	idA, err := mini.Upload(t.Context(), "miniprogram/avatars/u1.png", bytes.NewReader(a), int64(len(a)), nil)
	require.NoError(t, err)
	idB, err := mini.Upload(t.Context(), "miniprogram/b.jpg", bytes.NewReader(b), int64(len(b)), nil)
	require.NoError(t, err)

	env := append(os.Environ(), "WECHAT_APPID=wx-app", "WECHAT_SECRET=wx-secret")
	m := startMountEnv(t, t.TempDir(), env, testWriter(t, "mount"), "--backend", "wechat-cloudbase", "--api-base", srv.URL,
		"--wechat-env", emu.Env(), "--state-dir", t.TempDir())
	require.NoError(t, os.Mkdir(m.path("site"), 0o755))
	ents, err := os.ReadDir(m.path("site"))
	require.NoError(t, err)
	require.Empty(t, ents, "nothing lists the storage: the objects are not seen yet")

	list := filepath.Join(t.TempDir(), "ids.txt")
	require.NoError(t, os.WriteFile(list, []byte("# from the mini program\n"+idA+"\n\n"+idB+" top banner.jpg\n"+idA+"-missing\n"), 0o644))
	out, stderr, err := runSplit(t, m.path("site"), "import-ids", list)
	require.Error(t, err, "one ID is not there: %s", out)
	assert.Contains(t, stderr, idA+"-missing: ")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	assert.True(t, strings.HasPrefix(lines[0], "u1.png\t"), lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "top banner.jpg\t"), lines[1])
	assert.Equal(t, a, fetchLink(t, strings.SplitN(lines[0], "\t", 2)[1]))

	got, err := os.ReadFile(m.path("site/u1.png"))
	require.NoError(t, err)
	assert.Equal(t, a, got)
	got, err = os.ReadFile(m.path("site/top banner.jpg"))
	require.NoError(t, err)
	assert.Equal(t, b, got)

	_, stderr, err = runSplit(t, m.path("site"), "import-ids", list)
	require.Error(t, err)
	assert.Contains(t, stderr, "in the namespace already", "an object is named once")

	p := startMount(t, startEmulator(t))
	_, stderr, err = runSplit(t, p.mnt, "import-ids", list)
	require.Error(t, err)
	assert.Contains(t, stderr, "not a WeChat CloudBase mount")
}
