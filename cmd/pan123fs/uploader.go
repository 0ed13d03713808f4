package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sync"
	"time"
)

// The uploader behind put and serve: it names each local file by the
// template, answers the link of identical content already in the target
// folder (--dedupe), resolves a name already taken (--on-clash), and puts
// the file on 123pan through a target: a folder of a mount, or the client.

// target is where uploads go: a folder of a mount (mountTarget) or a
// folder of the account reached through the client (clientTarget). dir
// arguments are slash paths below the target's folder ("" is the folder).
type target interface {
	// files lists the files of dir; a missing dir has none.
	files(ctx context.Context, dir string) ([]remoteFile, error)
	// upload puts the local file at dir/name (dir made when missing) and
	// returns once it is on 123pan, with its link. A name that is taken
	// meanwhile is an error, never a replacement.
	upload(ctx context.Context, local *os.File, size int64, md5, dir, name string) (string, error)
}

// remoteFile is a file already in a target folder.
type remoteFile struct {
	name string
	size int64
	md5  string
	link func(ctx context.Context) (string, error)
}

// Clash policies (--on-clash).
const (
	clashSuffix = "suffix" // cat.png taken: cat-1.png, cat-2.png, ...
	clashRefuse = "refuse" // fail that file
)

// uploader puts local files into a target. One upload at a time: the
// name it picks must still be free when the upload takes it.
type uploader struct {
	t        target
	template string
	clash    string
	dedupe   bool
	now      func() time.Time

	mu sync.Mutex // held for a whole put
}

// put uploads the local file at p and returns its link, or the link of
// the file it deduplicated to.
func (u *uploader) put(ctx context.Context, p string) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", p)
	}
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	rel := renderName(u.template, nameInput{name: filepath.Base(p), md5: sum, size: fi.Size(), now: u.now()})
	dir, name := path.Split(rel)
	dir = path.Clean("/" + dir)[1:]
	have, err := u.t.files(ctx, dir)
	if err != nil {
		return "", fmt.Errorf("listing %q: %w", "/"+dir, err)
	}
	taken := map[string]bool{}
	for _, e := range have {
		if u.dedupe && e.md5 == sum && e.size == fi.Size() {
			return e.link(ctx)
		}
		taken[e.name] = true
	}
	final := name
	for n := 0; taken[final]; n++ {
		if u.clash == clashRefuse {
			return "", fmt.Errorf("%s is taken in the target folder (--on-clash refuse)", path.Join(dir, name))
		}
		final = suffixed(name, n+1)
	}
	return u.t.upload(ctx, f, fi.Size(), sum, dir, final)
}

// putAll uploads each path in order; links[i] is "" where errs[i] is set.
func (u *uploader) putAll(ctx context.Context, paths []string) (links []string, errs []error) {
	links, errs = make([]string, len(paths)), make([]error, len(paths))
	for i, p := range paths {
		links[i], errs[i] = u.put(ctx, p)
	}
	return links, errs
}

// errTaken is what a target answers when the name it was given was taken
// by someone else between the listing and the upload.
var errTaken = errors.New("name taken meanwhile")
