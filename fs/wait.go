package fs

import (
	"context"
)

// How long operations wait for the service.
//
// Lookups, listings, reads and attribute reads wait for the network within
// the caller's request: they end when the kernel interrupts the caller
// (Ctrl-C, kill: EINTR) and after Options.OpTimeout (EIO). Work a caller
// starts and leaves (a listing, a block fetch) goes on in the background
// and serves the next caller.
//
// Operations that change the service (mkdir, rename, create, unlink, truncate)
// are not abandoned for an interrupt, since the kernel interrupts a
// request whenever the calling thread gets any signal, and a change half
// made must be finished or undone by the code that started it; they too
// end after OpTimeout (EIO). A close that uploads waits for the upload
// until it succeeds, fails, or sends nothing for OpTimeout; the upload
// itself, journaled, goes on in the background (await.go). Waiting for a
// folder's listing does not count against OpTimeout either: a listing of
// many pages is abandoned only when no page comes for OpTimeout
// (dirlist.go), and the operation's limit starts again once it is there
// (opctx.go).

// waitCtx bounds a wait for the service that the caller may interrupt.
func (f *FS) waitCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return newOpCtx(ctx, f.clock, f.opts.OpTimeout)
}

// changeCtx bounds a change on the service: only the time limit ends it.
func (f *FS) changeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return newOpCtx(context.WithoutCancel(ctx), f.clock, f.opts.OpTimeout)
}
