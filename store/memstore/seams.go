package memstore

// The test seams: faults, hooks, call counts and gates.

import (
	"context"
	"fmt"
	"sync"

	"github.com/pan123fs/pan123fs/store"
)

// FailNext makes the next call of op fail with err, made a *store.Error
// matching kinds (and the kinds err has if it is one already). Calls
// queue: FailNext twice fails the next two calls.
func (s *Store) FailNext(op string, err error, kinds ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], store.Wrap(err, kinds...))
}

// SetHook sets the hook called before every operation (nil: none).
func (s *Store) SetHook(h Hook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}

// Calls tells how many calls of op have begun, counting those that failed
// or are still held at a gate.
func (s *Store) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// ResetCalls sets every count of Calls back to 0.
func (s *Store) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
}

// Resumed tells how many Puts carried on an upload by its resume token.
func (s *Store) Resumed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumed
}

// Gate holds the calls of one operation until released.
type Gate struct {
	s       *Store
	op      string
	open    chan struct{}
	arrived chan struct{}
	waiting int // under s.mu
	once    sync.Once
}

// Block makes the calls of op that begin from now wait, before they do
// anything, until the gate is released or their context is done (they
// then fail with a *store.Error matching ErrTemporary that wraps the
// context's error). A gate already set on op is returned as it is.
func (s *Store) Block(op string) *Gate {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.gates[op]; g != nil {
		return g
	}
	g := &Gate{s: s, op: op, open: make(chan struct{}), arrived: make(chan struct{})}
	s.gates[op] = g
	return g
}

// Release lets the held calls go on, and the later ones through.
func (g *Gate) Release() {
	g.once.Do(func() {
		g.s.mu.Lock()
		if g.s.gates[g.op] == g {
			delete(g.s.gates, g.op)
		}
		g.s.mu.Unlock()
		close(g.open)
	})
}

// Arrived is closed when the first call reaches the gate.
func (g *Gate) Arrived() <-chan struct{} { return g.arrived }

// Waiting tells how many calls the gate holds now.
func (g *Gate) Waiting() int {
	g.s.mu.Lock()
	defer g.s.mu.Unlock()
	return g.waiting
}

// begin runs the seams of one call of op: it counts it, holds it at a
// gate, calls the hook and takes a queued fault.
func (s *Store) begin(ctx context.Context, op, arg string) error {
	s.mu.Lock()
	s.calls[op]++
	g := s.gates[op]
	if g != nil {
		if g.waiting == 0 {
			select {
			case <-g.arrived:
			default:
				close(g.arrived)
			}
		}
		g.waiting++
	}
	s.mu.Unlock()

	if g != nil {
		var err error
		select {
		case <-g.open:
		case <-ctx.Done():
			err = ctx.Err()
		}
		s.mu.Lock()
		g.waiting--
		s.mu.Unlock()
		if err != nil {
			return store.Wrap(fmt.Errorf("memstore: %s %q: %w", op, arg, err), store.ErrTemporary)
		}
	}

	s.mu.Lock()
	h := s.hook
	s.mu.Unlock()
	if h != nil {
		if err := h(ctx, op, arg); err != nil {
			return store.Wrap(err)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.faults[op]; len(q) > 0 {
		err := q[0]
		s.faults[op] = q[1:]
		return err
	}
	return nil
}

// ---- errors ----

func fail(kind error, format string, args ...any) error {
	kinds := []error{kind}
	if kind != store.ErrTemporary {
		kinds = append(kinds, store.ErrPermanent)
	}
	return store.Wrap(fmt.Errorf("memstore: "+format, args...), kinds...)
}

func notFound(id string) error { return fail(store.ErrNotFound, "no entry %q", id) }
