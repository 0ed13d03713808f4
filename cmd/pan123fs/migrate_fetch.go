package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// imageExts are the extensions migrate gives a downloaded image whose URL
// names none, by its Content-Type.
var imageExts = map[string]string{
	"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
	"image/svg+xml": ".svg", "image/bmp": ".bmp", "image/avif": ".avif", "image/tiff": ".tif",
}

// download fetches an image link into a new folder dir, named after the
// URL's last path element, and returns the file's path. An answer that is
// not an image (an HTML error page served with 200, say) is refused.
func download(ctx context.Context, link, dir string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the server answered %s", resp.Status)
	}
	ctype, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	name := imageName(link, ctype)
	if !strings.HasPrefix(ctype, "image/") && !knownImageExt(path.Ext(name)) {
		return "", fmt.Errorf("not an image (Content-Type %q)", ctype)
	}
	// What the bytes are, whatever the header and the name say: an error
	// page served with 200 under cat.png is no image to publish.
	body := bufio.NewReader(resp.Body)
	head, _ := body.Peek(512)
	if sniffed := http.DetectContentType(head); strings.HasPrefix(sniffed, "text/html") {
		return "", fmt.Errorf("not an image: the server sent a web page (%s)", sniffed)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("downloading: %w", err)
	}
	return p, nil
}

// imageName is the file name of an image link: the URL path's last
// element, with an extension from its Content-Type when it has none.
func imageName(link, ctype string) string {
	name := "image"
	if u, err := url.Parse(link); err == nil {
		if b := path.Base(u.Path); b != "." && b != "/" && b != "" {
			name = b
		}
	}
	if path.Ext(name) == "" {
		name += imageExts[ctype]
	}
	return name
}

func knownImageExt(ext string) bool {
	for _, e := range imageExts {
		if strings.EqualFold(e, ext) {
			return true
		}
	}
	return strings.EqualFold(ext, ".jpeg")
}
