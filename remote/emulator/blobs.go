package emulator

import (
	"crypto/md5"
	"encoding/hex"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Layout of the data directory.
const (
	blobsDir   = "blobs"   // blobs/ab/abcdef... content-addressed by md5
	uploadsDir = "uploads" // uploads/<base64url(preuploadID)>/<sliceNo>.part
	copyBuf    = 1 << 20
)

// blobPath is where the blob with this md5 lives.
func blobPath(dir, md5hex string) string {
	return filepath.Join(dir, blobsDir, md5hex[:2], md5hex)
}

func (st *state) ref(md5hex string) { st.refs[md5hex]++ }

// unref drops a reference and deletes the blob when nothing uses it.
func (st *state) unref(md5hex string) {
	st.refs[md5hex]--
	if st.refs[md5hex] > 0 {
		return
	}
	delete(st.refs, md5hex)
	if !st.loading && len(md5hex) == 32 {
		os.Remove(blobPath(st.dir, md5hex))
	}
}

// hashingCopy streams src into dst and returns the md5 of what went through.
func hashingCopy(dst io.Writer, src io.Reader, h hash.Hash) (int64, error) {
	buf := make([]byte, copyBuf)
	return io.CopyBuffer(io.MultiWriter(dst, h), src, buf)
}

// stageBlob streams r (at most limit bytes; limit < 0 = no limit) into a
// temporary file under blobs/ and returns its path, size and md5. The caller
// places it with placeBlobLocked or removes it.
func (s *Server) stageBlob(r io.Reader, limit int64) (tmp string, size int64, md5hex string, err error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, blobsDir), "stage-*.tmp")
	if err != nil {
		return "", 0, "", err
	}
	h := md5.New()
	if limit >= 0 {
		r = io.LimitReader(r, limit)
	}
	size, err = hashingCopy(f, r, h)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", 0, "", err
	}
	return f.Name(), size, hex.EncodeToString(h.Sum(nil)), nil
}

// placeBlobLocked moves a staged file to its content address (or drops it
// when that blob already exists) and takes one reference on it.
func (s *Server) placeBlobLocked(tmp, md5hex string) error {
	dst := blobPath(s.dir, md5hex)
	if _, err := os.Stat(dst); err == nil {
		os.Remove(tmp)
	} else {
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			os.Remove(tmp)
			return err
		}
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	s.st.ref(md5hex)
	return nil
}

// gcFiles removes what a crash may have left behind: staging files, blobs no
// entry uses, upload directories and parts the state does not know.
func (s *Server) gcFiles() {
	root := filepath.Join(s.dir, blobsDir)
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		name := d.Name()
		if strings.HasSuffix(name, ".tmp") || (len(name) == 32 && s.st.refs[name] == 0) {
			s.log.Debug("gc: removing unused blob file", "path", p)
			os.Remove(p)
		}
		return nil
	})
	ups := filepath.Join(s.dir, uploadsDir)
	dirs, _ := os.ReadDir(ups)
	for _, d := range dirs {
		p := s.st.pres[preIDOfDir(d.Name())]
		if p == nil || p.State != preOpen {
			os.RemoveAll(filepath.Join(ups, d.Name()))
			continue
		}
		files, _ := os.ReadDir(filepath.Join(ups, d.Name()))
		for _, f := range files {
			if !p.knowsPartFile(f.Name()) {
				os.Remove(filepath.Join(ups, d.Name(), f.Name()))
			}
		}
	}
}
