package cache

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pan123fs/pan123fs/internal/durable"
)

// The index, Dir/index, lists the blocks the cache held when it was
// closed, least recently used first. It is written by Close (to
// Dir/index.tmp, then renamed) once no block is being written, and deleted
// by NewBlockCache as soon as it has been read, so that it is never
// trusted after a run that did not end with Close: without it every cache
// file is deleted, since a block being written when the process died may
// be torn.
//
// Format: indexMagic, then uvarints: the block size, the number of key
// files followed by their 16-byte ids, the number of blocks followed by a
// (key file number, block number, length) triple each; then the CRC-32C of
// all that, 4 bytes little-endian.
const (
	indexName    = "index"
	indexTmpName = indexName + ".tmp" // durable.WriteFile's temporary
	indexMagic   = "pan123fs block cache index 1\n"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// indexEntry is one block listed in the index.
type indexEntry struct {
	k      keyID
	n, len int64
}

// indexEntriesLocked lists the cached blocks, least recently used first.
// Call with mu held.
func (c *BlockCache) indexEntriesLocked() []indexEntry {
	ids := c.lru.Keys()
	entries := make([]indexEntry, 0, len(ids))
	for _, id := range ids {
		l, _ := c.lru.Peek(id)
		entries = append(entries, indexEntry{id.k, id.n, l})
	}
	return entries
}

// writeIndex writes the index of entries.
func (c *BlockCache) writeIndex(entries []indexEntry) error {
	num := make(map[keyID]uint64)
	var keys []keyID
	for _, e := range entries {
		if _, ok := num[e.k]; !ok {
			num[e.k] = uint64(len(keys))
			keys = append(keys, e.k)
		}
	}
	b := make([]byte, 0, len(indexMagic)+3*binary.MaxVarintLen64+len(keys)*16+len(entries)*8+4)
	b = append(b, indexMagic...)
	b = binary.AppendUvarint(b, uint64(c.blockSize))
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = append(b, k[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(entries)))
	for _, e := range entries {
		b = binary.AppendUvarint(b, num[e.k])
		b = binary.AppendUvarint(b, uint64(e.n))
		b = binary.AppendUvarint(b, uint64(e.len))
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
	// The index must not outlive the blocks it names: after a power loss
	// a block not yet on disk would read back torn. Blocks are not fsync'd
	// as they are stored, so write everything back once, here.
	if err := syncFS(c.dir); err != nil {
		return err
	}
	return durable.WriteFile(filepath.Join(c.dir, indexName), b, 0o600) // through indexTmpName
}

// parseIndex decodes an index; ok is false if it is not a whole index
// written with the cache's block size.
func (c *BlockCache) parseIndex(b []byte) (entries []indexEntry, ok bool) {
	if len(b) < len(indexMagic)+4 || string(b[:len(indexMagic)]) != indexMagic {
		return nil, false
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, false
	}
	r := body[len(indexMagic):]
	bad := false
	next := func() uint64 {
		v, n := binary.Uvarint(r)
		if n <= 0 {
			bad = true
			return 0
		}
		r = r[n:]
		return v
	}
	if next() != uint64(c.blockSize) || bad {
		return nil, false
	}
	nkeys := next()
	if bad || nkeys > uint64(len(r))/16 {
		return nil, false
	}
	keys := make([]keyID, nkeys)
	for i := range keys {
		copy(keys[i][:], r[:16])
		r = r[16:]
	}
	nblocks := next()
	if bad || nblocks > uint64(len(r))/3 {
		return nil, false
	}
	entries = make([]indexEntry, 0, nblocks)
	for range nblocks {
		k, n, l := next(), next(), next()
		if bad || k >= nkeys || n > 1<<62 || l > 1<<62 {
			return nil, false
		}
		entries = append(entries, indexEntry{keys[k], int64(n), int64(l)})
	}
	return entries, len(r) == 0
}

// load puts the blocks listed in the index in the LRU, least recently used
// first, ignoring those whose file is missing or too short, deletes the
// index, deletes every cache file (and directory of the old layout, one
// file per block) with no block listed, then evicts down to MaxBytes.
// Names it does not recognise are left alone.
func (c *BlockCache) load() error {
	entries, err := c.takeIndex()
	if err != nil {
		return err
	}
	sizes := make(map[keyID]int64) // -1: not a regular file
	var valid []indexEntry
	for _, e := range entries {
		size, ok := sizes[e.k]
		if !ok {
			size = -1
			if st, err := os.Lstat(c.path(e.k)); err == nil && st.Mode().IsRegular() {
				size = st.Size()
			}
			sizes[e.k] = size
		}
		if e.len > 0 && e.len <= c.blockSize && e.n <= size/c.blockSize && e.n*c.blockSize+e.len <= size {
			valid = append(valid, e)
		}
	}
	keep := make(map[string]bool)
	for _, e := range valid {
		keep[e.k.name()] = true
	}
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case name == indexTmpName:
			os.Remove(filepath.Join(c.dir, name))
		case !isKeyName(name):
		case e.IsDir():
			if err := os.RemoveAll(filepath.Join(c.dir, name)); err != nil {
				return err
			}
		case !keep[name]:
			if err := os.Remove(filepath.Join(c.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	var holes []*hole
	c.mu.Lock()
	for _, e := range valid {
		id := blockID{e.k, e.n}
		if c.lru.Contains(id) {
			continue
		}
		c.lru.Add(id, e.len)
		c.bytes += e.len
		c.keyLocked(e.k).addedLocked(e.n)
	}
	for c.bytes > c.maxBytes {
		ho, _, _ := c.evictOldestLocked()
		holes = appendHole(holes, ho)
	}
	c.mu.Unlock()
	c.punch(holes)
	return nil
}

// takeIndex reads and deletes the index, and returns its entries: none if
// there is no valid index. It fails only if the index cannot be deleted.
func (c *BlockCache) takeIndex() ([]indexEntry, error) {
	path := filepath.Join(c.dir, indexName)
	b, rerr := os.ReadFile(path)
	if errors.Is(rerr, fs.ErrNotExist) {
		return nil, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("delete the index: %w", err)
	}
	// Make the deletion durable before any cache file changes.
	if err := durable.SyncDir(c.dir); err != nil {
		return nil, err
	}
	if rerr != nil {
		return nil, nil
	}
	entries, ok := c.parseIndex(b)
	if !ok {
		return nil, nil
	}
	return entries, nil
}

// isKeyName reports whether name looks like a cache file made for a key
// (or, in the old layout, a directory of its blocks).
func isKeyName(name string) bool {
	_, err := hex.DecodeString(name)
	return len(name) == 32 && err == nil && strings.ToLower(name) == name
}
