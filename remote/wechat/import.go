package wechat

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
	"github.com/pan123fs/pan123fs/store"
)

// Import brings into the namespace, as file name of folder parent, an
// object stored by other means (a mini program's wx.cloud.uploadFile, the
// console): the WeChat API cannot list the storage, so its file ID is the
// only way to find it. The object is downloaded once, for its size and
// md5, and is not copied: the entry names it as it is, and deleting the
// entry (or replacing its content) deletes it. An object of another
// environment, one that is not there, and one the namespace already names
// are refused; a name already taken gives store.ErrExists.
func (b *Backend) Import(ctx context.Context, parent, name, fileID string) (store.Entry, error) {
	env, _, key, err := wire.ParseFileID(fileID)
	if err != nil {
		return store.Entry{}, store.Wrap(err, store.ErrInvalidName)
	}
	if env != b.c.env {
		return store.Entry{}, store.Wrap(fmt.Errorf("%s is an object of environment %s, not of %s", fileID, env, b.c.env), store.ErrInvalidName)
	}
	if err := b.CheckName(name); err != nil {
		return store.Entry{}, err
	}
	for d, err := range b.findDocs(ctx, map[string]any{"fileid": fileID}) {
		if err != nil {
			return store.Entry{}, err
		}
		return store.Entry{}, store.Wrap(fmt.Errorf("%s is in the namespace already (entry %s, %q)", fileID, d.ID, d.Name), store.ErrExists)
	}
	if err := b.checkFolder(ctx, parent); err != nil {
		return store.Entry{}, err
	}
	size, sum, err := b.measure(ctx, fileID)
	if err != nil {
		return store.Entry{}, err
	}
	now := b.c.clock.Now().UnixMilli()
	d := doc{Parent: parent, Name: name, Type: typeFile, FileID: fileID, Key: key, Size: size, MD5: sum,
		MTime: now, CTime: now, Gen: 1}
	if d.ID, err = b.add(ctx, d, true, func(got doc) bool { return got.FileID == fileID }); err != nil {
		return store.Entry{}, err
	}
	return b.entryOf(d), nil
}

// measure downloads an object whole, for its size and md5.
func (b *Backend) measure(ctx context.Context, fileID string) (int64, string, error) {
	links, err := b.c.DownloadLinks(ctx, []string{fileID}, b.maxAge)
	if err != nil {
		return 0, "", err
	}
	l := links[fileID]
	if l.Err != nil {
		return 0, "", l.Err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.Link.URL, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := b.c.hc.Do(req)
	if err != nil {
		return 0, "", classify(&APIError{Call: callDownload, Err: transportCause(err), transport: true})
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, "", classify(&APIError{Call: callDownload, HTTPStatus: resp.StatusCode, Message: "downloading " + fileID})
	}
	h := md5.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return 0, "", classify(&APIError{Call: callDownload, Err: transportCause(err), transport: true})
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
