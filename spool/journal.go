package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pan123fs/pan123fs/internal/durable"
)

// State is where a spooled file stands on its way to the storage service.
// It is the one spelling of a file's state: the journal's, and the one
// status and the user.pan123.state attribute show.
type State string

// A file's states. Four are journaled: a file is Writing while a writer has
// it open, Pending once its content is complete and fsync'd and it waits
// for its upload, Uploading while its upload runs (with the backend's
// Resume token, so that a restart can resume it), and Failed when the
// service refused it for good. Its record is removed once the service holds
// the content: Synced is never journaled; it is what status and the
// user.pan123.state attribute show for a file with nothing pending.
// Journals of earlier versions spell Pending "closed"; they read back as
// Pending.
const (
	Writing   State = "writing"
	Pending   State = "pending"
	Uploading State = "uploading"
	Failed    State = "failed"
	Synced    State = "synced"
)

// Record is what the journal knows of one spooled file.
type Record struct {
	Key      string    `json:"key"`                // the spool file's base name; unique
	Path     string    `json:"path"`               // where the file is in the mount, "/"-separated, no leading "/"
	Replaces string    `json:"replaces,omitempty"` // the ID of the remote entry this content replaces; opaque
	State    State     `json:"state"`              //
	Size     int64     `json:"size"`               //
	MD5      string    `json:"md5,omitempty"`      // set from Pending on
	Resume   string    `json:"resume,omitempty"`   // the storage backend's token for resuming an interrupted upload; opaque
	Reason   string    `json:"reason,omitempty"`   // why the last attempt failed
	Attempts int       `json:"attempts,omitempty"` //
	Seq      uint64    `json:"seq"`                // order of first journaling
	Updated  time.Time `json:"updated"`            //

	// Damaged says why the record could not be read (see Records); only
	// Key and State are set then.
	Damaged string `json:"-"`
}

// Journal is the spool's record of pending work, kept so that a crash at
// any instant leaves something that reads back correctly:
//
//   - an append-only log of records in DIR/records.log, one line per
//     change, each written with one write(2): "P {record as JSON}" for a
//     put, "R key" for a removal, and "D {"key":…,"damaged":…}" for a
//     record known to be damaged (kept until recovery drops it). Put and
//     Remove fdatasync the log before they return, concurrent callers
//     sharing one fdatasync (group commit); Note does not wait. Replaying
//     the log, the last line of a key wins and a removal drops it. A line
//     that does not parse, or is not ended by a newline (torn by a power
//     loss; zeros are blocks that were never written), is skipped, except
//     that one naming a key that has no record before it makes that key's
//     record damaged (see Records). The log is rewritten with only the
//     live records (temporary file, fsync, rename, fsync of the folder) at
//     OpenJournal and whenever it holds more than 4× as many lines as
//     there are records plus 1,000. A DIR/records folder left by earlier
//     versions (one JSON file per record) is moved into the log at
//     OpenJournal. Records written by earlier versions read back in the
//     current form (see decodeRecord), in which the rewrite at OpenJournal
//     leaves the log;
//   - an append-only log of queued deletes in DIR/deletes.log, one
//     "+ID" or "-ID" line each, fsync'd before a delete call is sent; a
//     torn last line is ignored.
//
// Safe for concurrent use.
type Journal struct {
	dir string

	// The records, and their log.
	rmu     sync.Mutex
	rcond   *sync.Cond        // a sync of the log ended; L is &rmu
	seq     uint64            // GUARDED_BY(rmu)
	recs    map[string]Record // the live records, as the log reads back; GUARDED_BY(rmu)
	recLog  *os.File          // GUARDED_BY(rmu)
	size    int64             // bytes in recLog, all of them whole lines; GUARDED_BY(rmu)
	lines   int               // lines in recLog; GUARDED_BY(rmu)
	end     uint64            // bytes appended to the log since OpenJournal; GUARDED_BY(rmu)
	durable uint64            // how much of end is on the disk; GUARDED_BY(rmu)
	syncing bool              // a sync of recLog runs (without rmu); GUARDED_BY(rmu)
	dirty   bool              // the log may not read back as recs: rewrite it before the next append or sync; GUARDED_BY(rmu)
	putOff  int               // compactions put off after failures; GUARDED_BY(rmu)
	closed  bool              // GUARDED_BY(rmu)

	// Set by OpenJournal; tests change them before using the journal.
	datasync   func(*os.File) error // makes a file's data durable (fdatasync)
	compactMin int                  // the log may hold this many lines more than 4× the records

	mu      sync.Mutex
	delLog  *os.File // GUARDED_BY(mu)
	delOpen map[string]bool
}

var errClosed = errors.New("journal: closed")

// OpenJournal opens (making it, mode 0700) the journal in dir.
func OpenJournal(dir string) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{dir: dir, recs: map[string]Record{}, delOpen: map[string]bool{},
		datasync: datasync, compactMin: 1000}
	j.rcond = sync.NewCond(&j.rmu)
	if err := j.loadRecords(); err != nil {
		if j.recLog != nil {
			j.recLog.Close()
		}
		return nil, err
	}
	pending, err := readDeleteLog(j.delPath())
	if err == nil {
		// Rewrite the log with only what is still pending, so it stays short.
		err = j.rewriteDeletes(pending)
	}
	if err != nil {
		j.recLog.Close()
		return nil, err
	}
	return j, nil
}

func (j *Journal) delPath() string { return filepath.Join(j.dir, "deletes.log") }

// NextSeq hands out the order number of a new record.
func (j *Journal) NextSeq() uint64 {
	j.rmu.Lock()
	defer j.rmu.Unlock()
	j.seq++
	return j.seq
}

// Put writes r durably: when it returns nil, r reads back after a power
// loss. (It is appended to the log, which is then fdatasync'd; Puts and
// Removes that run at once share the fdatasync.)
func (j *Journal) Put(r Record) error {
	t, err := j.Stage(r)
	if err != nil {
		return err
	}
	return t.Wait()
}

// Note writes r as Put does but does not wait for the disk: after a power
// loss (not after a crash of the process) the record may be missing, the
// previous version, or damaged. It is for the Writing state, whose loss
// changes nothing: a spool file without a record, or with a damaged one,
// is kept aside at the next start as a file being written is.
func (j *Journal) Note(r Record) error {
	_, err := j.Stage(r)
	return err
}

// Ticket is a journal write on its way to the disk. The zero Ticket is one
// with nothing to wait for.
type Ticket struct {
	j    *Journal
	upTo uint64
}

// Wait returns once the write is durable, as Put and Remove do. Callers
// that hold locks of their own let go of them first: Wait may wait for an
// fdatasync.
func (t Ticket) Wait() error {
	if t.j == nil {
		return nil
	}
	t.j.rmu.Lock()
	defer t.j.rmu.Unlock()
	return t.j.waitDurableLocked(t.upTo)
}

// Stage writes r as Note does and returns the write's Ticket: Stage, then
// Ticket.Wait, is Put.
func (j *Journal) Stage(r Record) (Ticket, error) {
	if !validKey(r.Key) {
		return Ticket{}, fmt.Errorf("journal: bad key %q", r.Key)
	}
	r.Updated = time.Now().UTC().Round(0) // as it reads back from JSON
	r.Damaged = ""
	line, err := recordLine(nil, r)
	if err != nil {
		return Ticket{}, fmt.Errorf("journal: writing %s: %w", r.Path, err)
	}
	j.rmu.Lock()
	defer j.rmu.Unlock()
	if err := j.appendLocked(line); err != nil {
		return Ticket{}, fmt.Errorf("journal: writing %s: %w", r.Path, err)
	}
	j.recs[r.Key] = r
	upTo := j.end
	j.maybeCompactLocked()
	return Ticket{j: j, upTo: upTo}, nil
}

// Remove drops key's record (done: the service holds the content, or the
// file is gone) durably. Removing a missing record is not an error.
func (j *Journal) Remove(key string) error {
	t, err := j.Drop(key)
	if err != nil {
		return err
	}
	return t.Wait()
}

// Drop removes key's record without waiting for the disk and returns the
// write's Ticket: Drop, then Ticket.Wait, is Remove.
func (j *Journal) Drop(key string) (Ticket, error) {
	j.rmu.Lock()
	defer j.rmu.Unlock()
	if _, ok := j.recs[key]; !ok {
		// Nothing to write; but what was written before (a removal of key
		// by another caller, say) must be on the disk once it is waited for.
		return Ticket{j: j, upTo: j.end}, nil
	}
	line := make([]byte, 0, len(key)+3)
	line = append(append(append(line, "R "...), key...), '\n')
	if err := j.appendLocked(line); err != nil {
		return Ticket{}, fmt.Errorf("journal: removing %s: %w", key, err)
	}
	delete(j.recs, key)
	upTo := j.end
	j.maybeCompactLocked()
	return Ticket{j: j, upTo: upTo}, nil
}

// Records lists every record, oldest first: those read at OpenJournal, as
// changed since by Put, Note and Remove. A record whose last line in the
// log does not parse (one written by Note and cut short by a power loss, or
// damaged by hand) and that had no whole line before comes back with its
// Key, state Writing and Damaged set, so that its data is kept aside rather
// than uploaded; it stays so until it is Put again or removed.
func (j *Journal) Records() ([]Record, error) {
	j.rmu.Lock()
	defer j.rmu.Unlock()
	return j.sortedLocked(), nil
}

// sortedLocked lists the records by Seq.
//
// call with j.rmu held
func (j *Journal) sortedLocked() []Record {
	out := make([]Record, 0, len(j.recs))
	for _, r := range j.recs {
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Seq != out[b].Seq {
			return out[a].Seq < out[b].Seq
		}
		return out[a].Key < out[b].Key
	})
	return out
}

func syncDir(dir string) error {
	if err := durable.SyncDir(dir); err != nil {
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
	var order []string
	live := map[string]bool{}
	eachLine(data, func(line []byte, whole bool) {
		if !whole || len(line) < 2 {
			return // torn by a crash before it was synced: no call was made for it
		}
		id := string(line[1:])
		switch line[0] {
		case '+':
			if !live[id] {
				live[id] = true
				order = append(order, id)
			}
		case '-':
			delete(live, id)
		}
	})
	var out []string
	for _, id := range order {
		if live[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

func (j *Journal) rewriteDeletes(ids []string) error {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString("+" + id + "\n")
	}
	// The rename must last: IDs appended from now on go to the new file.
	if err := durable.WriteFile(j.delPath(), []byte(b.String()), 0o600); err != nil {
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
	return datasync(j.delLog) // append-only, as the records log
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
		return datasync(j.delLog)
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

// Close closes the logs. The journal cannot be used after.
func (j *Journal) Close() error {
	j.rmu.Lock()
	var err error
	if !j.closed {
		j.closed = true
		err = j.recLog.Close()
	}
	j.rmu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	return errors.Join(err, j.delLog.Close())
}
