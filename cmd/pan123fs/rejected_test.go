package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pfs "github.com/pan123fs/pan123fs/fs"
)

// TestStatusListsRejected: status names the images moderation rejected,
// by path, once the mount has listed their folders (a fresh mount has not:
// it does not walk the account for this).
func TestStatusListsRejected(t *testing.T) {
	api := startEmulator(t)
	first := startMount(t, api)
	sh(t, first.mnt, "mkdir -p posts && echo bad > posts/bad.png && echo good > posts/good.png")
	e := remoteTree(t, checker(t, api))["posts/bad.png"]
	code, err := httpPost(api+"/__emulator/status", fmt.Sprintf(`{"fileId": %q, "status": 150}`, e.FileID))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, first.stop(t))

	m := startMount(t, api)
	assert.NotContains(t, sh(t, m.mnt, binary+" status "+m.mnt), "rejected", "before any listing")
	sh(t, m.mnt, "ls -R >/dev/null")
	out := sh(t, m.mnt, binary+" status "+m.mnt)
	assert.Contains(t, out, "rejected  posts/bad.png  (by moderation")
	assert.NotContains(t, out, "good.png")
	var st pfs.Status
	require.NoError(t, json.Unmarshal([]byte(sh(t, m.mnt, binary+" status --json "+m.mnt)), &st))
	assert.Equal(t, []string{"posts/bad.png"}, st.Rejected)
	for name, want := range map[string]string{"user.pan123.rejected": "yes", "user.pan123.moderation": "150"} {
		got, err := getxattr(m.path("posts/bad.png"), name)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
}
