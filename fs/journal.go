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
	defer n.mu.Unlock()
	return n.journalLocked(path, state, state == spool.Closed && !n.fsys.opts.WriteBack)
}

// call with n.mu held; path is n.path(), taken before locking. quick
// records without waiting for the disk, as Writing records always are.
func (n *fileNode) journalLocked(path string, state spool.State, quick bool) error {
	j := n.fsys.journal
	if j == nil || n.data == nil || n.unlinked {
		return nil
	}
	if n.key == "" {
		n.key = filepath.Base(n.data.Path())
		n.seq = j.NextSeq()
		n.fsys.trackPending(n, true)
	}
	r := spool.Record{Key: n.key, Path: path, OldID: n.id, State: state, Size: n.data.Size(), Seq: n.seq,
		Attempts: n.attempts}
	if state != spool.Writing {
		sum, err := n.data.MD5()
		if err != nil {
			return err
		}
		r.MD5 = sum
	}
	if n.resume != nil && state == spool.Uploading {
		r.PreuploadID, r.SliceSize = n.resume.preuploadID, n.resume.sliceSize
	}
	if n.lastErr != nil {
		r.Reason = n.lastErr.Error()
	}
	put := j.Put
	if quick || state == spool.Writing {
		put = j.Note // its loss changes nothing (see spool.Journal.Note)
	}
	if err := put(r); err != nil {
		return err
	}
	n.jstate = state
	return nil
}

// unjournalLocked drops the node's record: 123pan holds its content, or
// the file is gone.
//
// call with n.mu held
func (n *fileNode) unjournalLocked() {
	if n.key == "" {
		return
	}
	if err := n.fsys.journal.Remove(n.key); err != nil {
		n.fsys.log.Warn("journal: removing a record", "name", n.name, "err", err)
	}
	n.key = ""
	n.jstate = ""
	n.resume = nil
	n.fsys.trackPending(n, false)
}

// rejournal rewrites the record of a journaled node whose path changed (a
// rename of it or of a folder above it).
func (n *fileNode) rejournal() {
	path := n.path()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.key == "" {
		return
	}
	// The state stays what it was: a file still being written must not
	// become "closed" (complete) because it moved.
	if err := n.journalLocked(path, n.jstate, false); err != nil {
		n.fsys.log.Warn("journal: recording a rename", "path", path, "err", err)
	}
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
