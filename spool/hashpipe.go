package spool

import (
	"hash"
	"sync"
)

// Sequential writes are hashed on a goroutine of their own, so that a
// write returns once its bytes are in the file while the md5 keeps up on
// another core: the kernel holds the writer until the FUSE write returns,
// so md5 inside the write would serialise hashing with everything else.
// Each write is still hashed as it arrives (a copy of its bytes is queued),
// never read back from the file.
const (
	// pipeMin is the smallest write that goes through a pipe: smaller ones,
	// when no pipe runs, are cheaper to hash on the spot.
	pipeMin = 64 << 10
	// pipeDepth bounds the writes queued per file, and so the memory:
	// pipeDepth+1 buffers of at most one write (1 MiB with the mount's
	// MaxWrite) each.
	pipeDepth = 4
	// pipeBufSize is the capacity of pooled buffers; larger writes get a
	// buffer of their own.
	pipeBufSize = 1 << 20
)

var pipeBufs = sync.Pool{New: func() any { b := make([]byte, pipeBufSize); return &b }}

// hashPipe feeds h with queued copies of writes on its own goroutine.
type hashPipe struct {
	h    hash.Hash
	ch   chan *[]byte
	done chan struct{}
}

// startPipe starts a goroutine that owns h until finish returns.
func startPipe(h hash.Hash) *hashPipe {
	p := &hashPipe{h: h, ch: make(chan *[]byte, pipeDepth), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *hashPipe) run() {
	defer close(p.done)
	for b := range p.ch {
		p.h.Write(*b)
		if cap(*b) == pipeBufSize {
			pipeBufs.Put(b)
		}
	}
}

// write queues a copy of b, waiting while pipeDepth writes are queued.
func (p *hashPipe) write(b []byte) {
	var buf *[]byte
	if len(b) <= pipeBufSize {
		buf = pipeBufs.Get().(*[]byte)
		*buf = (*buf)[:len(b)]
	} else {
		s := make([]byte, len(b))
		buf = &s
	}
	copy(*buf, b)
	p.ch <- buf
}

// finish waits until every queued write is hashed and stops the goroutine;
// h is the caller's again.
func (p *hashPipe) finish() {
	close(p.ch)
	<-p.done
}

// hashWrite adds p, which follows the bytes hashed so far, to the running
// md5: through the pipe when one runs or p is large, else on the spot.
// Call with mu held and seq != nil.
func (f *File) hashWrite(p []byte) {
	switch {
	case f.pipe != nil:
		f.pipe.write(p)
	case len(p) >= pipeMin:
		f.pipe = startPipe(f.seq)
		f.pipe.write(p)
	default:
		f.seq.Write(p)
	}
}

// settle waits for the pipe, if one runs, so that seq holds every byte
// queued. Call with mu held.
func (f *File) settle() {
	if f.pipe != nil {
		f.pipe.finish()
		f.pipe = nil
	}
}
