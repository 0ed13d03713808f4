package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/pan123"
)

// uploadFlags are the flags put and serve share: where files go, how they
// are named, and how the client reaches 123pan when no mount is used.
type uploadFlags struct {
	dir, name, clash, format string
	dedupe                   bool
	apiBase, clientID        string
	stateDir                 string
	insecureHTTP             bool
}

func (fl *uploadFlags) bind(f *pflag.FlagSet) {
	f.StringVar(&fl.dir, "dir", "", "a folder inside a mount (copied into it), or a folder of the account such as /blog (through the client); default: the account's root")
	f.StringVar(&fl.name, "name", defaultNameTemplate, "name template on 123pan: {name} {base} {ext} {md5} {md5:N} {size} {Y} {y} {m} {d} {H} {M} {S} {ts}; a / makes subfolders")
	f.StringVar(&fl.clash, "on-clash", clashSuffix, "when the name is taken: suffix (cat-1.png, cat-2.png, ...) or refuse (that file fails)")
	f.StringVar(&fl.format, "format", "plain", "plain, markdown, html, bbcode or ubb")
	f.BoolVar(&fl.dedupe, "dedupe", false, "answer the link of a file with the same md5 and size already in the target folder instead of uploading")
	f.StringVar(&fl.apiBase, "api-base", "", "API base URL, without a mount (default $PAN123_API_BASE or "+remote.DefaultBaseURL+")")
	f.StringVar(&fl.clientID, "client-id", "", "client ID, without a mount (default $PAN123_CLIENT_ID; the secret from $PAN123_CLIENT_SECRET)")
	f.StringVar(&fl.stateDir, "state-dir", "", "where the saved token is shared with mounts (default $PAN123FS_STATE_DIR or ~/.local/state/pan123fs)")
	f.BoolVar(&fl.insecureHTTP, "insecure-http", false, "allow an http:// --api-base to a host other than loopback")
}

// uploader checks the flags and builds the uploader: into a mount when
// --dir is inside one, else through a client of its own.
func (fl *uploadFlags) uploader(log *slog.Logger) (*uploader, error) {
	if _, ok := formats[fl.format]; !ok {
		return nil, fmt.Errorf("--format %q: want plain, markdown, html, bbcode or ubb", fl.format)
	}
	if fl.clash != clashSuffix && fl.clash != clashRefuse {
		return nil, fmt.Errorf("--on-clash %q: want suffix or refuse", fl.clash)
	}
	if err := checkNameTemplate(fl.name); err != nil {
		return nil, err
	}
	u := &uploader{template: fl.name, clash: fl.clash, dedupe: fl.dedupe, now: time.Now}
	t, err := fl.target(log)
	if err != nil {
		return nil, err
	}
	u.t = t
	return u, nil
}

// target is a mountTarget when --dir is inside a mount; a clientTarget
// when it names no local folder (a folder of the account); an error when
// it names a local folder outside any mount.
func (fl *uploadFlags) target(log *slog.Logger) (target, error) {
	if fl.dir != "" {
		if root, _, err := mountOf(fl.dir); err == nil {
			abs, err := filepath.Abs(fl.dir)
			if err != nil {
				return nil, err
			}
			return mountTarget{mnt: root, folder: abs}, nil
		}
		if _, err := os.Stat(fl.dir); err == nil {
			return nil, fmt.Errorf("--dir %s is a local folder outside any pan123fs mount (for a folder of the account, name one that does not exist locally, e.g. /blog)", fl.dir)
		}
	}
	state, err := stateDir(fl.stateDir)
	if err != nil {
		return nil, err
	}
	cfg := remote.Config{BaseURL: envOr(fl.apiBase, "PAN123_API_BASE"), ClientID: envOr(fl.clientID, "PAN123_CLIENT_ID"),
		ClientSecret: os.Getenv("PAN123_CLIENT_SECRET"), InsecureHTTP: fl.insecureHTTP, StateDir: state, Logger: log}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("no mount at --dir and no credentials: set PAN123_CLIENT_ID and PAN123_CLIENT_SECRET, or give --dir a folder inside a mount")
	}
	rc, err := remote.New(cfg)
	if errors.Is(err, remote.ErrPlainHTTP) {
		return nil, fmt.Errorf("--api-base: %w (--insecure-http)", err)
	}
	if err != nil {
		return nil, err
	}
	return newClientTarget(pan123.New(rc, log), fl.dir), nil
}

func newPutCmd() *cobra.Command {
	var fl uploadFlags
	cmd := &cobra.Command{
		Use:   "put FILE...",
		Short: "Upload files and print their links, one per line (Typora's custom upload command)",
		Long: `Upload each FILE to 123pan and print its link, one line per file, in the
order given, once it is on 123pan: the last N lines are the N links, as
Typora's "Custom Command" upload expects.

With --dir inside a mount the files are copied into that folder of the mount
(and the mount synced); otherwise they go straight through the client into
the folder --dir names on the account (/blog, made when missing), with the
token saved in the state directory, shared with the mounts using it.

--name names each file on 123pan ({name}: its own name; {Y}/{m}/{md5:8}.{ext}
puts it in dated folders under a short hash). A name already taken gets -1,
-2, ... before its extension (--on-clash suffix), or fails (refuse). With
--dedupe a file whose md5 and size match a file already in its target
folder is not uploaded: that file's link is printed.

A file that fails is named on stderr, prints no line, and the exit status is
non-zero.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			u, err := fl.uploader(log)
			if err != nil {
				return err
			}
			links, errs := u.putAll(cmd.Context(), args)
			failed := 0
			for i, p := range args {
				if errs[i] != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "pan123fs put: %s: %v\n", p, errs[i])
					failed++
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), formatLink(fl.format, filepath.Base(p), links[i]))
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d files not uploaded", failed, len(args))
			}
			return nil
		},
	}
	fl.bind(cmd.Flags())
	clientDefaults(cmd)
	return cmd
}
