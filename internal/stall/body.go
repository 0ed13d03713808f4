package stall

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Body aborts a response body whose Read blocks for longer than its
// watchdog's time (time spent outside Read does not count), and tells Got
// of every byte read (downloads are metered).
type Body struct {
	RC     io.ReadCloser
	Dog    *Watchdog
	Cancel context.CancelFunc
	Got    func(n int64)
}

func (b *Body) Read(p []byte) (int, error) {
	b.Dog.Kick()
	n, err := b.RC.Read(p)
	b.Dog.Stop()
	if n > 0 && b.Got != nil {
		b.Got(int64(n))
	}
	if err != nil && b.Dog.Fired() && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("download stalled: %w", err)
	}
	return n, err
}

// Close stops the watchdog and the request, and closes the body.
func (b *Body) Close() error {
	b.Dog.Stop()
	b.Cancel()
	return b.RC.Close()
}

// Limited reads the first n bytes of rc and closes rc.
func Limited(rc io.ReadCloser, n int64) io.ReadCloser {
	return &limited{Reader: io.LimitReader(rc, n), c: rc}
}

type limited struct {
	io.Reader
	c io.Closer
}

func (l *limited) Close() error { return l.c.Close() }
