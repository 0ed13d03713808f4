package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pan123fs/pan123fs/remote/pan123"
	"github.com/pan123fs/pan123fs/store"
)

// mountTarget uploads by copying into a folder of a mount: the mount
// uploads, and a sync of the mount (as `pan123fs sync`) makes sure the
// file is on 123pan before its link is read from user.pan123.url.
type mountTarget struct {
	mnt    string // the mount point
	folder string // the target folder, inside mnt
}

func (m mountTarget) files(ctx context.Context, dir string) ([]remoteFile, error) {
	full := filepath.Join(m.folder, filepath.FromSlash(dir))
	des, err := os.ReadDir(full)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []remoteFile
	for _, de := range des {
		p := filepath.Join(full, de.Name())
		fi, err := de.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		rf := remoteFile{name: de.Name(), size: fi.Size(), link: func(context.Context) (string, error) { return fileURL(p) }}
		if sum, err := getxattr(p, "user.pan123.etag"); err == nil {
			rf.md5 = strings.ToLower(sum) // not on 123pan yet: no md5, never a duplicate
		}
		out = append(out, rf)
	}
	return out, nil
}

func (m mountTarget) upload(ctx context.Context, local *os.File, size int64, md5, dir, name string) (string, error) {
	full := filepath.Join(m.folder, filepath.FromSlash(dir))
	if err := os.MkdirAll(full, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(full, name)
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("%s: %w", p, errTaken)
	}
	if err != nil {
		return "", err
	}
	_, err = io.Copy(out, io.NewSectionReader(local, 0, size))
	if cerr := out.Close(); err == nil {
		err = cerr // without --write-back, close fails if the upload did
	}
	if err != nil {
		os.Remove(p)
		return "", fmt.Errorf("copying into %s: %w", p, err)
	}
	if err := syncMountOf(ctx, m.mnt); err != nil { // --write-back mounts upload later
		return "", err
	}
	return fileURL(p)
}

// syncMountOf waits until every upload pending in the mount at mnt is on
// 123pan (the control socket's /sync, as `pan123fs sync`).
func syncMountOf(ctx context.Context, mnt string) error {
	return callControl(ctx, mnt, http.MethodPost, "/sync", "sync", nil, nil)
}

// clientTarget uploads through the client into a folder of the account,
// with the token saved in the state directory (shared with mounts).
type clientTarget struct {
	b      *pan123.Backend
	folder string // slash path of the target folder from the root, "" the root

	mu  sync.Mutex
	ids map[string]string // GUARDED_BY(mu): slash path from the root → folder ID
}

func newClientTarget(b *pan123.Backend, folder string) *clientTarget {
	return &clientTarget{b: b, folder: strings.Trim(path.Clean("/"+folder), "/"), ids: map[string]string{"": ""}}
}

// folderID finds the folder at dir below the target folder, making the
// missing ones when create is set; "", false when it is missing.
func (c *clientTarget) folderID(ctx context.Context, dir string, create bool) (string, bool, error) {
	full := strings.Trim(path.Join(c.folder, dir), "/")
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.ids[full]; ok {
		return id, true, nil
	}
	id, at := "", ""
	for _, part := range strings.Split(full, "/") {
		at = strings.TrimPrefix(at+"/"+part, "/")
		if known, ok := c.ids[at]; ok {
			id = known
			continue
		}
		found := ""
		for e, err := range c.b.List(ctx, id) {
			if err != nil {
				return "", false, err
			}
			if e.Folder && e.Name == part {
				found = e.ID
			}
		}
		if found == "" {
			if !create {
				return "", false, nil
			}
			e, err := c.b.Mkdir(ctx, id, part)
			if err != nil {
				return "", false, fmt.Errorf("making folder /%s: %w", at, err)
			}
			found = e.ID
		}
		c.ids[at], id = found, found
	}
	return id, true, nil
}

func (c *clientTarget) files(ctx context.Context, dir string) ([]remoteFile, error) {
	id, ok, err := c.folderID(ctx, dir, false)
	if err != nil || !ok {
		return nil, err
	}
	var out []remoteFile
	for e, err := range c.b.List(ctx, id) {
		if err != nil {
			return nil, err
		}
		if !e.Folder {
			out = append(out, remoteFile{name: e.Name, size: e.Size, md5: strings.ToLower(e.MD5), link: c.linkOf(e)})
		}
	}
	return out, nil
}

// linkOf answers e's link, asking for it when the listing did not carry it.
func (c *clientTarget) linkOf(e store.Entry) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		if e.Link != "" {
			return e.Link, nil
		}
		st, err := c.b.Stat(ctx, e.ID)
		if err != nil {
			return "", err
		}
		if st.Link == "" {
			return "", fmt.Errorf("123pan gave no link for %s", e.Name)
		}
		return st.Link, nil
	}
}

func (c *clientTarget) upload(ctx context.Context, local *os.File, size int64, md5, dir, name string) (string, error) {
	id, _, err := c.folderID(ctx, dir, true)
	if err != nil {
		return "", err
	}
	res, err := c.b.Put(ctx, store.PutRequest{Parent: id, Name: name, Content: local, Size: size, MD5: md5})
	if errors.Is(err, store.ErrExists) {
		return "", fmt.Errorf("%s: %w", path.Join("/", c.folder, dir, name), errTaken)
	}
	if err != nil {
		return "", err
	}
	return c.linkOf(store.Entry{ID: res.Entry.ID, Name: name})(ctx)
}
