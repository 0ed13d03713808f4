package main

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pfs "github.com/pan123fs/pan123fs/fs"
	"github.com/pan123fs/pan123fs/remote/emulator"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// TestDeveloperEndNearIsWarned: an account whose developer entitlement
// ends in 3 days gets a WARN line with the date when mounted, and
// `pan123fs status` says so; df shows the member account's space.
func TestDeveloperEndNearIsWarned(t *testing.T) {
	url := startEmulator(t, "--member", "--developer-ends-in", "72h")
	end := time.Now().Add(72 * time.Hour)
	logs := &logTail{next: testWriter(t, "mount")}
	m := startMountLogging(t, t.TempDir(), logs, "--api-base", url, "--state-dir", t.TempDir())

	line := logs.find(regexp.MustCompile(`level=WARN msg="the 123pan developer entitlement ends ([0-9-]+ [0-9:]+) China time \(in 3 days\)[^"]*open API stops working[^"]*" accessEnds=(\S+)`))
	require.NotNil(t, line, "a warning at start with the date")
	logged, err := wire.ParseTime(line[1])
	require.NoError(t, err)
	assert.WithinDuration(t, end, logged, time.Minute, "the date in the warning")
	attr, err := time.Parse(time.RFC3339, line[2])
	require.NoError(t, err)
	assert.True(t, attr.Equal(logged), "the warning's date %v and its accessEnds attribute %v", logged, attr)

	out := sh(t, m.mnt, binary+" status "+m.mnt)
	assert.Contains(t, out, "everything is on 123pan")
	assert.Contains(t, out, "WARNING: the 123pan developer entitlement ends "+line[1])
	var st pfs.Status
	require.NoError(t, json.Unmarshal([]byte(sh(t, m.mnt, binary+" status --json "+m.mnt)), &st))
	require.NotNil(t, st.Account)
	assert.WithinDuration(t, end, st.Account.AccessEnds, time.Minute)
	assert.True(t, st.Account.Paid)
	assert.EqualValues(t, emulator.DefaultMemberTraffic, st.Account.Traffic)

	fields := strings.Fields(strings.Split(strings.TrimSpace(sh(t, m.mnt, "df -B1 --output=size,avail "+m.mnt)), "\n")[1])
	size, _ := strconv.ParseInt(fields[0], 10, 64)
	avail, _ := strconv.ParseInt(fields[1], 10, 64)
	assert.EqualValues(t, emulator.DefaultMemberSpace, size, "df size: the member account's spacePermanent")
	assert.EqualValues(t, emulator.DefaultMemberSpace, avail, "df avail: nothing used")
}
