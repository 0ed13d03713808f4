package fs

import (
	"path/filepath"

	"github.com/pan123fs/pan123fs/spool"
)

// journal records the node's state: what a restart needs to finish its
// upload, or to keep its data safe. It writes nothing for a node without
// spool data or one that is unlinked. The Closed record of the default mode
// is not waited for (see spool.Journal.Note): close returns only after the
// upload, so nothing was promised yet, and after a power loss the unsynced
// data would be kept aside anyway (its md5 differs).
func (n *fileNode) journal(state spool.State) error {
	path := n.path()
	n.mu.Lock()
	t, err := n.journalLocked(path, state, state == spool.Pending && !n.fsys.opts.WriteBack)
	n.mu.Unlock()
	if err != nil {
		return err
	}
	return t.Wait()
}

// journalLocked writes the node's record and returns the write's ticket,
// which the caller waits for (spool.Ticket.Wait) once it has let go of
// n.mu and every other lock: no lock is held across a disk flush. path is
// n.path(), taken before locking. quick records without waiting for the
// disk (a zero ticket), as Writing records always are.
//
// call with n.mu held
func (n *fileNode) journalLocked(path string, state spool.State, quick bool) (spool.Ticket, error) {
	j := n.fsys.journal
	if j == nil || n.data == nil || n.unlinked {
		return spool.Ticket{}, nil
	}
	if n.key == "" {
		n.key = filepath.Base(n.data.Path())
		n.seq = j.NextSeq()
		n.fsys.trackPending(n, true)
	}
	r := spool.Record{Key: n.key, Path: path, Replaces: n.id, State: state, Size: n.data.Size(), Seq: n.seq,
		Attempts: n.attempts}
	if state != spool.Writing {
		sum, err := n.data.MD5()
		if err != nil {
			return spool.Ticket{}, err
		}
		r.MD5 = sum
	}
	if state == spool.Uploading {
		r.Resume = n.resume
	}
	if n.lastErr != nil {
		r.Reason = n.lastErr.Error()
	}
	t, err := j.Stage(r)
	if err != nil {
		return spool.Ticket{}, err
	}
	n.jstate = state
	if quick || state == spool.Writing {
		return spool.Ticket{}, nil // its loss changes nothing (see spool.Journal.Note)
	}
	return t, nil
}

// unjournalLocked drops the node's record (the service holds its content, or
// the file is gone) and returns the write's ticket, which the caller waits
// for once it has let go of its locks (see settle).
//
// call with n.mu held
func (n *fileNode) unjournalLocked() spool.Ticket {
	if n.key == "" {
		return spool.Ticket{}
	}
	t, err := n.fsys.journal.Drop(n.key)
	if err != nil {
		n.fsys.log.Warn("journal: removing a record", "name", n.name, "err", err)
	}
	n.key = ""
	n.jstate = ""
	n.resume = ""
	n.fsys.trackPending(n, false)
	return t
}

// settle waits for a journal write of n's to reach the disk, logging a
// failure as what. Call it without holding locks.
func (n *fileNode) settle(t spool.Ticket, what string) {
	if err := t.Wait(); err != nil {
		n.fsys.log.Warn("journal: "+what, "name", n.name, "err", err)
	}
}

// rejournal rewrites the record of a journaled node whose path changed (a
// rename of it or of a folder above it).
func (n *fileNode) rejournal() {
	path := n.path()
	n.mu.Lock()
	if n.key == "" {
		n.mu.Unlock()
		return
	}
	// The state stays what it was: a file still being written must not
	// become "closed" (complete) because it moved.
	t, err := n.journalLocked(path, n.jstate, false)
	n.mu.Unlock()
	if err != nil {
		n.fsys.log.Warn("journal: recording a rename", "path", path, "err", err)
		return
	}
	n.settle(t, "recording a rename")
}

// trackPending keeps the set of journaled nodes, for status and renames.
func (f *FS) trackPending(n *fileNode, on bool) {
	f.pendMu.Lock()
	defer f.pendMu.Unlock()
	if on {
		f.pending[n] = struct{}{}
	} else {
		delete(f.pending, n)
	}
}

// pendingNodes lists the journaled nodes.
func (f *FS) pendingNodes() []*fileNode {
	f.pendMu.Lock()
	defer f.pendMu.Unlock()
	out := make([]*fileNode, 0, len(f.pending))
	for n := range f.pending {
		out = append(out, n)
	}
	return out
}
