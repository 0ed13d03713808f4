package fs

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpCtxLimitEndsIt(t *testing.T) {
	clock := clockwork.NewFakeClock()
	ctx, cancel := newOpCtx(context.Background(), clock, time.Second)
	defer cancel()
	clock.Advance(999 * time.Millisecond)
	require.NoError(t, ctx.Err())
	clock.Advance(time.Millisecond)
	<-ctx.Done()
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
}

func TestOpCtxHeldLimitDoesNotRunAndRestartsInFull(t *testing.T) {
	clock := clockwork.NewFakeClock()
	ctx, cancel := newOpCtx(context.Background(), clock, time.Second)
	defer cancel()
	clock.Advance(900 * time.Millisecond)
	release := holdLimit(ctx)
	_, has := ctx.Deadline()
	assert.False(t, has, "no deadline while held")
	clock.Advance(time.Hour)
	require.NoError(t, ctx.Err(), "a held limit does not run")
	release()
	release() // a second release changes nothing
	clock.Advance(999 * time.Millisecond)
	require.NoError(t, ctx.Err(), "the limit starts again in full")
	clock.Advance(time.Millisecond)
	<-ctx.Done()
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
}

func TestOpCtxParentInterruptEndsItWhileHeld(t *testing.T) {
	parent, interrupt := context.WithCancel(context.Background())
	ctx, cancel := newOpCtx(parent, clockwork.NewFakeClock(), time.Second)
	defer cancel()
	defer holdLimit(ctx)()
	interrupt()
	<-ctx.Done()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
}

func TestOpCtxCancelEndsIt(t *testing.T) {
	ctx, cancel := newOpCtx(context.Background(), clockwork.NewFakeClock(), time.Second)
	cancel()
	<-ctx.Done()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
}
