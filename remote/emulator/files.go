package emulator

import (
	"sort"
	"time"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// handleMkdir is POST /upload/v1/oss/file/mkdir.
func (s *Server) handleMkdir(c *call) (any, *apiError) {
	var req wire.MkdirRequest
	if ae := c.decode(&req, "name", "parentID", "type"); ae != nil {
		return nil, ae
	}
	if ae := requireType(req.Type); ae != nil {
		return nil, ae
	}
	if len(req.Name) == 0 {
		return nil, errf(wire.CodeInternal, "name is empty: give at least one folder name")
	}
	seen := map[string]bool{}
	for _, n := range req.Name {
		if err := wire.ValidateName(n); err != nil {
			return nil, errf(wire.CodeInternal, "invalid folder name: %v", err)
		}
		if seen[n] {
			return nil, errClash(msgFolderClash, n)
		}
		seen[n] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, ae := s.st.lookupFolder(req.ParentID)
	if ae != nil {
		return nil, ae
	}
	for _, n := range req.Name {
		if s.st.childNamed(parent, n) != "" {
			return nil, errClash(msgFolderClash, n)
		}
	}
	o := &op{}
	data := wire.MkdirData{List: []wire.MkdirItem{}}
	for _, n := range req.Name {
		e := s.newFolderEntryLocked(parent, n)
		o.Put = append(o.Put, e)
		data.List = append(data.List, wire.MkdirItem{Filename: n, DirID: wire.ID(e.ID)})
	}
	if err := s.commitLocked(o); err != nil {
		return nil, errf(wire.CodeInternal, "%v", err)
	}
	return data, nil
}

// handleDetail is GET /api/v1/oss/file/detail?fileID=.
func (s *Server) handleDetail(c *call) (any, *apiError) {
	q := c.r.URL.Query()
	if !q.Has("fileID") || q.Get("fileID") == "" {
		return nil, errf(wire.CodeInternal, "missing required query parameter fileID")
	}
	id := q.Get("fileID")
	s.mu.RLock()
	defer s.mu.RUnlock()
	if id == s.st.meta.RootID {
		return s.wireEntryLocked(s.rootEntryLocked(), c.base()), nil
	}
	e := s.st.entries[id]
	if e == nil {
		return nil, errf(wire.CodeNotFound, "file %q does not exist", id)
	}
	return s.wireEntryLocked(e, c.base()), nil
}

// handleList is POST /api/v1/oss/file/list.
func (s *Server) handleList(c *call) (any, *apiError) {
	var req wire.ListRequest
	if ae := c.decode(&req, "limit", "type"); ae != nil {
		return nil, ae
	}
	if ae := requireType(req.Type); ae != nil {
		return nil, ae
	}
	if req.Limit < 1 || req.Limit > wire.MaxBatch {
		return nil, errf(wire.CodeInternal, "limit must be between 1 and %d, got %d", wire.MaxBatch, req.Limit)
	}
	if req.StartTime < 0 || req.EndTime < 0 || (req.EndTime > 0 && req.StartTime > req.EndTime) {
		return nil, errf(wire.CodeInternal, "invalid time range startTime=%d endTime=%d", req.StartTime, req.EndTime)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	parent, ae := s.st.lookupFolder(req.ParentFileID)
	if ae != nil {
		return nil, ae
	}
	var order []*entry
	if f := s.st.folders[parent]; f != nil {
		order = f.order
	}
	start := 0
	if req.LastFileID != "" && req.LastFileID != wire.ListEnd {
		seq, ok := s.seqOfLocked(req.LastFileID)
		if !ok {
			return nil, errf(wire.CodeInternal, "lastFileId %q is not a file this account ever had", req.LastFileID)
		}
		start = sort.Search(len(order), func(i int) bool { return order[i].Seq > seq })
	} else if req.LastFileID == wire.ListEnd {
		start = len(order)
	}
	data := wire.ListData{LastFileID: wire.ListEnd, FileList: []wire.Entry{}}
	base := c.base()
	var last string
	i := start
	for ; i < len(order) && len(data.FileList) < req.Limit; i++ {
		e := order[i]
		if !inRange(e.Created, req.StartTime, req.EndTime) {
			continue
		}
		data.FileList = append(data.FileList, s.wireEntryLocked(e, base))
		last = e.ID
	}
	for ; i < len(order); i++ { // anything left that passes the filter?
		if inRange(order[i].Created, req.StartTime, req.EndTime) {
			data.LastFileID = wire.ID(last)
			break
		}
	}
	return data, nil
}

// seqOfLocked finds the creation position of an entry, alive or deleted.
func (s *Server) seqOfLocked(id string) (int64, bool) {
	if e := s.st.entries[id]; e != nil {
		return e.Seq, true
	}
	seq, ok := s.st.gone[id]
	return seq, ok
}

func inRange(t time.Time, start, end int64) bool {
	u := t.Unix()
	return (start == 0 || u >= start) && (end == 0 || u <= end)
}

// checkIDs validates a fileIDs list of delete or move.
func checkIDs(ids []string) *apiError {
	if len(ids) == 0 {
		return errf(wire.CodeInternal, "fileIDs is empty")
	}
	if len(ids) > wire.MaxBatch {
		return errf(wire.CodeInternal, "fileIDs holds %d IDs, at most %d are allowed", len(ids), wire.MaxBatch)
	}
	return nil
}

// handleDelete is POST /api/v1/oss/file/delete: missing IDs are ignored,
// folders go with everything below them.
func (s *Server) handleDelete(c *call) (any, *apiError) {
	var req wire.DeleteRequest
	if ae := c.decode(&req, "fileIDs"); ae != nil {
		return nil, ae
	}
	if ae := checkIDs(req.FileIDs); ae != nil {
		return nil, ae
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &op{}
	seen := map[string]bool{}
	for _, id := range req.FileIDs {
		if s.st.isRoot(id) {
			return nil, errf(wire.CodeInternal, "the root folder cannot be deleted")
		}
		if s.st.entries[id] == nil || seen[id] {
			continue
		}
		for _, d := range s.st.subtree(id, nil) {
			if !seen[d] {
				seen[d] = true
				o.Del = append(o.Del, d)
			}
		}
	}
	if len(o.Del) == 0 {
		return nil, nil
	}
	if err := s.commitLocked(o); err != nil {
		return nil, errf(wire.CodeInternal, "%v", err)
	}
	s.log.Debug("deleted", "entries", len(o.Del))
	return nil, nil
}

// handleMove is POST /api/v1/oss/file/move: all or nothing.
func (s *Server) handleMove(c *call) (any, *apiError) {
	var req wire.MoveRequest
	if ae := c.decode(&req, "fileIDs", "toParentFileID"); ae != nil {
		return nil, ae
	}
	if ae := checkIDs(req.FileIDs); ae != nil {
		return nil, ae
	}
	if req.ToParentFileID == "" {
		// The official page: 不能为空. Into the root takes the root's own ID.
		return nil, errf(wire.CodeInternal, "toParentFileID不能为空")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	target, ae := s.st.lookupFolder(req.ToParentFileID)
	if ae != nil {
		return nil, ae
	}
	names := map[string]string{} // name -> moved ID, to catch clashes among the moved
	var moved []*entry
	now := time.Now()
	for _, id := range req.FileIDs {
		if s.st.isRoot(id) {
			return nil, errf(wire.CodeInternal, "the root folder cannot be moved")
		}
		e := s.st.entries[id]
		if e == nil {
			return nil, errf(wire.CodeNotFound, "file %q does not exist", id)
		}
		if e.Dir && s.st.inSubtree(target, id) {
			return nil, errf(wire.CodeInternal, "cannot move folder %q into itself or its own subfolder", e.Name)
		}
		if other, ok := names[e.Name]; ok && other != id {
			return nil, errClash(msgMoveClash, e.Name)
		}
		names[e.Name] = id
		if e.Parent == target {
			return nil, errf(wire.CodeInternal, "%s: %q", msgAlreadyIn, e.Name)
		}
		if s.st.childNamed(target, e.Name) != "" {
			return nil, errClash(msgMoveClash, e.Name)
		}
		ne := *e
		ne.Parent, ne.Updated = target, now
		moved = append(moved, &ne)
	}
	if err := s.commitLocked(&op{Put: moved}); err != nil {
		return nil, errf(wire.CodeInternal, "%v", err)
	}
	return nil, nil
}
