package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// emu talks to the emulator child: its admin endpoints and, through
// remote.Client, its API.
type emu struct {
	url   string
	hc    *http.Client
	admin *remote.Client // unlimited rate limits, for setting up and checking
	tmp   string
	pid   int // of the emulator process, for its CPU time
}

// stats is GET /__emulator/stats.
type stats struct {
	Calls       map[string]int64 `json:"calls"`
	Faults      int64            `json:"faults"`
	RateLimited int64            `json:"rate_limited"`
}

func (e *emu) stats(ctx context.Context) (stats, error) {
	var s stats
	return s, getStats(ctx, e.hc, e.url, &s)
}

// diff is what happened between two snapshots.
func (s stats) diff(before stats) stats {
	return stats{Calls: diffCalls(s.Calls, before.Calls), Faults: s.Faults - before.Faults, RateLimited: s.RateLimited - before.RateLimited}
}

// getStats decodes an emulator's GET /__emulator/stats (either backend's)
// into out.
func getStats(ctx context.Context, hc *http.Client, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/__emulator/stats", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("stats: HTTP %s", resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// diffCalls is the calls per route made between two snapshots.
func diffCalls(now, before map[string]int64) map[string]int64 {
	d := map[string]int64{}
	for k, v := range now {
		if n := v - before[k]; n != 0 {
			d[k] = n
		}
	}
	return d
}

// api is the number of API calls (not slice PUTs or downloads).
func (s stats) api() int64 {
	var n int64
	for k, v := range s.Calls {
		if !strings.Contains(k, " /__") {
			n += v
		}
	}
	return n
}

func (s stats) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.Calls)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k[strings.LastIndex(k, "/")+1:], s.Calls[k]))
	}
	parts = append(parts, fmt.Sprintf("rate_limited=%d", s.RateLimited))
	return strings.Join(parts, " ")
}

// setQPS changes the emulator's per-endpoint limits ("" clears them).
func (e *emu) setQPS(ctx context.Context, list string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/__emulator/qps", strings.NewReader(list))
	resp, err := e.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("qps %q: HTTP %s: %s", list, resp.Status, b)
	}
	return nil
}

// unlimited is a --rate-limit list (and Config.Limits) with every endpoint at 0.
func unlimited() (string, map[string]float64) {
	m := map[string]float64{}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(remote.DefaultLimits)) {
		m[k] = 0
		parts = append(parts, k+"=0")
	}
	return strings.Join(parts, ","), m
}

// newClient is a remote.Client of its own client ID (tokens are kept per
// client ID, at most three live: each client and mount gets its own ID so
// that none knocks another's out). limits nil = the client's defaults, as
// a mount without --rate-limit has.
func (e *emu) newClient(id string, limits map[string]float64, conc int) (*remote.Client, error) {
	return remote.New(remote.Config{BaseURL: e.url, ClientID: id, ClientSecret: "bench-secret",
		StateDir: e.tmp + "/client-" + id, Limits: limits, UploadConcurrency: conc})
}

// child finds name in folder parentID ("" = root), or nil.
func (e *emu) child(ctx context.Context, parentID, name string) (*wire.Entry, error) {
	for en, err := range e.admin.List(ctx, parentID) {
		if err != nil {
			return nil, err
		}
		if en.Filename == name {
			return &en, nil
		}
	}
	return nil, nil
}

// folderFiles lists a root folder's files by name.
func (e *emu) folderFiles(ctx context.Context, folder string) (map[string]wire.Entry, error) {
	dir, err := e.child(ctx, "", folder)
	if err != nil {
		return nil, err
	}
	if dir == nil {
		return nil, fmt.Errorf("no folder %q in the root", folder)
	}
	all, err := e.admin.ListAll(ctx, string(dir.FileID))
	if err != nil {
		return nil, err
	}
	out := map[string]wire.Entry{}
	for _, en := range all {
		out[en.Filename] = en
	}
	return out, nil
}

// checkFolder compares a root folder's files with the md5s expected.
func (e *emu) checkFolder(ctx context.Context, folder string, want map[string]string, size int64) error {
	got, err := e.folderFiles(ctx, folder)
	if err != nil {
		return err
	}
	bad := 0
	var first string
	for name, sum := range want {
		en, ok := got[name]
		if !ok || !strings.EqualFold(en.Etag, sum) || en.Size != size {
			if bad++; first == "" {
				first = fmt.Sprintf("%s: listed %v, etag %q, size %d; want %s, %d", name, ok, en.Etag, en.Size, sum, size)
			}
		}
	}
	if bad > 0 || len(got) != len(want) {
		return fmt.Errorf("folder %s holds %d entries, %d of %d files wrong (first: %s)", folder, len(got), bad, len(want), first)
	}
	return nil
}

// traffic is the sum of totalTraffic (bytes downloaded) over a root folder's files.
func (e *emu) traffic(ctx context.Context, folder string) (int64, error) {
	got, err := e.folderFiles(ctx, folder)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, en := range got {
		n += en.TotalTraffic
	}
	return n, nil
}

// httpClient is for the admin endpoints.
func httpClient() *http.Client { return &http.Client{Timeout: time.Minute} }
