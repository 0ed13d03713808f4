package fs

import (
	"context"
	"io"
	"strconv"
	"sync"

	"github.com/pan123fs/pan123fs/cache"
	"github.com/pan123fs/pan123fs/spool"
	"github.com/pan123fs/pan123fs/store"
)

// Content in the block cache.
//
// A store entry's MD5 is its content's md5, and content of one md5 and size
// is the same content whatever its file ID. So the block cache names content
// by md5 and size: a copy, a file renamed under a new name (which gets a
// new ID), and a file just uploaded share their blocks. The blocks of a
// file written through the mount are put into the cache from the spool
// when its upload succeeds (up to writeThroughMax), so that a thumbnailer
// or an editor reading it back downloads nothing.

// writeThroughMax is the largest file whose uploaded content goes into the
// block cache: images and the like, not videos or archives a thumbnailer
// never reads whole.
const writeThroughMax = 64 << 20

// contentKey names content in the block cache: by md5 and size where the
// etag is an md5, else by file ID.
func contentKey(id, etag string, size int64) cache.Key {
	if isMD5(etag) {
		return cache.Key{FileID: "md5/" + strconv.FormatInt(size, 10), Etag: etag}
	}
	return cache.Key{FileID: id, Etag: etag}
}

func isMD5(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// source is what reading the node's remote content through the block
// cache needs: its key and size, from what the node knows, and a fetcher
// that asks for the download link (a Stat for a file this mount uploaded)
// only when a block is not cached.
func (n *fileNode) source() (cache.Key, int64, cache.Fetcher) {
	n.mu.Lock()
	id, etag, size := n.id, n.entry.MD5, n.entry.Size
	n.mu.Unlock()
	var once sync.Once
	var fetch cache.Fetcher
	var lerr error
	return contentKey(id, etag, size), size, func(ctx context.Context, off, length int64) (io.ReadCloser, error) {
		once.Do(func() {
			var e store.Entry
			e, lerr = n.link(ctx)
			fetch = n.fsys.backend.Reader(e).OpenRange
		})
		if lerr != nil {
			return nil, lerr
		}
		return fetch(ctx, off, length)
	}
}

// writeThrough puts content just uploaded (md5 sum, from data) into the
// block cache, so that reading it back downloads nothing.
func (f *FS) writeThrough(id, sum string, data *spool.File) {
	size := data.Size()
	if size == 0 || size > writeThroughMax {
		return
	}
	fromSpool := func(ctx context.Context, off, length int64) (io.ReadCloser, error) {
		return io.NopCloser(io.NewSectionReader(data, off, length)), nil
	}
	f.blocks.Prefetch(context.Background(), contentKey(id, sum, size), size, fromSpool, 0, size)
}
