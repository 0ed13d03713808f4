package main

import (
	"fmt"
	"html"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
)

func newURLCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "url PATH...",
		Short: "Print the public link of each file under a mount",
		Long: `Print the public 123pan link of each file (one per line), read from its
user.pan123.url attribute. --format markdown prints ![name](link), html prints
<img src="link" alt="name">. A file not uploaded yet has no link: run
pan123fs sync first.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "plain" && format != "markdown" && format != "html" {
				return fmt.Errorf("--format %q: want plain, markdown or html", format)
			}
			failed := 0
			for _, p := range args {
				link, err := fileURL(p)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "pan123fs url: %s: %v\n", p, err)
					failed++
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), formatLink(format, filepath.Base(p), link))
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d files have no link", failed, len(args))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "plain", "plain, markdown or html")
	return cmd
}

// formatLink writes link, the link of a file called name, in format
// (plain, markdown or html; checked by the caller).
func formatLink(format, name, link string) string {
	switch format {
	case "markdown":
		return fmt.Sprintf("![%s](%s)", name, link)
	case "html":
		return fmt.Sprintf("<img src=\"%s\" alt=\"%s\">", html.EscapeString(link), html.EscapeString(name))
	}
	return link
}

// fileURL reads a file's public link from its user.pan123.url attribute.
func fileURL(path string) (string, error) {
	buf := make([]byte, 4096)
	n, err := syscall.Getxattr(path, "user.pan123.url", buf)
	switch {
	case err == syscall.ENODATA:
		return "", fmt.Errorf("no link yet (not on 123pan, or not a pan123fs file)")
	case err != nil:
		return "", err
	}
	return string(buf[:n]), nil
}
