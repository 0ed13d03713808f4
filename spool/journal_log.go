package spool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// The records log (see Journal): its lines, its group commit, its
// compaction, and the move of the earlier one-file-per-record layout into
// it.

const (
	recordsLog = "records.log"
	oldRecords = "records" // the folder of the earlier layout
)

// damagedLine is the JSON of a "D" line: a record known to be damaged.
type damagedLine struct {
	Key     string `json:"key"` // first, as in a Record: a torn line still names its key
	Damaged string `json:"damaged"`
}

// legacyRecord is a record as earlier versions wrote it, with the fields
// they had in place of Replaces and Resume.
type legacyRecord struct {
	Record
	OldID       string `json:"oldID"`
	PreuploadID string `json:"preuploadID"`
	SliceSize   int64  `json:"sliceSize"`
}

// legacyResume is the Resume token of a record that earlier versions wrote
// with a preupload ID and a slice size: {"preuploadID":…,"sliceSize":…},
// the token format the 123pan backend reads. This, with legacyRecord, is
// the only place the spool knows those names: it decodes old journals, and
// never looks inside a token otherwise.
type legacyResume struct {
	PreuploadID string `json:"preuploadID"`
	SliceSize   int64  `json:"sliceSize"`
}

// legacyClosed is how earlier versions spelt Pending.
const legacyClosed State = "closed"

// decodeRecord decodes a record's JSON, as written by this version or an
// earlier one: "oldID" is read as Replaces, "preuploadID" and "sliceSize" as
// a Resume token (see legacyResume), and state "closed" as Pending. A record
// that has a Replaces or a Resume of its own keeps it.
func decodeRecord(data []byte) (Record, error) {
	var l legacyRecord
	if err := json.Unmarshal(data, &l); err != nil {
		return Record{}, err
	}
	r := l.Record
	if r.Replaces == "" {
		r.Replaces = l.OldID
	}
	if r.Resume == "" && l.PreuploadID != "" {
		tok, err := json.Marshal(legacyResume{PreuploadID: l.PreuploadID, SliceSize: l.SliceSize})
		if err != nil {
			return Record{}, err
		}
		r.Resume = string(tok)
	}
	if r.State == legacyClosed {
		r.State = Pending
	}
	return r, nil
}

// validKey says whether key can name a record: a file name (no "/", "\",
// "." or ".."), in UTF-8, without control characters (a key ends an "R"
// line).
func validKey(key string) bool {
	if key == "" || key == "." || key == ".." || !utf8.ValidString(key) {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c == 0x7f || c == '/' || c == '\\' {
			return false
		}
	}
	return true
}

// recordLine appends r's line to b: "P {json}\n", or "D {json}\n" for a
// damaged record.
func recordLine(b []byte, r Record) ([]byte, error) {
	var js []byte
	var err error
	op := "P "
	if r.Damaged != "" {
		op = "D "
		js, err = json.Marshal(damagedLine{Key: r.Key, Damaged: r.Damaged})
	} else {
		js, err = json.Marshal(r)
	}
	if err != nil {
		return b, err
	}
	b = append(b, op...)
	b = append(b, js...)
	return append(b, '\n'), nil
}

// appendLocked appends one whole line to the log, with one write.
//
// call with j.rmu held
func (j *Journal) appendLocked(line []byte) error {
	if j.closed {
		return errClosed
	}
	if j.dirty {
		if err := j.compactLocked(); err != nil {
			return err
		}
	}
	n, err := j.recLog.Write(line)
	if err != nil {
		if n > 0 {
			// Cut off the part written, which would run into the next line.
			if terr := j.recLog.Truncate(j.size); terr != nil {
				j.dirty = true
			}
		}
		return err
	}
	j.size += int64(n)
	j.end += uint64(n)
	j.lines++
	return nil
}

// waitDurableLocked returns once the first upTo bytes appended to the log
// are on the disk: after a sync that started once they were written, or
// after a rewrite of the log. The caller whose wait finds no sync running
// runs one (unlocking j.rmu meanwhile) for everything appended so far; the
// others wait for it, and run the next one if it did not cover them.
//
// call with j.rmu held
func (j *Journal) waitDurableLocked(upTo uint64) error {
	var syncErr error
	for j.durable < upTo {
		switch {
		case j.syncing:
			j.rcond.Wait()
		case j.closed:
			return errClosed
		case j.dirty:
			// A sync failed: the pages it did not write may be dropped
			// while later syncs succeed. A new log holds what is lost.
			if err := j.compactLocked(); err != nil {
				return errors.Join(syncErr, err)
			}
		default:
			f, target := j.recLog, j.end
			j.syncing = true
			j.rmu.Unlock()
			err := j.datasync(f)
			j.rmu.Lock()
			j.syncing = false
			j.rcond.Broadcast()
			switch {
			case err == nil:
				j.durable = max(j.durable, target)
			case j.durable < target: // not covered by a rewrite meanwhile
				syncErr = fmt.Errorf("journal: %w", err)
				j.dirty = true
			}
		}
	}
	return nil
}

// maybeCompactLocked rewrites the log when it holds many more lines than
// records. A failure is not reported (the log stays as it is, or is marked
// dirty and rewritten before its next use) but puts off the next try.
//
// call with j.rmu held
func (j *Journal) maybeCompactLocked() {
	if j.lines <= 4*len(j.recs)+j.compactMin*(1+j.putOff) {
		return
	}
	if err := j.compactLocked(); err != nil {
		j.putOff++
	}
}

// compactLocked rewrites the log with only the live records (temporary
// file, fsync, rename, fsync of the folder), and appends to the new one
// from then on. Everything appended before is then durable.
//
// call with j.rmu held
func (j *Journal) compactLocked() error {
	if j.closed {
		return errClosed
	}
	recs := j.sortedLocked()
	var b []byte
	for _, r := range recs {
		var err error
		if b, err = recordLine(b, r); err != nil {
			return fmt.Errorf("journal: rewriting the records log: %s: %w", r.Key, err)
		}
	}
	path := filepath.Join(j.dir, recordsLog)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("journal: rewriting the records log: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("journal: rewriting the records log: %w", err)
	}
	if j.recLog != nil {
		j.recLog.Close() // a sync running on it holds it open until it ends
	}
	j.recLog, j.size, j.lines = f, int64(len(b)), len(recs)
	if err := syncDir(j.dir); err != nil {
		j.dirty = true // the rename may be lost, and what is appended to f with it
		return err
	}
	j.dirty = false
	j.durable = j.end
	j.putOff = 0
	return nil
}

// loadRecords reads the records (the earlier layout's folder, then the log
// over them), rewrites the log with them, and removes the folder.
func (j *Journal) loadRecords() error {
	old, hadOld, err := readOldRecords(filepath.Join(j.dir, oldRecords))
	if err != nil {
		return err
	}
	for _, r := range old {
		j.recs[r.Key] = r
	}
	data, err := os.ReadFile(filepath.Join(j.dir, recordsLog))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal: %w", err)
	}
	seq := replayLog(data, j.recs)
	for _, r := range j.recs {
		seq = max(seq, r.Seq)
	}
	j.rmu.Lock()
	defer j.rmu.Unlock()
	j.seq = seq
	if err := j.compactLocked(); err != nil {
		return err
	}
	if hadOld {
		// The log holds the folder's records now. (Should this be cut
		// short, the folder is read again at the next start, and the log,
		// read over it, holds the same.)
		if err := os.RemoveAll(filepath.Join(j.dir, oldRecords)); err != nil {
			return fmt.Errorf("journal: removing the records folder of the earlier layout: %w", err)
		}
		if err := syncDir(j.dir); err != nil {
			return err
		}
	}
	return nil
}

// readOldRecords reads a records folder of the earlier layout: one file
// "KEY.json" per record, and ".tmp-*" files left by writes cut short (the
// earlier version of their record, if any, stands). A record file that does
// not parse or that names another key is a damaged record of KEY. found
// says whether the folder exists.
func readOldRecords(dir string) (recs []Record, found bool, err error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("journal: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		key, ok := strings.CutSuffix(name, ".json")
		if !ok || strings.HasPrefix(name, ".tmp-") || !validKey(key) || !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, true, fmt.Errorf("journal: %w", err)
		}
		r, err := decodeRecord(b)
		if err != nil || r.Key != key {
			if err == nil {
				err = fmt.Errorf("it names key %q", r.Key)
			}
			r = Record{Key: key, State: Writing, Damaged: err.Error()}
		}
		recs = append(recs, r)
	}
	return recs, true, nil
}

// replayLog applies the lines of a records log to recs, and returns the
// largest Seq it saw.
func replayLog(data []byte, recs map[string]Record) (maxSeq uint64) {
	eachLine(data, func(line []byte, whole bool) {
		if !whole {
			replayTorn(line, "cut short", recs)
		} else if seq, ok := replayLine(line, recs); ok {
			maxSeq = max(maxSeq, seq)
		}
	})
	return maxSeq
}

// eachLine calls fn with each non-empty line of an append-only log, whole
// telling whether it ended with a newline. Zeros are blocks that a power
// loss left unwritten: the part of a line before them is passed as torn,
// and what follows them may be a whole line.
func eachLine(data []byte, fn func(line []byte, whole bool)) {
	for len(data) > 0 {
		line, rest, whole := bytes.Cut(data, []byte{'\n'})
		data = rest
		for {
			i := bytes.IndexByte(line, 0)
			if i < 0 {
				break
			}
			if i > 0 {
				fn(line[:i], false)
			}
			line = bytes.TrimLeft(line[i:], "\x00")
		}
		if len(line) > 0 {
			fn(line, whole)
		}
	}
}

// replayLine applies one whole line.
func replayLine(line []byte, recs map[string]Record) (seq uint64, ok bool) {
	op, arg := string(line[:min(2, len(line))]), line[min(2, len(line)):]
	var err error
	switch op {
	case "P ":
		var r Record
		if r, err = decodeRecord(arg); err == nil && validKey(r.Key) {
			recs[r.Key] = r
			return r.Seq, true
		}
	case "D ":
		var d damagedLine
		if err = json.Unmarshal(arg, &d); err == nil && validKey(d.Key) && d.Damaged != "" {
			recs[d.Key] = Record{Key: d.Key, State: Writing, Damaged: d.Damaged}
			return 0, true
		}
	case "R ":
		if key := string(arg); validKey(key) {
			delete(recs, key)
			return 0, true
		}
	}
	why := "does not parse"
	if err != nil {
		why += ": " + err.Error()
	}
	replayTorn(line, why, recs)
	return 0, false
}

// replayTorn applies a line that is torn or does not parse: if it names a
// key that has no record, that key's record is damaged (its data is kept
// aside); a record that stands is kept (the line is a change that did not
// make it to the disk).
func replayTorn(line []byte, why string, recs map[string]Record) {
	key := tornKey(line)
	if key == "" {
		return
	}
	if _, ok := recs[key]; !ok {
		recs[key] = Record{Key: key, State: Writing, Damaged: "its journal line " + why}
	}
}

// tornKey is the key a "P" or "D" line starts with (the JSON of both starts
// with the key), or "" if the line is cut before the key ends. (An "R" line
// cut short names a key that is not its own.)
func tornKey(line []byte) string {
	if !bytes.HasPrefix(line, []byte("P ")) && !bytes.HasPrefix(line, []byte("D ")) {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(line[2:]))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	if t, err := dec.Token(); err != nil || t != "key" {
		return ""
	}
	t, err := dec.Token()
	if key, ok := t.(string); err == nil && ok && validKey(key) {
		return key
	}
	return ""
}
