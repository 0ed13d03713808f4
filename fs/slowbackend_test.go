package fs

import (
	"context"
	"fmt"
	"iter"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/store"
	"github.com/pan123fs/pan123fs/store/memstore"
)

// slowStore is the in-memory backend with a pause between the entries a
// listing yields, and a Put that takes a while but says it is alive.
type slowStore struct {
	*memstore.Store
	entryPause time.Duration
	putTime    time.Duration
}

func (s *slowStore) List(ctx context.Context, folder string) iter.Seq2[store.Entry, error] {
	return func(yield func(store.Entry, error) bool) {
		for e, err := range s.Store.List(ctx, folder) {
			if err == nil {
				time.Sleep(s.entryPause)
			}
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

func (s *slowStore) Put(ctx context.Context, req store.PutRequest) (store.PutResult, error) {
	for end := time.Now().Add(s.putTime); time.Now().Before(end); time.Sleep(s.putTime / 20) {
		if req.Progress != nil {
			req.Progress(req.Size) // all sent; the service answers while it finishes
		}
	}
	return s.Store.Put(ctx, req)
}

// A listing that takes longer in all than the operation time limit, but
// whose entries keep coming, is waited for: ls of a large folder works.
func TestLongListingThatMovesIsWaitedFor(t *testing.T) {
	ms := memstore.New(memstore.Options{})
	for i := range 12 {
		_, err := ms.Mkdir(t.Context(), "", fmt.Sprintf("d%02d", i))
		require.NoError(t, err)
	}
	slow := &slowStore{Store: ms, entryPause: 50 * time.Millisecond}
	opts := Options{OpTimeout: 300 * time.Millisecond, Logger: quietLogger()}
	_, mnt := serve(t, slow, t.TempDir(), 0, opts)
	ents, err := os.ReadDir(mnt)
	require.NoError(t, err, "12 entries at 50 ms each: 600 ms in all, 50 ms apart")
	assert.Len(t, ents, 12)
}

// A close whose upload takes longer than the operation time limit, while
// the service keeps answering, waits for it and succeeds.
func TestCloseWaitsForAnUploadThatKeepsAnswering(t *testing.T) {
	ms := memstore.New(memstore.Options{})
	slow := &slowStore{Store: ms, putTime: time.Second}
	opts := Options{OpTimeout: 300 * time.Millisecond, Logger: quietLogger()}
	_, mnt := serve(t, slow, t.TempDir(), 0, opts)
	require.NoError(t, os.WriteFile(mnt+"/big.png", []byte("content"), 0o644))
	var names []string
	for e, err := range ms.List(t.Context(), "") {
		require.NoError(t, err)
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{"big.png"}, names)
}
