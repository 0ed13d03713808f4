package remote

import (
	"io"

	"github.com/pan123fs/pan123fs/internal/stall"
)

// kickReader kicks its watchdog on every read of a request body, so a PUT
// is aborted when the connection stops taking bytes, or when the answer
// does not come within d of the last byte.
type kickReader struct {
	r   io.Reader
	dog *stall.Watchdog
}

func (k *kickReader) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	k.dog.Kick()
	return n, err
}
