package contract

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/internal/backoff"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/emulator"
)

// faultList is what the emulator injects into every API call and slice PUT.
const faultList = "5xx=0.1,reset=0.05,429=0.1,slow=0.02,verifying=0.2,slow_delay=200ms"

// Uploads of 0 B, 1 B, exactly one slice, several slices plus a tail, and
// a second copy of known content (reuse), all at once while the emulator
// injects faults, each land exactly once with the right bytes. Several
// rounds, each with its own emulator seed.
func TestUploadsUnderFaults(t *testing.T) {
	parallel(t)
	faults, err := emulator.ParseFaults(faultList)
	require.NoError(t, err)
	for _, seed := range []int64{1, 2, 3, 4, 5, 6} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			tg := newEmulatorTarget(t, emulator.Config{Seed: seed, AsyncDelay: 50 * time.Millisecond}, func(cfg *remote.Config) {
				cfg.Retry = backoff.Policy{Attempts: 12, Initial: 2 * time.Millisecond, Max: 20 * time.Millisecond, Jitter: true}
				cfg.AsyncPollInterval = 20 * time.Millisecond
				cfg.CallTimeout = 10 * time.Second
				cfg.StallTimeout = 5 * time.Second
			})
			ctx := t.Context()
			dir := tg.folder(t)
			multi := randBytes(6*emuSlice + 1234)
			files := map[string][]byte{
				"empty.bin": {},
				"one.bin":   randBytes(1),
				"slice.bin": randBytes(emuSlice),
				"multi.bin": multi,
			}

			tg.emu.SetFaults(faults)
			type result struct {
				name string
				err  error
			}
			results := make(chan result, len(files))
			for name, b := range files {
				go func() {
					_, err := tg.c.Upload(ctx, remote.UploadInput{ParentID: dir, Name: name,
						Src: bytes.NewReader(b), Size: int64(len(b)), MD5: md5hex(b)})
					results <- result{name, err}
				}()
			}
			for range files {
				r := <-results
				assert.NoError(t, r.err, "upload %s", r.name)
			}
			// Known content under another name: create answers reuse.
			_, err := tg.c.Upload(ctx, remote.UploadInput{ParentID: dir, Name: "again.bin",
				Src: bytes.NewReader(multi), Size: int64(len(multi)), MD5: md5hex(multi)})
			assert.NoError(t, err, "upload again.bin")
			files["again.bin"] = multi
			tg.emu.SetFaults(emulator.Faults{})
			st := tg.emu.Stats()
			assert.Positive(t, st.Faults, "faults injected")
			t.Logf("seed %d: %d faults injected in %d API calls and %d PUTs", seed, st.Faults, apiCalls(st), st.Calls["PUT /__upload"])

			all, err := tg.c.ListAll(ctx, dir)
			require.NoError(t, err)
			count := map[string]int{}
			for _, e := range all {
				count[e.Filename]++
			}
			want := map[string]int{}
			for name := range files {
				want[name] = 1
			}
			require.Equal(t, want, count, "entries of the folder: one per name, nothing else")
			for _, e := range all {
				tg.requireFile(t, string(e.FileID), dir, e.Filename, files[e.Filename])
			}
		})
	}
}

// apiCalls adds up the API calls among the emulator's stats.
func apiCalls(st emulator.Stats) int64 {
	var n int64
	for k, v := range st.Calls {
		if k != "PUT /__upload" && k != "GET /__download" && k != "HEAD /__download" {
			n += v
		}
	}
	return n
}
