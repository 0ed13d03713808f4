package emulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/pan123fs/pan123fs/internal/durable"
)

// Persistence: state.json is an atomic snapshot (temp file + rename) holding
// the sequence number of the last operation it includes; journal.jsonl is an
// append-only log of operations after it, one JSON object a line, written
// before the call that made it is answered. Loading reads the snapshot,
// replays the newer journal lines (a torn last line from a kill is ignored),
// then writes a fresh snapshot and starts an empty journal. The journal is
// also compacted into a snapshot every compactEvery operations and on Close.
const (
	snapshotFile = "state.json"
	journalFile  = "journal.jsonl"
	compactEvery = 20000
)

// op is one journaled mutation; every field present is applied, in order.
type op struct {
	Seq     int64      `json:"seq"`
	Meta    *meta      `json:"meta,omitempty"`
	Put     []*entry   `json:"put,omitempty"`
	Del     []string   `json:"del,omitempty"`
	Traffic *trafficOp `json:"traffic,omitempty"`
	Tokens  *tokensOp  `json:"tokens,omitempty"`
	Pre     *preupload `json:"pre,omitempty"`
	Part    *partOp    `json:"part,omitempty"`
	Drive   *driveFile `json:"drive,omitempty"`
}

type trafficOp struct {
	ID  string `json:"id"`
	Add int64  `json:"add"`
}

type tokensOp struct {
	Client string   `json:"client"`
	List   []*token `json:"list"`
}

type partOp struct {
	Pre  string `json:"pre"`
	No   int    `json:"no"`
	Size int64  `json:"size"`
	Etag string `json:"etag"`
}

type snapshot struct {
	Seq     int64            `json:"seq"`
	NextSeq int64            `json:"nextSeq"`
	Meta    meta             `json:"meta"`
	Entries []*entry         `json:"entries"`
	Gone    map[string]int64 `json:"gone"`
	Tokens  []*token         `json:"tokens"`
	Pres    []*preupload     `json:"pres"`
	Drives  []*driveFile     `json:"drives"`
	Traffic int64            `json:"traffic,omitempty"` // state.traffic
}

type journal struct {
	f     *os.File
	seq   int64 // last operation written
	count int   // operations since the last snapshot
}

func (j *journal) close() error { return j.f.Close() }

// apply performs one operation on the state.
func (st *state) apply(o *op) {
	if o.Meta != nil {
		st.meta = *o.Meta
	}
	for _, e := range o.Put {
		st.putEntry(e)
	}
	for _, id := range o.Del {
		st.deleteEntry(id)
	}
	if t := o.Traffic; t != nil {
		if e := st.entries[t.ID]; e != nil {
			e.Traffic += t.Add
			st.traffic += t.Add
		}
	}
	if t := o.Tokens; t != nil {
		st.setTokens(t.Client, t.List)
	}
	if p := o.Pre; p != nil {
		st.putPre(p)
	}
	if p := o.Part; p != nil {
		if pre := st.pres[p.Pre]; pre != nil {
			pre.Parts[p.No] = &part{Size: p.Size, Etag: p.Etag}
		}
	}
	if d := o.Drive; d != nil {
		if old := st.drives[d.ID]; old != nil {
			st.unref(old.Etag)
		}
		st.drives[d.ID] = d
		st.ref(d.Etag)
	}
}

// commitLocked journals o (when persistent) and applies it. Caller holds s.mu.
func (s *Server) commitLocked(o *op) error {
	if s.closed {
		return errors.New("emulator is closed")
	}
	if s.jr != nil {
		o.Seq = s.jr.seq + 1
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if _, err := s.jr.f.Write(append(b, '\n')); err != nil {
			s.log.Error("journal write", "err", err)
			return fmt.Errorf("emulator storage: %w", err)
		}
		s.jr.seq = o.Seq
		s.jr.count++
	}
	s.st.apply(o)
	if s.jr != nil && s.jr.count >= compactEvery {
		if err := s.snapshotLocked(); err != nil {
			s.log.Error("snapshot", "err", err)
		}
	}
	return nil
}

// load builds the state from the data directory (or a fresh one).
func (s *Server) load() error {
	st := newState(s.dir)
	s.st = st
	st.loading = true
	var seq int64
	if s.persist {
		b, err := os.ReadFile(filepath.Join(s.dir, snapshotFile))
		switch {
		case err == nil:
			var snap snapshot
			if err := json.Unmarshal(b, &snap); err != nil {
				return fmt.Errorf("%s: %w", snapshotFile, err)
			}
			seq = snap.Seq
			st.traffic = snap.Traffic
			st.apply(&op{Meta: &snap.Meta, Put: snap.Entries})
			for id, q := range snap.Gone {
				st.gone[id] = q
			}
			for _, t := range snap.Tokens {
				st.tokens[t.Token] = t
			}
			for _, p := range snap.Pres {
				st.putPre(p)
			}
			for _, d := range snap.Drives {
				st.apply(&op{Drive: d})
			}
			st.nextSeq = max(st.nextSeq, snap.NextSeq)
		case !errors.Is(err, os.ErrNotExist):
			return err
		}
		if seq, err = s.replay(seq); err != nil {
			return err
		}
	}
	if s.cfg.RevokeTokens && len(st.tokens) > 0 {
		s.log.Info("tokens of earlier runs revoked", "tokens", len(st.tokens))
		clear(st.tokens)
	}
	if st.meta.RootID == "" {
		st.meta = meta{UID: fmt.Sprint(1000000000 + s.randIntN(900000000)), Secret: secureString(mixedAlnum, 48), RootCreated: time.Now()}
		st.meta.RootID = s.newEntryIDLocked()
	}
	for _, q := range st.gone {
		st.nextSeq = max(st.nextSeq, q+1)
	}
	st.loading = false
	if !s.persist {
		return nil
	}
	s.gcFiles()
	f, err := os.OpenFile(filepath.Join(s.dir, journalFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil { // written 0644 by older versions: it holds live tokens
		f.Close()
		return err
	}
	s.jr = &journal{f: f, seq: seq}
	if err := s.snapshotLocked(); err != nil {
		return err
	}
	for _, p := range st.pres {
		if p.State == preAssembled {
			s.scheduleFinalizeLocked(p)
		}
	}
	return nil
}

// replay applies the journal's operations newer than seq.
func (s *Server) replay(seq int64) (int64, error) {
	f, err := os.Open(filepath.Join(s.dir, journalFile))
	if errors.Is(err, os.ErrNotExist) {
		return seq, nil
	}
	if err != nil {
		return seq, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(bytes.TrimSpace(line)) > 0 {
				s.log.Warn("journal: ignoring torn last line", "line", n)
			}
			return seq, nil
		}
		if err != nil {
			return seq, err
		}
		var o op
		if err := json.Unmarshal(line, &o); err != nil {
			if _, perr := r.Peek(1); errors.Is(perr, io.EOF) {
				s.log.Warn("journal: ignoring damaged last line", "line", n, "err", err)
				return seq, nil
			}
			return seq, fmt.Errorf("%s line %d: %w", journalFile, n, err)
		}
		if o.Seq <= seq {
			continue
		}
		s.st.apply(&o)
		seq = o.Seq
	}
}

// snapshotLocked writes the whole state atomically and empties the journal.
func (s *Server) snapshotLocked() error {
	st := s.st
	snap := snapshot{Seq: s.jr.seq, NextSeq: st.nextSeq, Meta: st.meta, Gone: st.gone, Traffic: st.traffic}
	for _, e := range st.entries {
		snap.Entries = append(snap.Entries, e)
	}
	sort.Slice(snap.Entries, func(i, j int) bool { return snap.Entries[i].Seq < snap.Entries[j].Seq })
	for _, t := range st.tokens {
		snap.Tokens = append(snap.Tokens, t)
	}
	sort.Slice(snap.Tokens, func(i, j int) bool { return snap.Tokens[i].Issued.Before(snap.Tokens[j].Issued) })
	old := time.Now().Add(-24 * time.Hour)
	for _, p := range st.pres {
		if (p.State == preDone || p.State == preFailed) && p.Created.Before(old) {
			continue // finished long ago: no client will ask again
		}
		snap.Pres = append(snap.Pres, p)
	}
	for _, d := range st.drives {
		snap.Drives = append(snap.Drives, d)
	}
	b, err := json.Marshal(&snap)
	if err != nil {
		return err
	}
	if err := durable.WriteFile(filepath.Join(s.dir, snapshotFile), b, 0o600); err != nil {
		return err
	}
	if err := s.jr.f.Truncate(0); err != nil {
		return err
	}
	s.jr.count = 0
	return nil
}
