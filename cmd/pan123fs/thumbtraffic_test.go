package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote"
)

// writeNoisyPhotos writes n JPEG photos of random content (sized like a
// blog's photos, not compressible to nothing) into dir; each seed makes
// other photos.
func writeNoisyPhotos(t *testing.T, dir string, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, 480, 360))
		for y := 0; y < 360; y++ {
			for x := 0; x < 480; x++ {
				img.Set(x, y, color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255})
			}
		}
		var b bytes.Buffer
		require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}))
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("photo%03d.jpg", i)), b.Bytes(), 0o644))
	}
}

// folderTraffic sums what 123pan counts as downloaded (totalTraffic) and
// the size of the files of folder name at the root.
func folderTraffic(t *testing.T, rc *remote.Client, name string) (traffic, size int64) {
	t.Helper()
	for path, e := range remoteTree(t, rc) {
		if filepath.Dir(path) == name && !e.IsDir() {
			traffic += e.TotalTraffic
			size += e.Size
		}
	}
	return traffic, size
}

// settledTraffic waits for a folder's traffic to start (at most wait),
// then until it stays the same for 3 s (at most 60 s), and returns it.
func settledTraffic(t *testing.T, rc *remote.Client, name string, wait time.Duration) (traffic, size int64) {
	t.Helper()
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if traffic, size = folderTraffic(t, rc, name); traffic > 0 {
			break
		}
	}
	last, since := traffic, time.Now()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		traffic, size = folderTraffic(t, rc, name)
		if traffic != last {
			last, since = traffic, time.Now()
		} else if time.Since(since) > 3*time.Second {
			break
		}
	}
	return traffic, size
}

// TestThumbnailTraffic measures what PCManFM's thumbnails of a folder of
// 100 photos download: photos put on 123pan by another client (the mount
// has never read them), and photos copied in through the mount (goal: 0).
// The figures go to BENCHMARKS.md; TestFileManagerDeleteTakesTheImageOffTheWeb
// checks the second one on every run.
func TestThumbnailTraffic(t *testing.T) {
	if os.Getenv("PAN123FS_MEASURE") == "" {
		t.Skip("a measurement for BENCHMARKS.md (about 2 min): PAN123FS_MEASURE=1 go test -v -run TestThumbnailTraffic ./cmd/pan123fs")
	}
	emu := startEmulator(t)
	rc := checker(t, emu)
	src, other := t.TempDir(), t.TempDir()
	writeNoisyPhotos(t, src, 100, 1)
	writeNoisyPhotos(t, other, 100, 2) // not the same content: the cache shares that
	cold, err := rc.Mkdir(context.Background(), "", "cold")
	require.NoError(t, err)
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		_, err = rc.Upload(context.Background(), uploadInput(cold, e.Name(), b))
		require.NoError(t, err)
	}
	m := startMount(t, emu)
	sh(t, m.mnt, "mkdir copied && cp "+other+"/*.jpg copied/")
	d := startDesktop(t)

	d.open(m.path("cold"))
	traffic, size := settledTraffic(t, rc, "cold", 30*time.Second)
	t.Logf("thumbnails of 100 photos put there by another client: %d of %d bytes downloaded (%.0f%%)",
		traffic, size, 100*float64(traffic)/float64(size))
	assert.Positive(t, traffic, "PCManFM read the photos (or this measures nothing)")

	d.open(m.path("copied"))
	traffic, size = settledTraffic(t, rc, "copied", 10*time.Second)
	t.Logf("thumbnails of 100 photos copied in through the mount: %d of %d bytes downloaded", traffic, size)
	assert.Zero(t, traffic, "photos written through the mount are never downloaded back")
}
