package durable

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A second Lock of the same file waits until the first is released, and
// gives up when its context ends.
func TestLockWaitsForTheHolder(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(t.Context(), dir, "x.lock")
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = Lock(ctx, dir, "x.lock")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "held by the first")

	got := make(chan error, 1)
	go func() {
		u, err := Lock(t.Context(), dir, "x.lock")
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the second Lock did not get the file once it was released")
	}
}
