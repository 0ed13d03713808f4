package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

func newImportIDsCmd() *cobra.Command {
	return mountTaskCmd(&cobra.Command{
		Use:   "import-ids [FILE...] [--dir DIR]",
		Short: "Bring WeChat CloudBase objects stored by other means into a mount, by their file IDs",
		Long: `The WeChat API cannot list a CloudBase environment's storage, so objects a mini
program (or the console) uploaded are not seen by a mount until they are named.
import-ids reads file IDs, one a line, from each FILE ("-" or none: standard
input), optionally followed by the name to give it:

  cloud://prod-1a2b.7072-prod-1a2b-1250000000/avatars/u1.png
  cloud://prod-1a2b.7072-prod-1a2b-1250000000/avatars/u2.png  bob.png

and makes each an entry of DIR (default: the current folder), a folder of a
mount of that environment (--backend wechat-cloudbase). The object is not
copied: it is downloaded once for its size and md5, and from then on the mount
owns it (deleting the file, or replacing its content, deletes the object).
Blank lines and lines starting with # are skipped. Prints NAME<TAB>LINK for
each object imported; each one refused (not there, of another environment,
named already, its name taken) is reported on stderr, and the exit status is
then 1.`,
	}, "folder of a WeChat CloudBase mount the objects go into",
		func(ctx context.Context, stdout, stderr io.Writer, dir string, args []string) error {
			items, err := readImportItems(os.Stdin, args)
			if err != nil {
				return err
			}
			return importIDs(ctx, stdout, stderr, dir, items)
		})
}

// readImportItems reads the file IDs (and names) of the files given, or
// of stdin.
func readImportItems(stdin io.Reader, files []string) ([]importItem, error) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	var items []importItem
	for _, f := range files {
		r := stdin
		if f != "-" {
			fh, err := os.Open(f)
			if err != nil {
				return nil, err
			}
			defer fh.Close()
			r = fh
		}
		sc := bufio.NewScanner(r)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			id, name, _ := strings.Cut(line, " ")
			if name = strings.TrimSpace(name); name == "" {
				name = path.Base(id)
			}
			if !strings.HasPrefix(id, "cloud://") || name == "/" || name == "." {
				return nil, fmt.Errorf("%s:%d: %q is not a file ID (cloud://ENV.BUCKET/PATH [NAME])", f, n, line)
			}
			items = append(items, importItem{FileID: id, Name: name})
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	if len(items) == 0 {
		return nil, errors.New("no file IDs given")
	}
	return items, nil
}

// importIDs asks the mount holding dir to import the items into it, then
// prints the link of each.
func importIDs(ctx context.Context, stdout, stderr io.Writer, dir string, items []importItem) error {
	m, err := openTasks(dir)
	if err != nil {
		return err
	}
	var done []importItem
	err = callControl(ctx, m.root, http.MethodPost, "/import-ids", "import-ids", importRequest{Path: m.rel, Items: items}, &done)
	var r *controlRefusal
	if errors.As(err, &r) && r.status == http.StatusNotFound {
		return fmt.Errorf("the mount at %s does not import file IDs: it is not a WeChat CloudBase mount (--backend wechat-cloudbase)", m.root)
	}
	if err != nil {
		return err
	}
	if err := m.refresh(m.rel); err != nil {
		return err
	}
	failed := 0
	for _, it := range done {
		if it.Error == "" {
			link, err := getxattr(filepath.Join(m.path(m.rel), it.Name), "user.pan123.url")
			if err == nil {
				fmt.Fprintf(stdout, "%s\t%s\n", it.Name, link)
				continue
			}
			it.Error = err.Error()
		}
		failed++
		fmt.Fprintf(stderr, "pan123fs import-ids: %s: %s\n", it.FileID, it.Error)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d file IDs not imported", failed, len(done))
	}
	return nil
}
