package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// warnArgs make mount log one warning (--client-secret on the command
// line) and then fail at its missing mount point.
func warnArgs(t *testing.T, extra ...string) []string {
	return append([]string{"mount", filepath.Join(t.TempDir(), "missing"), "--client-id", "a", "--client-secret", "b", "--state-dir", t.TempDir()}, extra...)
}

func TestLogFormatAndLevel(t *testing.T) {
	out, err := runWith(t, cleanEnv(t), warnArgs(t, "--log-format", "json")...)
	require.Error(t, err)
	line, _, _ := strings.Cut(out, "\n")
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &rec), "first line %q is JSON", line)
	assert.Equal(t, "WARN", rec["level"])
	assert.Contains(t, rec["msg"], "--client-secret is visible")
	assert.Contains(t, rec, "time")

	out, err = runWith(t, cleanEnv(t), warnArgs(t)...)
	require.Error(t, err)
	assert.Regexp(t, `(?m)^time=\S+ level=WARN msg="--client-secret is visible`, out)

	out, err = runWith(t, cleanEnv(t), warnArgs(t, "--log-level", "error")...)
	require.Error(t, err)
	assert.NotContains(t, out, "level=WARN", "warnings are below --log-level error")

	out, err = runWith(t, cleanEnv(t, "PAN123FS_LOG_LEVEL=error"), warnArgs(t)...)
	require.Error(t, err)
	assert.NotContains(t, out, "level=WARN", "PAN123FS_LOG_LEVEL=error")

	for _, bad := range [][]string{{"--log-level", "loud"}, {"--log-level", "info+2"}, {"--log-format", "xml"}} {
		out, err = runWith(t, cleanEnv(t), warnArgs(t, bad...)...)
		require.Error(t, err)
		assert.Contains(t, out, bad[0]+" \""+bad[1]+"\"", "%v refused", bad)
	}
}

// --log-file appends, creates the file with mode 0600, and leaves stderr
// quiet.
func TestLogFile(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "pan123fs.log")
	for range 2 {
		out, err := runWith(t, cleanEnv(t), warnArgs(t, "--log-file", logPath)...)
		require.Error(t, err)
		assert.NotContains(t, out, "level=WARN", "the log went to the file")
	}
	b, err := os.ReadFile(logPath)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(b), "level=WARN msg=\"--client-secret is visible"), "both runs appended:\n%s", b)
	fi, err := os.Stat(logPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

// Under systemd, stderr is the journal's stream and JOURNAL_STREAM names
// its device and inode: lines then carry no time, the journal adds it. A
// JOURNAL_STREAM naming another file (inherited, say) changes nothing.
func TestJournalLogHasNoTime(t *testing.T) {
	for _, tc := range []struct {
		name     string
		matching bool
	}{{"journal", true}, {"other stream", false}} {
		t.Run(tc.name, func(t *testing.T) {
			stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
			require.NoError(t, err)
			defer stderr.Close()
			var st syscall.Stat_t
			require.NoError(t, syscall.Fstat(int(stderr.Fd()), &st))
			stream := fmt.Sprintf("%d:%d", st.Dev, st.Ino)
			if !tc.matching {
				stream = fmt.Sprintf("%d:%d", st.Dev, st.Ino+1)
			}
			cmd := exec.Command(binary, warnArgs(t)...)
			cmd.Env = cleanEnv(t, "JOURNAL_STREAM="+stream)
			cmd.Stderr = stderr
			require.Error(t, cmd.Run())
			b, err := os.ReadFile(stderr.Name())
			require.NoError(t, err)
			if tc.matching {
				assert.Regexp(t, `(?m)^level=WARN msg="--client-secret is visible`, string(b))
				assert.NotContains(t, string(b), "time=")
			} else {
				assert.Regexp(t, `(?m)^time=\S+ level=WARN msg="--client-secret is visible`, string(b))
			}
		})
	}
}

// At the default level a mount logs what happens to it, not each request:
// forty operations on files add no line.
func TestNoInfoLinePerRequest(t *testing.T) {
	url := startEmulator(t)
	tail := &logTail{next: testWriter(t, "mount")}
	p := startMountLogging(t, t.TempDir(), tail, "--api-base", url, "--state-dir", t.TempDir())
	mounted := tail.find(regexp.MustCompile(`msg=mounted`))
	require.NotNil(t, mounted, "mount logs that it is mounted")
	before := strings.Count(tail.String(), "\n")
	for i := range 10 {
		name := p.path(fmt.Sprintf("f%d.txt", i))
		require.NoError(t, os.WriteFile(name, []byte("data"), 0o644))
		_, err := os.ReadFile(name)
		require.NoError(t, err)
		require.NoError(t, os.Rename(name, name+".old"))
		_, err = os.ReadDir(p.mnt)
		require.NoError(t, err)
	}
	after := tail.String()
	assert.Equal(t, before, strings.Count(after, "\n"), "lines logged during the operations:\n%s", after)
}
