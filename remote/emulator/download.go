package emulator

import (
	"net/http"
	"os"
	"strings"
)

// Stats keys of downloads.
const (
	statGet  = "GET /__download"
	statHead = "HEAD /__download"
)

// downloadURL is the public link of a file: BASE/<uid>/<fileId>.<ext>.
func (s *Server) downloadURL(base string, e *entry) string {
	u := base + "/" + s.st.meta.UID + "/" + e.ID
	if ext := extension(e.Name); ext != "" {
		u += "." + ext
	}
	return u
}

// countingWriter counts the body bytes sent.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// serveDownload serves BASE/<uid>/<fileId>[.<ext>]: public, with Range,
// HEAD, ETag (the md5), Content-Length and Last-Modified. Bytes sent count
// as the file's traffic. A file rejected by moderation (status > 100) is 403.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	uid, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || uid == "" || rest == "" || strings.Contains(rest, "/") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.Method == http.MethodHead {
		s.stats.count(statHead)
	} else {
		s.stats.count(statGet)
	}
	id, _, _ := strings.Cut(rest, ".")
	s.mu.RLock()
	e := s.st.entries[id]
	good := uid == s.st.meta.UID && e != nil && !e.Dir
	var snapshot entry
	if good {
		snapshot = *e
	}
	s.mu.RUnlock()
	if !good {
		http.NotFound(w, r)
		return
	}
	if snapshot.Status > 100 {
		http.Error(w, "403 Forbidden: this image was rejected by moderation", http.StatusForbidden)
		return
	}
	f, err := os.Open(blobPath(s.dir, snapshot.Etag))
	if err != nil {
		s.log.Error("download: blob missing", "fileID", id, "etag", snapshot.Etag, "err", err)
		http.Error(w, "blob missing", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	w.Header().Set("ETag", `"`+snapshot.Etag+`"`)
	w.Header().Set("Accept-Ranges", "bytes")
	cw := &countingWriter{ResponseWriter: w}
	http.ServeContent(cw, r, snapshot.Name, snapshot.Updated, f)
	if cw.n > 0 {
		s.mu.Lock()
		if s.st.entries[id] != nil && !s.closed {
			if err := s.commitLocked(&op{Traffic: &trafficOp{ID: id, Add: cw.n}}); err != nil {
				s.log.Error("recording traffic", "err", err)
			}
		}
		s.mu.Unlock()
	}
}
