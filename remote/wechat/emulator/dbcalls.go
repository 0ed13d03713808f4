package emulator

import (
	"net/http"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// databaseCall is POST /tcb/database{add,query,update,delete,count}: parse
// the query, check it is one this endpoint runs, count it against the daily
// quota, run it.
func (s *Server) databaseCall(r *http.Request) any {
	var req wire.DatabaseRequest
	if e, ok := s.decode(r, &req, &req.Env); !ok {
		return e
	}
	if req.Query == "" {
		return errorf(wire.CodeMissingParam, "missing query")
	}
	q, err := parseQuery(req.Query)
	if err != nil {
		return errorf(wire.CodeDBBadQuery, "DATABASE_INVALID_OPERRATOR: %v", err)
	}
	pl, err := makePlan(q, actionsOf[r.URL.Path])
	if err != nil {
		return errorf(wire.CodeDBBadQuery, "DATABASE_INVALID_OPERRATOR: %v", err)
	}
	write := pl.action != actGet && pl.action != actCount
	if code := s.quota.allowDB(write, s.clock.Now()); code != wire.CodeOK {
		s.stats.quotaRefused.Add(1)
		return errorf(code, "EXCEED_REQUEST_LIMIT: daily database quota exhausted")
	}
	return s.db.run(pl)
}

// collectionAdd is POST /tcb/databasecollectionadd.
func (s *Server) collectionAdd(r *http.Request) any {
	var req wire.CollectionRequest
	if e, ok := s.decode(r, &req, &req.Env); !ok {
		return e
	}
	if req.CollectionName == "" {
		return errorf(wire.CodeMissingParam, "missing collection_name")
	}
	if err := s.db.createCollection(req.CollectionName); err != nil {
		return errorf(err.code, "%s", err.msg)
	}
	return success
}

// updateIndex is POST /tcb/updateindex.
func (s *Server) updateIndex(r *http.Request) any {
	var req wire.UpdateIndexRequest
	if e, ok := s.decode(r, &req, &req.Env); !ok {
		return e
	}
	if req.CollectionName == "" {
		return errorf(wire.CodeMissingParam, "missing collection_name")
	}
	if err := s.db.updateIndex(req.CollectionName, req.CreateIndexes, req.DropIndexes); err != nil {
		return errorf(err.code, "%s", err.msg)
	}
	return success
}
