package fs

import (
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestModeShownIsFileModeOrDirModeMinusUmask stats the root, a listed file,
// a created file and a created folder: every file shows FileMode and every
// folder DirMode, less the umask, owned by UID and GID; chmod and chown
// (by root, whom the kernel lets through) change nothing that is shown.
func TestModeShownIsFileModeOrDirModeMinusUmask(t *testing.T) {
	for _, tc := range []struct {
		name              string
		opts              Options
		wantFile, wantDir uint32
	}{
		{"defaults", Options{}, 0o644, 0o755},
		{"modes and umask", Options{UID: 65534, GID: 100, FileMode: 0o666, DirMode: 0o777, Umask: 0o027}, 0o640, 0o750},
		{"modes beyond 0777 are cut", Options{FileMode: 0o4755, DirMode: 0o1777}, 0o755, 0o777},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, tc.opts)
			_, err := env.check.Upload(t.Context(), uploadOf("", "listed.png", []byte("listed")))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(env.path("made.png"), []byte("made"), 0o666))
			require.NoError(t, os.Mkdir(env.path("dir"), 0o777))

			want := map[string]uint32{
				"":           syscall.S_IFDIR | tc.wantDir,
				"dir":        syscall.S_IFDIR | tc.wantDir,
				"listed.png": syscall.S_IFREG | tc.wantFile,
				"made.png":   syscall.S_IFREG | tc.wantFile,
			}
			for p, mode := range want {
				var st syscall.Stat_t
				require.NoError(t, syscall.Stat(env.path(p), &st), "stat /%s", p)
				assert.Equal(t, fmt.Sprintf("%o", mode), fmt.Sprintf("%o", st.Mode), "mode of /%s", p)
				assert.Equal(t, [2]uint32{tc.opts.UID, tc.opts.GID}, [2]uint32{st.Uid, st.Gid}, "owner of /%s", p)
			}

			for p, mode := range want {
				require.NoError(t, os.Chmod(env.path(p), 0o7000), "chmod /%s", p)
				require.NoError(t, os.Chown(env.path(p), 12345, 12345), "chown /%s", p)
				var st syscall.Stat_t
				require.NoError(t, syscall.Stat(env.path(p), &st))
				assert.Equal(t, fmt.Sprintf("%o", mode), fmt.Sprintf("%o", st.Mode), "mode of /%s after chmod", p)
				assert.Equal(t, [2]uint32{tc.opts.UID, tc.opts.GID}, [2]uint32{st.Uid, st.Gid}, "owner of /%s after chown", p)
			}
		})
	}
}
