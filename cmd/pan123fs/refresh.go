package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	pfs "github.com/pan123fs/pan123fs/fs"
)

// Refresh: `pan123fs refresh PATH [-r]` asks the mount holding PATH, over
// its control socket, to list PATH's folder again now (fs.FS.Refresh);
// SIGHUP to the mount process marks every cached listing stale
// (fs.FS.ForgetListings).

func newRefreshCmd() *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "refresh PATH",
		Short: "Show changes made elsewhere in a folder of a mount now",
		Long: `List the folder at PATH (a path inside a mount; a file's path means its
folder) again from 123pan now, instead of when its listing is older than
--dir-cache-ttl, so that entries other clients added, removed or moved show at
once; with -r, also every folder below it that the mount has listed. Files
written and not uploaded yet, queued deletes and open files are kept, as when a
listing expires. SIGHUP to the mount process marks every listing stale (the
next access lists each folder again).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, rel, err := mountOf(args[0])
			if err != nil {
				return err
			}
			res, err := requestRefresh(root, rel, recursive)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "refreshed %s (%d folders listed)\n", filepath.Join(root, res.Folder), res.Listed)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "also every listed folder below PATH")
	return cmd
}

// mountOf finds the pan123fs mount holding p: the nearest folder at or
// above it whose root answers the control attribute. It returns the mount
// point and p relative to it, slash-separated. p itself need not exist
// (made elsewhere and not shown yet).
func mountOf(p string) (root, rel string, err error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", "", err
	}
	buf := make([]byte, 4096)
	for dir := abs; ; dir = filepath.Dir(dir) {
		if _, err := syscall.Getxattr(dir, controlXattr, buf); err == nil {
			rel, err := filepath.Rel(dir, abs)
			if err != nil {
				return "", "", err
			}
			return dir, filepath.ToSlash(rel), nil
		}
		if dir == filepath.Dir(dir) {
			return "", "", fmt.Errorf("%s is not inside a pan123fs mount (no folder above it has the %s attribute)", p, controlXattr)
		}
	}
}

// requestRefresh asks the mount at root to refresh rel.
func requestRefresh(root, rel string, recursive bool) (*pfs.Refreshed, error) {
	q := url.Values{"path": {rel}}
	if recursive {
		q.Set("recursive", "1")
	}
	var res pfs.Refreshed
	if err := callControl(context.Background(), root, http.MethodPost, "/refresh?"+q.Encode(), "refresh", nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// serveRefresh is the control socket's POST /refresh?path=P[&recursive=1]:
// fs.Refreshed as JSON, or 500 with the reason the listing failed.
func serveRefresh(fsys *pfs.FS) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		res, err := fsys.Refresh(r.Context(), q.Get("path"), q.Get("recursive") == "1")
		if err != nil {
			msg := err.Error()
			if res.Listed > 0 {
				msg = fmt.Sprintf("%d folders listed, then: %s", res.Listed, msg)
			}
			http.Error(w, msg, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(res)
	}
}

// forgetOnHangup marks every cached listing of fsys stale on each SIGHUP,
// until the returned stop is called. Registered before the mount: an
// uncaught SIGHUP would end the process and leave the mount behind.
func forgetOnHangup(fsys *pfs.FS, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				log.Info("SIGHUP: cached listings marked stale; the next access lists each folder again", "folders", fsys.ForgetListings())
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}
