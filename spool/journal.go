package spool

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// State is where a spooled file stands on its way to 123pan.
type State string

// The states a Record goes through. A file is journaled as Writing while a
// writer has it open, Closed once its content is complete and fsync'd,
// Uploading while its upload runs (with the preupload ID, so that a restart
// can resume it), and Failed when 123pan refused it for good. A record is
// removed once 123pan holds the content.
const (
	Writing   State = "writing"
	Closed    State = "closed"
	Uploading State = "uploading"
	Failed    State = "failed"
)

// Record is what the journal knows of one spooled file.
type Record struct {
	Key         string    `json:"key"`                   // the spool file's base name; unique
	Path        string    `json:"path"`                  // where the file is in the mount, "/"-separated, no leading "/"
	OldID       string    `json:"oldID,omitempty"`       // the remote file this content replaces
	State       State     `json:"state"`                 //
	Size        int64     `json:"size"`                  //
	MD5         string    `json:"md5,omitempty"`         // set from Closed on
	PreuploadID string    `json:"preuploadID,omitempty"` // set while Uploading
	SliceSize   int64     `json:"sliceSize,omitempty"`   //
	Reason      string    `json:"reason,omitempty"`      // why the last attempt failed
	Attempts    int       `json:"attempts,omitempty"`    //
	Seq         uint64    `json:"seq"`                   // order of first journaling
	Updated     time.Time `json:"updated"`               //

	// Damaged says why the record file could not be read (see Records);
	// only Key and State are set then.
	Damaged string `json:"-"`
}

// Journal is the spool's record of pending work, kept so that a crash at
// any instant leaves something that reads back correctly:
//
//   - one small JSON file per spooled file in DIR/records, written to a
//     temporary file, fsync'd and renamed into place (a record file is
//     always whole: either the old or the new version);
//   - an append-only log of queued deletes in DIR/deletes.log, one
//     "+ID" or "-ID" line each, fsync'd before a delete call is sent; a
//     torn last line is ignored.
//
// Safe for concurrent use.
type Journal struct {
	dir string

	mu      sync.Mutex
	seq     uint64   // GUARDED_BY(mu)
	delLog  *os.File // GUARDED_BY(mu)
	delOpen map[string]bool
}

// OpenJournal opens (making it, mode 0700) the journal in dir.
func OpenJournal(dir string) (*Journal, error) {
	if err := os.MkdirAll(filepath.Join(dir, "records"), 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{dir: dir, delOpen: map[string]bool{}}
	recs, err := j.Records()
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		j.seq = max(j.seq, r.Seq)
	}
	pending, err := readDeleteLog(j.delPath())
	if err != nil {
		return nil, err
	}
	// Rewrite the log with only what is still pending, so it stays short.
	if err := j.rewriteDeletes(pending); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *Journal) recPath(key string) string { return filepath.Join(j.dir, "records", key+".json") }
func (j *Journal) delPath() string           { return filepath.Join(j.dir, "deletes.log") }

// NextSeq hands out the order number of a new record.
func (j *Journal) NextSeq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	return j.seq
}

// Put writes r durably (temporary file, fsync, rename, fsync of the folder).
func (j *Journal) Put(r Record) error { return j.put(r, true) }

// Note writes r as Put does but does not wait for the disk: after a power
// loss (not after a crash of the process) the record may be missing, the
// previous version, or damaged. It is for the Writing state, whose loss
// changes nothing: a spool file without a record, or with a damaged one,
// is kept aside at the next start as a file being written is.
func (j *Journal) Note(r Record) error { return j.put(r, false) }

func (j *Journal) put(r Record, durable bool) error {
	if r.Key == "" || strings.ContainsAny(r.Key, `/\`) {
		return fmt.Errorf("journal: bad key %q", r.Key)
	}
	r.Updated = time.Now()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	dir := filepath.Join(j.dir, "records")
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil && durable {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), j.recPath(r.Key))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("journal: writing %s: %w", r.Path, err)
	}
	if !durable {
		return nil
	}
	return syncDir(dir)
}

// Remove drops key's record (done: 123pan holds the content, or the file
// is gone). Removing a missing record is not an error.
func (j *Journal) Remove(key string) error {
	err := os.Remove(j.recPath(key))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal: %w", err)
	}
	return syncDir(filepath.Join(j.dir, "records"))
}

// Records reads every record, oldest first. A record file that does not
// parse (one written by Note and cut short by a power loss, or damaged by
// hand) comes back with its Key, state Writing and Damaged set, so that its
// data is kept aside rather than uploaded.
func (j *Journal) Records() ([]Record, error) {
	dir := filepath.Join(j.dir, "records")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var out []Record
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			os.Remove(filepath.Join(dir, name)) // a Put cut short: the old version (if any) stands
			continue
		}
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		var r Record
		if err := json.Unmarshal(b, &r); err != nil || r.Key != strings.TrimSuffix(name, ".json") {
			if err == nil {
				err = fmt.Errorf("it names key %q", r.Key)
			}
			r = Record{Key: strings.TrimSuffix(name, ".json"), State: Writing, Damaged: err.Error()}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Seq < out[b].Seq })
	return out, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// readDeleteLog replays the delete log: the IDs added and not done, in the
// order they were added.
func readDeleteLog(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	lines := strings.Split(string(data), "\n")
	lines = lines[:len(lines)-1] // the piece after the last newline is empty, or a torn line
	var order []string
	live := map[string]bool{}
	for _, line := range lines {
		if len(line) < 2 {
			continue
		}
		id := line[1:]
		switch line[0] {
		case '+':
			if !live[id] {
				live[id] = true
				order = append(order, id)
			}
		case '-':
			delete(live, id)
		}
	}
	var out []string
	for _, id := range order {
		if live[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

func (j *Journal) rewriteDeletes(ids []string) error {
	tmp := j.delPath() + ".tmp"
	var b strings.Builder
	for _, id := range ids {
		b.WriteString("+" + id + "\n")
	}
	if err := writeFileSync(tmp, []byte(b.String())); err != nil {
		return err
	}
	if err := os.Rename(tmp, j.delPath()); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	f, err := os.OpenFile(j.delPath(), os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.delLog = f
	for _, id := range ids {
		j.delOpen[id] = true
	}
	return nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// AddDeletes journals IDs queued for deletion. sync makes them durable now;
// without it they are made durable by the next SyncDeletes.
func (j *Journal) AddDeletes(ids []string, sync bool) error {
	return j.appendDeletes('+', ids, sync)
}

// DoneDeletes journals that IDs were deleted (or are given up).
func (j *Journal) DoneDeletes(ids []string) error {
	return j.appendDeletes('-', ids, false)
}

// SyncDeletes makes the delete log durable.
func (j *Journal) SyncDeletes() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.delLog.Sync()
}

func (j *Journal) appendDeletes(op byte, ids []string, sync bool) error {
	if len(ids) == 0 {
		return nil
	}
	var b strings.Builder
	for _, id := range ids {
		b.WriteByte(op)
		b.WriteString(id)
		b.WriteByte('\n')
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, id := range ids {
		if op == '+' {
			j.delOpen[id] = true
		} else {
			delete(j.delOpen, id)
		}
	}
	if _, err := j.delLog.WriteString(b.String()); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if sync {
		return j.delLog.Sync()
	}
	return nil
}

// PendingDeletes are the IDs queued and not done, as read at OpenJournal
// and updated since.
func (j *Journal) PendingDeletes() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]string, 0, len(j.delOpen))
	for id := range j.delOpen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Close closes the delete log.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.delLog.Close()
}
