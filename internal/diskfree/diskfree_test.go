package diskfree

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGaugeAsksOnlyWhenNeeded(t *testing.T) {
	free, calls := int64(100*Every), 0
	g := &Gauge{Dir: "/x", Floor: Every, Statfs: func(string) (int64, error) { calls++; return free, nil }}
	left, err := g.Left(1 << 20)
	require.NoError(t, err)
	assert.Equal(t, free-1<<20, left)
	assert.Equal(t, 1, calls)
	for range 14 {
		_, err = g.Left(1 << 20)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, calls, "15 MiB written: no statfs yet")
	_, err = g.Left(1 << 20)
	require.NoError(t, err)
	assert.Equal(t, 2, calls, "16 MiB written: statfs again")

	// Near the floor every write asks, and a refused write given back
	// with Freed is not counted.
	free, calls = Every+Every/2, 0
	g = &Gauge{Dir: "/x", Floor: Every, Statfs: func(string) (int64, error) { calls++; return free, nil }}
	g.Left(1)
	g.Left(1)
	assert.Equal(t, 2, calls)
	left, _ = g.Left(Every)
	assert.Less(t, left, g.Floor, "this write would go under the floor")
	g.Freed(Every)
	assert.Zero(t, g.since, "the refused write is not counted")
}

func TestOf(t *testing.T) {
	free, err := Of(t.TempDir())
	require.NoError(t, err)
	assert.Positive(t, free)
}

// Writers count their bytes from several goroutines without a lock of
// their own (go test -race).
func TestGaugeConcurrentUse(t *testing.T) {
	g := Gauge{Dir: t.TempDir(), Floor: 1, Statfs: func(string) (int64, error) { return 1 << 40, nil }}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				if _, err := g.Left(4096); err != nil {
					t.Error(err)
				}
				g.Freed(4096)
			}
		})
	}
	wg.Wait()
	left, err := g.Left(0)
	if err != nil || left != 1<<40 {
		t.Errorf("Left(0) = %d, %v after balanced counts, want %d", left, err, int64(1<<40))
	}
}
