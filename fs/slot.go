package fs

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"
)

// uploadSlot is a lock that a waiter can give up on: a file's uploads and
// renames hold it across their calls to the service, so whatever else waits for
// it (opening the file for writing, a truncate, a rename) waits within its
// operation's context. The zero value is unlocked.
type uploadSlot struct {
	once sync.Once
	sem  *semaphore.Weighted
}

func (s *uploadSlot) get() *semaphore.Weighted {
	s.once.Do(func() { s.sem = semaphore.NewWeighted(1) })
	return s.sem
}

// Lock takes the slot, or returns ctx's error if ctx ends first.
func (s *uploadSlot) Lock(ctx context.Context) error { return s.get().Acquire(ctx, 1) }

// Unlock gives the slot back.
func (s *uploadSlot) Unlock() { s.get().Release(1) }
