package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	pfs "github.com/pan123fs/pan123fs/fs"
)

func newStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status MOUNTPOINT",
		Short: "Show the uploads and deletes a mount has not finished",
		Long: `Show the files of the mount at MOUNTPOINT that are not on 123pan yet
(writing, pending, uploading with bytes done and total, failed with the
reason), the deletes queued, the files kept aside after a crash, and the
images moderation rejected (among the folders the mount has listed since it
started: it does not list the whole account for this); then the
account's space and direct-link traffic left, and when the developer
entitlement ends (a WARNING within 14 days of it: the open API stops then).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := fetchStatus(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printStatus(cmd.OutOrStdout(), st)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func fetchStatus(mnt string) (*pfs.Status, error) {
	var st pfs.Status
	if err := callControl(context.Background(), mnt, http.MethodGet, "/status", "status", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// printPending prints the files and deletes not on the service yet.
func printPending(w io.Writer, st *pfs.Status) {
	if len(st.Items) == 0 && st.DeletesPending == 0 && len(st.Recovered) == 0 {
		fmt.Fprintln(w, "everything is on "+serviceName(*st))
		return
	}
	for _, it := range st.Items {
		line := fmt.Sprintf("%-9s %s  %s", it.State, it.Path, humanBytes(it.Size))
		if it.State == "uploading" && it.Size > 0 {
			line += " " + progressBar(it.Done, it.Size)
		}
		if it.Error != "" {
			line += fmt.Sprintf("  (%d attempts: %s)", it.Attempts, it.Error)
		}
		fmt.Fprintln(w, line)
	}
	if st.DeletesPending > 0 {
		fmt.Fprintf(w, "%d deletes queued\n", st.DeletesPending)
	}
	for _, r := range st.Recovered {
		fmt.Fprintf(w, "recovered %s  %s: %s; data kept in %s\n", r.Path, humanBytes(r.Size), r.Why, r.Saved)
	}
}

// printRejected prints the images moderation rejected, one a line.
func printRejected(w io.Writer, st *pfs.Status) {
	for _, p := range st.Rejected {
		fmt.Fprintf(w, "rejected  %s  (by moderation: its link serves nothing)\n", p)
	}
}

func progressBar(done, total int64) string {
	const width = 20
	fill := int(done * width / total)
	return fmt.Sprintf("[%s%s] %s/%s", strings.Repeat("#", fill), strings.Repeat(".", width-fill), humanBytes(done), humanBytes(total))
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func newSyncCmd() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "sync MOUNTPOINT",
		Short: "Wait until every pending upload and delete of a mount is on 123pan",
		Long: `Wait until every upload and delete that was pending when sync started is
done on 123pan. Exits 0 then; non-zero with the reason on timeout or failure.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/sync"
			if timeout > 0 {
				path += "?timeout=" + timeout.String()
			}
			if err := callControl(cmd.Context(), args[0], http.MethodPost, path, "sync", nil, nil); err != nil {
				return err
			}
			fmt.Fprintln(os.Stdout, "synced")
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (0: wait)")
	return cmd
}
