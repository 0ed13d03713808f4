package memstore_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/store"
	"github.com/pan123fs/pan123fs/store/memstore"
	"github.com/pan123fs/pan123fs/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Backend { return memstore.New(memstore.Options{}) })
}

func TestContractOverwriteSmallBatchListLinks(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Backend {
		return memstore.New(memstore.Options{
			Limits:    store.Limits{NameMax: 64, DeleteBatch: 3, Overwrite: true},
			SliceSize: 1000,
			ListLinks: true,
		})
	}, storetest.Options{ResumeSize: 5000, FileSize: 20000})
}

func req(parent, name string, data []byte) store.PutRequest {
	sum := md5.Sum(data)
	return store.PutRequest{Parent: parent, Name: name, Content: bytes.NewReader(data),
		Size: int64(len(data)), MD5: hex.EncodeToString(sum[:])}
}

func TestPutRefusesAWrongMD5(t *testing.T) {
	s := memstore.New(memstore.Options{})
	r := req("", "a.png", []byte("abc"))
	r.MD5 = "00000000000000000000000000000000"
	_, err := s.Put(t.Context(), r)
	require.ErrorIs(t, err, store.ErrPermanent)
	require.True(t, store.FromBackend(err))
	for e, err := range s.List(t.Context(), "") {
		t.Fatalf("List: got %+v, %v after a refused Put", e, err)
	}
}

func TestFailNextAndCalls(t *testing.T) {
	s := memstore.New(memstore.Options{})
	ctx := t.Context()
	boom := errors.New("boom")
	s.FailNext(memstore.OpMkdir, boom, store.ErrRateLimited, store.ErrTemporary)
	s.FailNext(memstore.OpMkdir, &store.Error{Kinds: []error{store.ErrQuota}, Err: boom})

	_, err := s.Mkdir(ctx, "", "d")
	require.ErrorIs(t, err, store.ErrRateLimited)
	require.ErrorIs(t, err, store.ErrTemporary)
	require.ErrorIs(t, err, boom)
	_, err = s.Mkdir(ctx, "", "d")
	require.ErrorIs(t, err, store.ErrQuota)
	require.True(t, store.FromBackend(err))
	d, err := s.Mkdir(ctx, "", "d")
	require.NoError(t, err, "the third call: no fault left")
	assert.Equal(t, 3, s.Calls(memstore.OpMkdir))
	assert.Equal(t, 0, s.Calls(memstore.OpStat))

	s.FailNext(memstore.OpList, boom)
	var errs []error
	for _, err := range s.List(ctx, d.ID) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.True(t, store.FromBackend(errs[0]), "a fault without kinds is still a *store.Error")
	s.ResetCalls()
	assert.Equal(t, 0, s.Calls(memstore.OpMkdir))
}

func TestHook(t *testing.T) {
	s := memstore.New(memstore.Options{})
	var seen []string
	s.SetHook(func(_ context.Context, op, arg string) error {
		seen = append(seen, op+" "+arg)
		if op == memstore.OpStat {
			return errors.New("no stat today")
		}
		return nil
	})
	f, err := s.Put(t.Context(), req("", "a.png", []byte("a")))
	require.NoError(t, err)
	_, err = s.Stat(t.Context(), f.Entry.ID)
	require.Error(t, err)
	assert.True(t, store.FromBackend(err), "the hook's error is wrapped")
	s.SetHook(nil)
	st, err := s.Stat(t.Context(), f.Entry.ID)
	require.NoError(t, err)
	_, err = s.Reader(st).ReadAt(make([]byte, 1), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"Put a.png", "Stat " + f.Entry.ID}, seen)
}

func TestBlockHoldsUntilReleased(t *testing.T) {
	s := memstore.New(memstore.Options{})
	g := s.Block(memstore.OpMkdir)
	done := make(chan error, 1)
	go func() {
		_, err := s.Mkdir(context.Background(), "", "d")
		done <- err
	}()
	<-g.Arrived()
	assert.Equal(t, 1, g.Waiting())
	select {
	case err := <-done:
		t.Fatalf("Mkdir went through a closed gate: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	// Other operations are not held, and the store's lock is free.
	_, err := s.Put(t.Context(), req("", "a.png", nil))
	require.NoError(t, err)
	g.Release()
	require.NoError(t, <-done)
	assert.Equal(t, 0, g.Waiting())
	_, err = s.Mkdir(t.Context(), "", "e")
	require.NoError(t, err, "a released gate holds nothing more")
}

func TestBlockedCallEndsWithItsContext(t *testing.T) {
	s := memstore.New(memstore.Options{})
	g := s.Block(memstore.OpStat)
	defer g.Release()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := s.Stat(ctx, "")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, store.ErrTemporary)
	require.True(t, store.FromBackend(err))
	assert.Equal(t, 0, g.Waiting())
}

func TestResumeIsCounted(t *testing.T) {
	s := memstore.New(memstore.Options{SliceSize: 10})
	data := []byte("more than ten bytes")
	ctx, cancel := context.WithCancel(t.Context())
	r := req("", "a.png", data)
	var tok string
	r.Started = func(t string) { tok = t; cancel() }
	_, err := s.Put(ctx, r)
	require.ErrorIs(t, err, context.Canceled)
	require.NotEmpty(t, tok)
	r = req("", "a.png", data)
	r.Resume = tok
	r.Started = func(string) { t.Error("a resumed Put called Started") }
	_, err = s.Put(t.Context(), r)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Resumed())
}

func TestUsageAndRenameKeepsID(t *testing.T) {
	s := memstore.New(memstore.Options{Total: 1000})
	ctx := t.Context()
	d, err := s.Mkdir(ctx, "", "d")
	require.NoError(t, err)
	f, err := s.Put(ctx, req(d.ID, "a.png", make([]byte, 300)))
	require.NoError(t, err)
	u, err := s.Usage(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(300), u.Used)
	assert.Equal(t, int64(700), u.Free())

	got, err := s.Rename(ctx, f.Entry, "", "b.png")
	require.NoError(t, err)
	assert.Equal(t, f.Entry.ID, got.ID)
	_, err = s.Rename(ctx, d, d.ID, "x")
	require.ErrorIs(t, err, store.ErrPermanent, "a folder into itself")

	require.NoError(t, s.Delete(ctx, []string{d.ID, got.ID}))
	u, err = s.Usage(ctx)
	require.NoError(t, err)
	assert.Zero(t, u.Used)
}

func TestConcurrentUse(t *testing.T) {
	s := memstore.New(memstore.Options{})
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			d, err := s.Mkdir(ctx, "", string(rune('a'+i)))
			if !assert.NoError(t, err) {
				return
			}
			for j := range 20 {
				f, err := s.Put(ctx, req(d.ID, string(rune('a'+j)), []byte{byte(i), byte(j)}))
				if !assert.NoError(t, err) {
					return
				}
				st, err := s.Stat(ctx, f.Entry.ID)
				assert.NoError(t, err)
				buf := make([]byte, 2)
				_, err = s.Reader(st).ReadAt(buf, 0)
				assert.NoError(t, err)
				assert.Equal(t, []byte{byte(i), byte(j)}, buf)
				for range s.List(ctx, d.ID) {
				}
			}
			assert.NoError(t, s.Delete(ctx, []string{d.ID}))
		})
	}
	wg.Wait()
	for e, err := range s.List(ctx, "") {
		t.Errorf("List: %+v, %v left", e, err)
	}
}
