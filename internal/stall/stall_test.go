package stall

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A kicked watchdog does not fire; one left alone does, once.
func TestWatchdogFiresWhenNotKicked(t *testing.T) {
	fired := make(chan struct{}, 2)
	w := New(100*time.Millisecond, func() { fired <- struct{}{} })
	for range 5 {
		time.Sleep(30 * time.Millisecond)
		w.Kick()
	}
	assert.False(t, w.Fired(), "kicked every 30 ms")
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("not fired after the kicks stopped")
	}
	assert.True(t, w.Fired())
	w.Stop()
}
