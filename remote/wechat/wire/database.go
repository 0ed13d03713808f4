package wire

// DatabaseRequest is the body of databaseadd, databasequery, databaseupdate,
// databasedelete and databasecount: Query is source text in the CloudBase
// database SDK syntax, e.g.
//
//	db.collection("c").where({"parent":"x"}).skip(0).limit(100).get()
//
// Build it with every value JSON-encoded.
type DatabaseRequest struct {
	Env   string `json:"env"`
	Query string `json:"query"`
}

// CollectionRequest is the body of databasecollectionadd (and its delete
// twin).
type CollectionRequest struct {
	Env            string `json:"env"`
	CollectionName string `json:"collection_name"`
}

// UpdateIndexRequest is the body of updateindex.
type UpdateIndexRequest struct {
	Env            string        `json:"env"`
	CollectionName string        `json:"collection_name"`
	CreateIndexes  []CreateIndex `json:"create_indexes,omitempty"`
	DropIndexes    []DropIndex   `json:"drop_indexes,omitempty"`
}

// CreateIndex describes one index to create.
type CreateIndex struct {
	Name   string     `json:"name"`
	Unique bool       `json:"unique"`
	Keys   []IndexKey `json:"keys"`
}

// IndexKey is one field of an index.
type IndexKey struct {
	Name      string `json:"name"`
	Direction string `json:"direction"` // DirectionAsc, DirectionDesc or "2dsphere"
}

// Index key directions (documented as strings).
const (
	DirectionAsc  = "1"
	DirectionDesc = "-1"
)

// DropIndex names one index to drop.
type DropIndex struct {
	Name string `json:"name"`
}

// Pager is databasequery's paging block; the field names are capitalised on
// the wire (documented).
type Pager struct {
	Offset int `json:"Offset"`
	Limit  int `json:"Limit"`
	Total  int `json:"Total"` // documents matching the query, ignoring skip and limit
}

// Query limits: limit defaults to 10 (documented); the HTTP API's maximum is
// unknown, 1000 is the server SDK's and the emulator's (chosen).
const (
	DefaultQueryLimit = 10
	MaxQueryLimit     = 1000
)

// QueryResponse is databasequery's answer. Each Data element is one document
// encoded as a JSON string: decode twice.
type QueryResponse struct {
	Envelope
	Pager Pager    `json:"pager"`
	Data  []string `json:"data"`
}

// AddResponse is databaseadd's answer: the new documents' _id in order.
type AddResponse struct {
	Envelope
	IDList []string `json:"id_list"`
}

// UpdateResponse is databaseupdate's answer. ID is set only when set()
// inserted a document.
type UpdateResponse struct {
	Envelope
	Matched  int    `json:"matched"`
	Modified int    `json:"modified"`
	ID       string `json:"id"`
}

// DeleteResponse is databasedelete's answer.
type DeleteResponse struct {
	Envelope
	Deleted int `json:"deleted"`
}

// CountResponse is databasecount's answer.
type CountResponse struct {
	Envelope
	Count int `json:"count"`
}
