package fs

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/emulator"
	"github.com/pan123fs/pan123fs/store/memstore"
)

// statfs is statfs(2) on the mount.
func (e *testEnv) statfs(t *testing.T) syscall.Statfs_t {
	t.Helper()
	var st syscall.Statfs_t
	require.NoError(t, syscall.Statfs(e.mnt, &st))
	return st
}

// apiAccount is what user/info says now, through the checking client.
func (e *testEnv) apiAccount(t *testing.T) remote.Account {
	t.Helper()
	a, err := e.check.Account(context.Background())
	require.NoError(t, err)
	return a
}

// sameSpace tells whether statfs shows a's space, in whole blocks.
func sameSpace(st syscall.Statfs_t, a remote.Account) bool {
	bs := uint64(st.Bsize)
	return st.Blocks == uint64(a.Total)/bs && st.Bfree == uint64(a.Free())/bs && st.Bavail == st.Bfree
}

func TestStatfsShowsTheAccountsSpace(t *testing.T) {
	e := newTestEnv(t, Options{AccountRefresh: 50 * time.Millisecond})
	a := e.apiAccount(t)
	require.Zero(t, a.Used, "a new account")
	st := e.statfs(t)
	assert.EqualValues(t, statfsBlock, st.Bsize)
	assert.Equal(t, uint64(a.Total)/statfsBlock, st.Blocks, "total blocks = spacePermanent")
	assert.Equal(t, st.Blocks, st.Bfree, "nothing used yet")

	data := make([]byte, 300<<10)
	require.NoError(t, os.WriteFile(e.path("big.jpg"), data, 0o644))
	a = e.apiAccount(t)
	require.EqualValues(t, len(data), a.Used, "user/info after the upload")
	require.Eventually(t, func() bool { return sameSpace(e.statfs(t), a) }, 5*time.Second, 20*time.Millisecond,
		"statfs after the upload shows %d of %d used", a.Used, a.Total)
	assert.Less(t, e.statfs(t).Bfree, e.statfs(t).Blocks)
	acc := e.fsys.Status().Account
	require.NotNil(t, acc)
	assert.Equal(t, a.Used, acc.Used)
	assert.Equal(t, a.DirectTraffic, acc.Traffic)
	assert.Empty(t, acc.Warning, "the emulator's developer entitlement ends a year ahead")

	require.NoError(t, os.Remove(e.path("big.jpg")))
	require.Eventually(t, func() bool {
		a = e.apiAccount(t)
		return a.Used == 0 && sameSpace(e.statfs(t), a)
	}, 5*time.Second, 20*time.Millisecond, "statfs after the delete")
}

func TestStatfsDoesNotWaitForASlowAccountCall(t *testing.T) {
	e := newTestEnv(t, Options{AccountRefresh: 50 * time.Millisecond})
	a := e.apiAccount(t)
	require.Eventually(t, func() bool { return sameSpace(e.statfs(t), a) }, 5*time.Second, 20*time.Millisecond)
	e.emu.SetFaults(emulatorSlow(10 * time.Second))
	time.Sleep(100 * time.Millisecond) // the figures are now old: the next statfs asks again
	for range 5 {
		start := time.Now()
		st := e.statfs(t)
		assert.Less(t, time.Since(start), time.Second, "statfs while user/info hangs")
		assert.True(t, sameSpace(st, a), "statfs shows the last known figures")
		time.Sleep(60 * time.Millisecond)
	}
	e.emu.SetFaults(emulatorSlow(0))
}

// emulatorSlow delays every API answer by d (0: no faults).
func emulatorSlow(d time.Duration) emulator.Faults {
	if d == 0 {
		return emulator.Faults{}
	}
	return emulator.Faults{Slow: 1, SlowDelay: d}
}

// A service that tells no capacity (Usage's Total negative, as WeChat
// CloudBase) shows as 1 PiB less what it says is used, never as a full
// disk, and status says the capacity is unknown.
func TestStatfsOfAServiceWithoutACapacity(t *testing.T) {
	ms := memstore.New(memstore.Options{Total: -1})
	fsys, mnt := serve(t, ms, t.TempDir(), 0, Options{DeleteWindow: time.Millisecond, AccountRefresh: 20 * time.Millisecond})
	require.NoError(t, os.WriteFile(filepath.Join(mnt, "a.jpg"), make([]byte, 64<<10), 0o644))
	var st syscall.Statfs_t
	require.Eventually(t, func() bool {
		require.NoError(t, syscall.Statfs(mnt, &st))
		return st.Bfree < st.Blocks
	}, 5*time.Second, 20*time.Millisecond, "the upload shows as used")
	assert.Equal(t, uint64(unknownSpace/statfsBlock), st.Blocks)
	assert.Equal(t, uint64((unknownSpace-64<<10)/statfsBlock), st.Bfree)
	acc := fsys.Status().Account
	require.NotNil(t, acc)
	assert.EqualValues(t, -1, acc.Total)
	assert.EqualValues(t, -1, acc.Free)
	assert.Equal(t, ms.Name(), fsys.Status().Service)
}
