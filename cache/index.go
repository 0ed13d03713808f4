package cache

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// reindex puts the blocks a previous run left in the LRU, least recently
// stored first (block files' mtimes; reads do not touch them), then evicts
// down to MaxBytes. It deletes temporary files and block files of an
// impossible length, and ignores names it does not recognise.
func (c *BlockCache) reindex() error {
	tops, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	type found struct {
		id    blockID
		size  int64
		mtime time.Time
	}
	var blocks []found
	for _, top := range tops {
		if !top.IsDir() || !isKeyDir(top.Name()) {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(c.dir, top.Name()))
		if err != nil {
			return err
		}
		for _, e := range entries {
			id := blockID{dir: top.Name()}
			path := filepath.Join(c.dir, top.Name(), e.Name())
			if strings.HasPrefix(e.Name(), tmpPrefix) {
				os.Remove(path)
				continue
			}
			id.n, err = strconv.ParseInt(e.Name(), 10, 64)
			if err != nil || id.n < 0 || !e.Type().IsRegular() {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue
			}
			if info.Size() == 0 || info.Size() > c.blockSize {
				os.Remove(path)
				continue
			}
			blocks = append(blocks, found{id, info.Size(), info.ModTime()})
		}
	}
	slices.SortFunc(blocks, func(a, b found) int { return a.mtime.Compare(b.mtime) })
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range blocks {
		c.lru.Add(b.id, b.size)
		c.bytes += b.size
	}
	for c.bytes > c.maxBytes {
		c.evictOldestLocked()
	}
	return nil
}

// isKeyDir reports whether name looks like a directory made by keyDir.
func isKeyDir(name string) bool {
	_, err := hex.DecodeString(name)
	return len(name) == 32 && err == nil && strings.ToLower(name) == name
}
