package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// migrateFlags are the options of `pan123fs migrate`.
type migrateFlags struct {
	up        uploadFlags
	dryRun    bool
	importURL bool
	backup    string
	hosts     []string
	timeout   time.Duration
}

func newMigrateCmd() *cobra.Command {
	var fl migrateFlags
	cmd := &cobra.Command{
		Use:   "migrate FILE... [--dir DIR]",
		Short: "Move the images a Markdown or HTML post links to onto 123pan, and rewrite its links",
		Long: `For each image link in the Markdown or HTML files given (![alt](URL),
![alt][ref] with its [ref]: URL, <img src="URL">) that is not on the image host
already, put the image on 123pan and rewrite the link to the new one. Links in
code blocks and inline code, and links that are not http(s), are left alone.
An image linked several times is imported once.

Images are downloaded here and uploaded as put does (--dir, --name, --on-clash,
--dedupe; into a mount, or through the client), or, with --import-url, fetched
by 123pan itself through an offline migration (no local bandwidth; --dir must
be a folder of a mount).

A link is on the image host when its host is 123pan's (*.123pan.cn,
*.123pan.com), one given with --host (a custom domain, say), or the host of the
links of the files already in the target folder or made by this run.

--dry-run prints the plan and changes nothing. Otherwise each changed file is
first copied to FILE.bak (FILE.bak.1, ... when taken: a backup is never
overwritten), then rewritten in place. A link whose image could not be
imported is left as it was, reported on stderr, and the exit status is 1.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), fl.timeout)
			defer cancel()
			return fl.run(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args)
		},
	}
	f := cmd.Flags()
	fl.up.bind(f)
	f.MarkHidden("format") //nolint:errcheck // links are written as the files have them
	f.BoolVar(&fl.dryRun, "dry-run", false, "print the plan; change nothing")
	f.BoolVar(&fl.importURL, "import-url", false, "have 123pan fetch the images (offline migration) instead of downloading them here; --dir must be in a mount")
	f.StringVar(&fl.backup, "backup-suffix", ".bak", "a changed file is first copied to FILE plus this")
	f.StringSliceVar(&fl.hosts, "host", nil, "links on this host (or host:port) are on the image host already (repeatable)")
	f.DurationVar(&fl.timeout, "timeout", 30*time.Minute, "how long the whole migration may take")
	clientDefaults(cmd)
	return cmd
}

// post is one file given to migrate.
type post struct {
	path  string
	text  string
	links []imageLink
	mode  os.FileMode
}

// run reads the posts, imports each foreign image once, and rewrites.
func (fl *migrateFlags) run(ctx context.Context, stdout, stderr io.Writer, paths []string) error {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	posts, err := readPosts(paths)
	if err != nil {
		return err
	}
	hosts := newHostSet(fl.hosts)
	up, err := fl.up.uploader(log)
	if err != nil {
		return err
	}
	hosts.learnFrom(ctx, up.t)
	var foreign []string // distinct URLs to import, in order of appearance
	seen := map[string]bool{}
	for _, p := range posts {
		for _, l := range p.links {
			if !hosts.has(l.url) && !seen[l.url] {
				seen[l.url] = true
				foreign = append(foreign, l.url)
			}
		}
	}
	if fl.dryRun {
		return fl.plan(stdout, posts, hosts, len(foreign))
	}
	to, errs := fl.importAll(ctx, stderr, up, hosts, foreign)
	for _, u := range foreign {
		if nu, ok := to[u]; ok {
			fmt.Fprintf(stdout, "imported %s -> %s\n", u, nu)
		}
	}
	var failed []error
	for _, u := range foreign {
		if errs[u] != nil {
			fmt.Fprintf(stderr, "pan123fs migrate: %s: %v (link left as it was)\n", u, errs[u])
			failed = append(failed, fmt.Errorf("%s not imported", u))
		}
	}
	for _, p := range posts {
		if err := fl.rewrite(stdout, p, to); err != nil {
			fmt.Fprintf(stderr, "pan123fs migrate: %s: %v\n", p.path, err)
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d problem(s); see above", len(failed))
	}
	return nil
}

// readPosts reads each file and finds its image links.
func readPosts(paths []string) ([]*post, error) {
	var out []*post
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file", p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		text := string(b)
		out = append(out, &post{path: p, text: text, links: findImageLinks(text), mode: fi.Mode().Perm()})
	}
	return out, nil
}

// plan prints what a run would do.
func (fl *migrateFlags) plan(w io.Writer, posts []*post, hosts *hostSet, distinct int) error {
	how := "download and upload into " + orRoot(fl.up.dir)
	if fl.importURL {
		how = "offline migration into " + orRoot(fl.up.dir)
	}
	n := 0
	for _, p := range posts {
		for _, l := range p.links {
			line := lineOf(p.text, l.start)
			if hosts.has(l.url) {
				fmt.Fprintf(w, "%s:%d: %s: on the image host already\n", p.path, line, l.url)
				continue
			}
			n++
			fmt.Fprintf(w, "%s:%d: %s: %s\n", p.path, line, l.url, how)
		}
	}
	fmt.Fprintf(w, "dry run: %d link(s) to rewrite, %d image(s) to import; nothing changed\n", n, distinct)
	return nil
}

// importAll puts each URL's image on 123pan: to[url] is its new link,
// errs[url] why it has none.
func (fl *migrateFlags) importAll(ctx context.Context, stderr io.Writer, up *uploader, hosts *hostSet, urls []string) (map[string]string, map[string]error) {
	to, errs := map[string]string{}, map[string]error{}
	if len(urls) == 0 {
		return to, errs
	}
	if fl.importURL {
		links, lerrs, err := offlineImport(ctx, stderr, orDot(fl.up.dir), urls)
		for i, u := range urls {
			switch {
			case err != nil:
				errs[u] = err
			case lerrs[i] != nil:
				errs[u] = lerrs[i]
			default:
				to[u] = links[i]
			}
		}
		return to, errs
	}
	tmp, err := os.MkdirTemp("", "pan123fs-migrate-")
	if err != nil {
		for _, u := range urls {
			errs[u] = err
		}
		return to, errs
	}
	defer os.RemoveAll(tmp)
	for i, u := range urls {
		fmt.Fprintf(stderr, "migrate: %s\n", u)
		local, err := download(ctx, u, filepath.Join(tmp, fmt.Sprint(i)))
		if err == nil {
			to[u], err = up.put(ctx, local)
		}
		if err != nil {
			errs[u] = err
			continue
		}
		hosts.add(to[u])
	}
	return to, errs
}

// rewrite writes p with its links replaced, after a backup; a post with
// nothing to replace is left untouched.
func (fl *migrateFlags) rewrite(w io.Writer, p *post, to map[string]string) error {
	text, n := rewriteLinks(p.text, p.links, to)
	if n == 0 {
		fmt.Fprintf(w, "%s: unchanged\n", p.path)
		return nil
	}
	backup, err := writeBackup(p, fl.backup)
	if err != nil {
		return fmt.Errorf("backup: %w (file left as it was)", err)
	}
	if err := replaceFile(p.path, []byte(text), p.mode); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: %d link(s) rewritten (backup %s)\n", p.path, n, backup)
	return nil
}

// writeBackup copies p's original text to the first free name of
// p.path+suffix, p.path+suffix+".1", ...
func writeBackup(p *post, suffix string) (string, error) {
	for i := 0; ; i++ {
		name := p.path + suffix
		if i > 0 {
			name = fmt.Sprintf("%s.%d", name, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, p.mode)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.WriteString(p.text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return name, err
	}
}

// replaceFile writes b to path through a temporary file in its folder, so
// that the file is either the old text or the new one.
func replaceFile(path string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".migrate-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// lineOf is the 1-based line of text that holds byte at.
func lineOf(text string, at int) int { return strings.Count(text[:at], "\n") + 1 }

func orRoot(dir string) string {
	if dir == "" {
		return "the account's root"
	}
	return dir
}

func orDot(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

// hostSet is the hosts whose links are on the image host already.
type hostSet struct{ hosts map[string]bool }

func newHostSet(given []string) *hostSet {
	h := &hostSet{hosts: map[string]bool{}}
	for _, g := range given {
		h.hosts[strings.ToLower(g)] = true
	}
	return h
}

// has tells whether link is on the image host.
func (h *hostSet) has(link string) bool {
	u, err := url.Parse(link)
	if err != nil {
		return false
	}
	name := strings.ToLower(u.Hostname())
	for _, d := range []string{"123pan.cn", "123pan.com"} {
		if name == d || strings.HasSuffix(name, "."+d) {
			return true
		}
	}
	return h.hosts[strings.ToLower(u.Host)] || h.hosts[name]
}

// add learns the host of a link the image host gave.
func (h *hostSet) add(link string) {
	if u, err := url.Parse(link); err == nil && u.Host != "" {
		h.hosts[strings.ToLower(u.Host)] = true
	}
}

// learnFrom learns the host of the first link among the files already in
// the target folder; a folder that cannot be listed teaches nothing.
func (h *hostSet) learnFrom(ctx context.Context, t target) {
	files, err := t.files(ctx, "")
	if err != nil {
		return
	}
	for _, f := range files {
		if link, err := f.link(ctx); err == nil && link != "" {
			h.add(link)
			return
		}
	}
}
