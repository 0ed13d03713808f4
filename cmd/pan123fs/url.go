package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
)

// urlFlags are the options of `pan123fs url`.
type urlFlags struct {
	format, template, link  string
	encode, recursive, copy bool
}

func newURLCmd() *cobra.Command {
	var o urlFlags
	var settings *serviceFlags
	cmd := &cobra.Command{
		Use:   "url PATH...",
		Short: "Print the public link of each file under a mount",
		Long: `Print the public 123pan link of each file (one per line), read from its
extended attributes. --format markdown prints ![name](link), html prints
<img src="link" alt="name">, bbcode (or ubb) prints [img]link[/img].
--template prints a text of your own instead, with {url} {name} (the file
name) {base} (the name without its extension) {ext} (the extension, without
the dot) {path} (the path inside the mount) {size} (bytes) {md5} and {id}
replaced: --template '![{base}]({url})'.

--link custom prints the link on the account's custom domain (123pan's
userSelfURL) instead of the download link; $PAN123FS_LINK sets the default.
--encode percent-encodes what a URL may not hold as it is (spaces, non-ASCII).
-r takes folders too, and prints the links of every file under them, in
name order. --copy also puts the output on the clipboard (through wl-copy,
xclip or xsel). A file not uploaded yet has no link: run pan123fs sync first.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// A --format of the environment or the config file yields
			// to a --template typed here.
			tmpl, err := o.pattern(settings.sources["format"] == fromCommandLine)
			if err != nil {
				return err
			}
			var out bytes.Buffer
			stderr := cmd.ErrOrStderr()
			failed, total := 0, 0
			for _, arg := range args {
				for p, err := range o.files(arg) {
					total++
					if err == nil {
						var l linkFacts
						if l, err = readLinkFacts(p, o.link, tmpl); err == nil {
							out.WriteString(l.render(tmpl, o.encode, o.template == "" && o.format == "html") + "\n")
							continue
						}
					}
					fmt.Fprintf(stderr, "pan123fs url: %s: %v\n", p, err)
					failed++
				}
			}
			cmd.OutOrStdout().Write(out.Bytes())
			var errs []error
			if o.copy {
				tool, err := toClipboard(out.Bytes())
				if err != nil {
					errs = append(errs, err)
				} else {
					fmt.Fprintf(stderr, "copied to the clipboard (%s)\n", tool)
				}
			}
			if failed > 0 {
				errs = append(errs, fmt.Errorf("%d of %d files have no link", failed, total))
			}
			return errors.Join(errs...)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "plain", "plain, markdown, html, bbcode or ubb")
	f.StringVar(&o.template, "template", "", "print this text for each file, with {url} {name} {base} {ext} {path} {size} {md5} {id} replaced")
	f.StringVar(&o.link, "link", "download", "which link: download, or custom (the account's custom domain)")
	f.BoolVar(&o.encode, "encode", false, "percent-encode the link")
	f.BoolVarP(&o.recursive, "recursive", "r", false, "take folders, and print the links of every file under them")
	f.BoolVar(&o.copy, "copy", false, "also put the output on the clipboard (wl-copy, xclip or xsel)")
	settings = clientDefaults(cmd)
	return cmd
}

// formats are the templates of --format.
var formats = map[string]string{
	"plain":    "{url}",
	"markdown": "![{name}]({url})",
	"html":     `<img src="{url}" alt="{name}">`,
	"bbcode":   "[img]{url}[/img]",
	"ubb":      "[img]{url}[/img]",
}

// pattern checks the options and gives the template to print.
func (o *urlFlags) pattern(formatGiven bool) (string, error) {
	if o.link != "download" && o.link != "custom" {
		return "", fmt.Errorf("--link %q: want download or custom", o.link)
	}
	if o.template != "" {
		if formatGiven {
			return "", fmt.Errorf("give --format or --template, not both")
		}
		if err := checkTemplate(o.template); err != nil {
			return "", fmt.Errorf("--template: %w", err)
		}
		return o.template, nil
	}
	t, ok := formats[o.format]
	if !ok {
		return "", fmt.Errorf("--format %q: want plain, markdown, html, bbcode or ubb", o.format)
	}
	return t, nil
}

// files yields arg, or with -r every file under the folder arg, in name
// order. A folder without -r is an error.
func (o *urlFlags) files(arg string) func(yield func(string, error) bool) {
	return func(yield func(string, error) bool) {
		fi, err := os.Stat(arg)
		switch {
		case err != nil:
			yield(arg, err)
			return
		case !fi.IsDir():
			yield(arg, nil)
			return
		case !o.recursive:
			yield(arg, fmt.Errorf("is a folder (give -r for the files under it)"))
			return
		}
		filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				if !yield(p, err) {
					return filepath.SkipAll
				}
			case d.Type().IsRegular():
				if !yield(p, nil) {
					return filepath.SkipAll
				}
			}
			return nil
		})
	}
}

// fileURL reads a file's public link from its user.pan123.url attribute.
func fileURL(path string) (string, error) {
	return getxattr(path, "user.pan123.url")
}

// getxattr reads one attribute of path; a missing one is an error that
// says the file has no link yet.
func getxattr(path, name string) (string, error) {
	buf := make([]byte, 4096)
	n, err := syscall.Getxattr(path, name, buf)
	switch {
	case err == syscall.ENODATA:
		return "", fmt.Errorf("no link yet (not on 123pan, or not a pan123fs file)")
	case err != nil:
		return "", err
	}
	return string(buf[:n]), nil
}
