package emulator

import (
	"sync"
	"time"
)

// object is one stored file. Objects are immutable: an overwrite replaces
// the pointer, so a download in progress keeps its bytes.
type object struct {
	data    []byte
	md5     string // hex
	modTime time.Time
	// known: uploaded with the x-cos-meta-fileid that uploadfile handed
	// out. Unknown objects exist in COS but the WeChat API does not see
	// them (STORAGE_FILE_NONEXIST), as on the real service.
	known bool
}

// ticket is what one uploadfile call allows: one key, until expiry, with
// the cos_file_id that makes the object known. Found by its security token.
type ticket struct {
	key       string
	cosFileID string
	expiry    time.Time
}

// objectStore holds the env's objects by key (the cloud path) and the
// upload tickets not yet expired.
type objectStore struct {
	mu      sync.Mutex
	objects map[string]*object // GUARDED_BY(mu)
	tickets map[string]ticket  // GUARDED_BY(mu); by security token
}

func (o *objectStore) init() {
	o.objects = map[string]*object{}
	o.tickets = map[string]ticket{}
}

// addTicket records t under token and drops expired tickets.
func (o *objectStore) addTicket(token string, t ticket, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, old := range o.tickets {
		if now.After(old.expiry) {
			delete(o.tickets, k)
		}
	}
	o.tickets[token] = t
}

// ticket returns the ticket of token.
func (o *objectStore) ticket(token string) (ticket, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.tickets[token]
	return t, ok
}

func (o *objectStore) get(key string) *object {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.objects[key]
}

func (o *objectStore) put(key string, obj *object) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objects[key] = obj
}

// deleteKnown removes key if it is a known object and says whether it was.
func (o *objectStore) deleteKnown(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj := o.objects[key]
	if obj == nil || !obj.known {
		return false
	}
	delete(o.objects, key)
	return true
}

// count is the number of objects and their total size.
func (o *objectStore) count() (int, int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var n int64
	for _, obj := range o.objects {
		n += int64(len(obj.data))
	}
	return len(o.objects), n
}
