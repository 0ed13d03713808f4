package stall

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A kicked watchdog does not fire; one left alone does. The kicks come
// ten times as often as the watchdog's time, so that a slow machine does
// not make it fire early.
func TestWatchdogFiresWhenNotKicked(t *testing.T) {
	fired := make(chan struct{}, 2)
	w := New(500*time.Millisecond, func() { fired <- struct{}{} })
	for range 10 {
		time.Sleep(50 * time.Millisecond)
		w.Kick()
	}
	assert.False(t, w.Fired(), "kicked every 50 ms")
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("not fired after the kicks stopped")
	}
	assert.True(t, w.Fired())
	w.Stop()
}
