package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/pan123fs/pan123fs/remote/wire"
)

func newImportURLCmd() *cobra.Command {
	return mountTaskCmd(&cobra.Command{
		Use:   "import-url URL... [--dir DIR]",
		Short: "Have 123pan fetch images from the web into a folder of a mount",
		Long: `Start one 123pan offline migration per URL (123pan fetches the image: no
local bandwidth), wait for them, and print the new public link of each, one per
line, in the order given. Progress goes to stderr.

DIR (default: the current folder) is a folder inside a mount. The mount's root
cannot take offline migrations (123pan's rule): there they land in the folder
"` + wire.OfflineDefaultDir + `", which 123pan makes when needed. The file is named after the
last element of the URL's path. Only png, gif, jpeg, jpg, tiff, tif, webp, svg
and bmp up to 100 MB are taken (123pan's rule); a URL whose name is not one of
these, or whose name is taken in the folder, is refused before asking 123pan.
At most 3 migrations run at once.

A URL that fails is reported on stderr with the reason and gets no line on
stdout; the exit status is then 1. When the folder already holds an image with
the same content, 123pan keeps that one and makes no new file: this is
reported as a failure too, since its link cannot be told.`,
		Args: cobra.MinimumNArgs(1),
	}, "folder of a mount the images go into", importURLs)
}

// offlineJob is one URL of import-url and what became of it.
type offlineJob struct {
	url  string
	name string
	err  error // why it failed; nil once done
}

// importURLs runs import-url and prints the links.
func importURLs(ctx context.Context, stdout, stderr io.Writer, dir string, urls []string) error {
	links, errs, err := offlineImport(ctx, stderr, dir, urls)
	if err != nil {
		return err
	}
	failed := 0
	for i, link := range links {
		if errs[i] == nil {
			fmt.Fprintln(stdout, link)
			continue
		}
		failed++
		fmt.Fprintf(stderr, "pan123fs import-url: %s: %v\n", urls[i], errs[i])
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d URLs not imported", failed, len(urls))
	}
	return nil
}

// offlineImport plans, starts and waits for one offline migration per URL
// into dir (a folder of a mount), progress on stderr, and reads the links:
// links[i] is "" where errs[i] says why URL i failed.
func offlineImport(ctx context.Context, stderr io.Writer, dir string, urls []string) (links []string, errs []error, err error) {
	m, err := openTasks(dir)
	if err != nil {
		return nil, nil, err
	}
	folder, err := m.folderID(ctx, m.rel)
	if err != nil {
		return nil, nil, err
	}
	landing := m.rel // where the files show, relative to the mount
	if folder == "" {
		landing = wire.OfflineDefaultDir
	}
	jobs := planOffline(m.path(landing), urls)
	p := &progress{w: stderr, cmd: "import-url"}
	runLimited(len(jobs), func(i int) {
		j := jobs[i]
		if j.err == nil {
			j.err = runOffline(ctx, m, folder, j, p)
		}
	})
	if err := showLanding(m, landing); err != nil {
		return nil, nil, err
	}
	links, errs = make([]string, len(jobs)), make([]error, len(jobs))
	for i, j := range jobs {
		if j.err == nil {
			links[i], j.err = getxattr(filepath.Join(m.path(landing), j.name), "user.pan123.url")
			if errors.Is(j.err, os.ErrNotExist) {
				j.err = errors.New("123pan kept an image with the same content already in the folder and made no new file; its link cannot be told")
			}
		}
		errs[i] = j.err
	}
	return links, errs, nil
}

// showLanding makes the mount list the folder the files landed in (and the
// root first, where 123pan may have made its default folder).
func showLanding(m *mountTasks, landing string) error {
	if err := m.refresh("."); err != nil {
		return err
	}
	if _, err := os.Stat(m.path(landing)); err != nil {
		return nil // nothing landed: each URL says why
	}
	return m.refresh(landing)
}

// planOffline names each URL's file and refuses, before any call, what
// 123pan's task limits or the folder's names would refuse.
func planOffline(landing string, urls []string) []*offlineJob {
	jobs := make([]*offlineJob, len(urls))
	seen := map[string]bool{}
	for i, raw := range urls {
		j := &offlineJob{url: raw}
		jobs[i] = j
		j.name, j.err = offlineName(raw)
		if j.err != nil {
			continue
		}
		if _, err := os.Lstat(filepath.Join(landing, j.name)); err == nil || seen[j.name] {
			j.err = fmt.Errorf("%s is already taken in %s", j.name, landing)
			continue
		}
		seen[j.name] = true
	}
	return jobs
}

// offlineName is the file name a URL gets: its path's last element, which
// must be one of the image types offline migrations take.
func offlineName(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("not an http(s) URL")
	}
	name := path.Base(u.Path)
	if name == "." || name == "/" || name == "" {
		return "", errors.New("the URL's path names no file")
	}
	if err := wire.ValidateName(name); err != nil {
		return "", fmt.Errorf("%q cannot be a 123pan file name: %v", name, err)
	}
	if ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), ".")); !slices.Contains(wire.CopyExtensions, ext) {
		return "", fmt.Errorf("%q is not an image type 123pan imports (%s)", name, strings.Join(wire.CopyExtensions, ", "))
	}
	return name, nil
}

// runOffline starts one migration and waits for its end.
func runOffline(ctx context.Context, m *mountTasks, folder string, j *offlineJob, p *progress) error {
	var started struct{ TaskID string }
	req := wire.OfflineRequest{URL: j.url, FileName: j.name, BusinessDirID: folder}
	if err := m.call(ctx, http.MethodPost, "/offline", req, &started); err != nil {
		return fmt.Errorf("123pan refused the task: %w", err)
	}
	last := -1
	for {
		var st wire.OfflineProcessData
		if err := m.call(ctx, http.MethodGet, "/offline?"+url.Values{"taskID": {started.TaskID}}.Encode(), nil, &st); err != nil {
			return fmt.Errorf("asking about task %s: %w", started.TaskID, err)
		}
		switch st.Status {
		case wire.OfflineDone:
			p.say("%s: done", j.name)
			return nil
		case wire.OfflineFailed:
			return errors.New("123pan could not fetch it (unreachable, not an image, or over 100 MB)")
		}
		if pc := int(st.Process); pc != last {
			p.say("%s: %d%%", j.name, pc)
			last = pc
		}
		if !sleepCtx(ctx, taskPoll) {
			return fmt.Errorf("gave up waiting for task %s: %w", started.TaskID, ctx.Err())
		}
	}
}

// progress prints one line per change on stderr.
type progress struct {
	mu  sync.Mutex // serializes lines
	w   io.Writer
	cmd string
}

func (p *progress) say(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, p.cmd+": "+format+"\n", args...)
}

// runLimited runs do(0..n-1), at most maxTasks at once, and waits for all.
func runLimited(n int, do func(i int)) {
	sem := make(chan struct{}, maxTasks)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			do(i)
		})
	}
	wg.Wait()
}
