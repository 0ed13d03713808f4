package main

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pfs "github.com/pan123fs/pan123fs/fs"
)

// TestStatusAndSync drives write-back mode from the shell: cp returns
// before the upload, status shows the pending file, sync waits for it.
func TestStatusAndSync(t *testing.T) {
	url := startEmulator(t)
	m := startMount(t, url, "--write-back=1h")
	rc := checker(t, url)

	sh(t, m.mnt, "head -c 300000 /dev/urandom > photo.jpg && mkdir -p a && echo hi > a/note.txt")
	for p, e := range remoteTree(t, rc) {
		assert.True(t, e.IsDir(), "write-back: %s uploaded before the delay (folders are made at once)", p)
	}

	out := sh(t, m.mnt, binary+" status "+m.mnt)
	assert.Contains(t, out, "photo.jpg")
	assert.Contains(t, out, "a/note.txt")
	assert.Contains(t, out, "pending")

	var st pfs.Status
	require.NoError(t, json.Unmarshal([]byte(sh(t, m.mnt, binary+" status --json "+m.mnt)), &st))
	require.Len(t, st.Items, 2)
	assert.Equal(t, "a/note.txt", st.Items[0].Path)
	assert.Equal(t, int64(3), st.Items[0].Size)
	assert.Equal(t, int64(300000), st.Items[1].Size)

	assert.Contains(t, sh(t, m.mnt, binary+" sync --timeout 1m "+m.mnt), "synced")
	tree := remoteTree(t, rc)
	assert.Equal(t, int64(300000), tree["photo.jpg"].Size)
	assert.Equal(t, md5sumOf([]byte("hi\n")), tree["a/note.txt"].Etag)
	assert.Contains(t, sh(t, m.mnt, binary+" status "+m.mnt), "everything is on 123pan")
	hc, err := controlClient(m.mnt)
	require.NoError(t, err)
	resp, err := hc.Get("http://pan123fs/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	metrics := string(body)
	assert.Contains(t, metrics, "pan123fs_uploads_total 2")
	assert.Contains(t, metrics, "pan123fs_upload_bytes_total 300003")

	assert.Contains(t, shErr(t, m.mnt, binary+" status "+t.TempDir()), "not a pan123fs mount")
}

// TestUnmountDrainsWriteBackQueue: SIGTERM uploads what is queued first.
func TestUnmountDrainsWriteBackQueue(t *testing.T) {
	url := startEmulator(t)
	m := startMount(t, url, "--write-back=1h")
	sh(t, m.mnt, "echo bye > last.txt")
	require.NoError(t, m.stop(t))
	assert.Contains(t, remoteTree(t, checker(t, url)), "last.txt")
}

// TestJournalSurvivesDrainTimeout: what the drain could not upload stays
// journaled and is uploaded by the next mount of the same state.
func TestJournalSurvivesDrainTimeout(t *testing.T) {
	url := startEmulator(t)
	state := t.TempDir()
	m := startMountArgs(t, t.TempDir(), "--api-base", url, "--state-dir", state, "--write-back=1ms", "--drain-timeout", "2s")
	sh(t, m.mnt, "ls")         // the token and the listing, before 123pan starts failing
	setFaults(t, url, "429=1") // refused, never applied
	sh(t, m.mnt, "echo keep > keep.txt")
	require.NoError(t, m.stop(t))
	setFaults(t, url, "")
	assert.NotContains(t, remoteTree(t, checker(t, url)), "keep.txt")

	m = startMountArgs(t, t.TempDir(), "--api-base", url, "--state-dir", state)
	assert.Equal(t, "keep\n", sh(t, m.mnt, "cat keep.txt"), "the pending file is in the mount before its upload")
	sh(t, m.mnt, binary+" sync --timeout 1m "+m.mnt)
	assert.Equal(t, md5sumOf([]byte("keep\n")), remoteTree(t, checker(t, url))["keep.txt"].Etag)
	require.NoError(t, m.stop(t))
}

func setFaults(t *testing.T, url, list string) {
	t.Helper()
	resp, err := httpPost(url+"/__emulator/faults", list)
	require.NoError(t, err)
	require.Equal(t, 200, resp, "setting faults")
}

// TestStatusNamesTheService: with nothing pending, status and the systemd
// status line say which service holds everything, not always 123pan.
func TestStatusNamesTheService(t *testing.T) {
	want := map[string]string{backend123pan: "everything is on 123pan image host", backendWechat: "everything is on WeChat CloudBase storage"}
	eachBackend(t, emuArgs{}, func(t *testing.T, b *backendFixture) {
		m := b.mount(t)
		sh(t, m.mnt, "echo hi > note.txt")
		assert.Contains(t, sh(t, m.mnt, binary+" status "+m.mnt), want[b.kind])
	})
	assert.Equal(t, "mounted at /mnt/x; everything is on WeChat CloudBase storage",
		statusLine("/mnt/x", pfs.Status{Service: "WeChat CloudBase storage"}))
}
