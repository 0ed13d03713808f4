package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

func newDupesCmd() *cobra.Command {
	var remove, yes bool
	cmd := &cobra.Command{
		Use:   "dupes PATH",
		Short: "List the images under a folder of a mount that have the same content",
		Long: `Walk PATH (a folder inside a mount) and list the files whose content is the
same (same md5 and size, as 123pan's listings give them: nothing is
downloaded), one group per block:

  <md5> <size> bytes, <n> copies
    <path>	<link>
    ...

paths in name order. Files not on 123pan yet are left out.

--remove plans to keep the first file of each group (in name order) and
remove the others, and prints "would remove <path>" for each: a dry run.
With --remove --yes they are removed through the mount ("removed <path>"),
as rm would; their links stop working.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if yes && !remove {
				return fmt.Errorf("--yes confirms --remove; give both")
			}
			if _, _, err := mountOf(args[0]); err != nil {
				return err
			}
			groups, err := findDupes(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			printDupes(out, groups)
			if !remove {
				return nil
			}
			return removeDupes(out, cmd.ErrOrStderr(), groups, yes)
		},
	}
	cmd.Flags().BoolVar(&remove, "remove", false, "keep the first file of each group, remove the others (a dry run without --yes)")
	cmd.Flags().BoolVar(&yes, "yes", false, "with --remove: really remove")
	return cmd
}

// dupeFile is one file of a group of identical ones.
type dupeFile struct {
	path, link string
}

// dupeGroup is files with one content.
type dupeGroup struct {
	md5   string
	size  int64
	files []dupeFile
}

// findDupes walks root through the mount and groups its files by md5 and
// size; only groups of two or more, in the order their first file comes.
func findDupes(root string) ([]*dupeGroup, error) {
	type key struct {
		md5  string
		size int64
	}
	byKey := map[key]*dupeGroup{}
	var order []*dupeGroup
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		sum, err := getxattr(p, "user.pan123.etag")
		if err != nil {
			return nil // not on 123pan yet
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		k := key{strings.ToLower(sum), info.Size()}
		g := byKey[k]
		if g == nil {
			g = &dupeGroup{md5: k.md5, size: k.size}
			byKey[k] = g
			order = append(order, g)
		}
		g.files = append(g.files, dupeFile{path: p})
		return nil
	})
	if err != nil {
		return nil, err
	}
	var groups []*dupeGroup
	for _, g := range order {
		if len(g.files) < 2 {
			continue
		}
		for i := range g.files {
			link, err := getxattr(g.files[i].path, "user.pan123.url")
			if err != nil {
				link = "(no link: " + err.Error() + ")"
			}
			g.files[i].link = link
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// printDupes prints the groups in the documented format.
func printDupes(w io.Writer, groups []*dupeGroup) {
	if len(groups) == 0 {
		fmt.Fprintln(w, "no duplicates")
		return
	}
	for _, g := range groups {
		fmt.Fprintf(w, "%s %d bytes, %d copies\n", g.md5, g.size, len(g.files))
		for _, f := range g.files {
			fmt.Fprintf(w, "  %s\t%s\n", f.path, f.link)
		}
	}
}

// removeDupes removes all but the first file of each group, or with yes
// false says what it would remove.
func removeDupes(stdout, stderr io.Writer, groups []*dupeGroup, yes bool) error {
	failed := 0
	for _, g := range groups {
		for _, f := range g.files[1:] {
			if !yes {
				fmt.Fprintf(stdout, "would remove %s\n", f.path)
				continue
			}
			if err := os.Remove(f.path); err != nil {
				fmt.Fprintf(stderr, "pan123fs dupes: %v\n", err)
				failed++
				continue
			}
			fmt.Fprintf(stdout, "removed %s\n", f.path)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d files not removed", failed)
	}
	return nil
}
