package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/pan123fs/pan123fs/config"
)

// serve: a PicGo-compatible upload server (PicGo-Server's API, 2.2.0+:
// POST /upload with {"list": [paths]} or form-data field "files", POST
// /heartbeat), so that Typora's PicGo option and Obsidian's image
// auto-upload plugin upload through pan123fs unchanged.

// picgoAnswer is PicGo-Server's answer: result on success, message on
// failure. PicGo answers failures with HTTP 200 too; clients read success.
type picgoAnswer struct {
	Success bool     `json:"success"`
	Result  []string `json:"result,omitempty"`
	Message string   `json:"message,omitempty"`
}

func newServeCmd() *cobra.Command {
	var fl uploadFlags
	var listen string
	var allowRemote bool
	var origins []string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve PicGo's upload API (for Typora, Obsidian and other PicGo clients)",
		Long: `Serve PicGo-Server's HTTP API on --listen (default 127.0.0.1:36677, PicGo's),
so that editors set up for PicGo upload through pan123fs:

  POST /upload     {"list": ["/abs/path.png", ...]}  → {"success": true, "result": ["link", ...]}
                   multipart/form-data, field "files" (one or more images)
  POST /heartbeat  → {"success": true, "result": "alive"}

A failure answers {"success": false, "message": "..."}. Files go where put
puts them (--dir, --name, --on-clash, --dedupe, --format), one at a time.

Only the user running serve may upload: a connection from another uid, a
request a web page makes (it carries an Origin; --allow-origin permits one),
and a Host that is not loopback are refused with HTTP 403. --allow-remote
drops the uid and Host checks, and takes form-data uploads only (a JSON
list names files of this machine).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return fmt.Errorf("--listen %q: %w", listen, err)
			}
			if !allowRemote && !config.IsLoopback(host) {
				return fmt.Errorf("--listen %s is not a loopback address: anyone who reaches it could upload to your account (--allow-remote)", listen)
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			u, err := fl.uploader(log)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: serveGuard(picgoHandler(u, fl.format, allowRemote, log), allowRemote, origins)}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
			fmt.Fprintf(cmd.OutOrStdout(), "serving PicGo's API on http://%s\n", ln.Addr())
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	fl.bind(cmd.Flags())
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:36677", "address to serve on (loopback only unless --allow-remote)")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "let --listen be an address other than loopback (anyone who reaches it can upload)")
	cmd.Flags().StringSliceVar(&origins, "allow-origin", nil, "also take requests that web pages of this origin make (repeatable; "+obsidianOrigin+" is always taken)")
	clientDefaults(cmd)
	return cmd
}

// picgoHandler serves /upload and /heartbeat.
func picgoHandler(u *uploader, format string, allowRemote bool, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /heartbeat", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"success": true, "result": "alive"})
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		paths, cleanup, err := uploadPaths(r, allowRemote)
		defer cleanup()
		if err != nil {
			writeJSON(w, picgoAnswer{Message: err.Error()})
			return
		}
		links, errs := u.putAll(r.Context(), paths)
		var failed []string
		for i, err := range errs {
			if err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", filepath.Base(paths[i]), err))
				log.Warn("upload failed", "file", paths[i], "err", err)
				continue
			}
			links[i] = formatLink(format, filepath.Base(paths[i]), links[i])
		}
		if failed != nil {
			writeJSON(w, picgoAnswer{Message: strings.Join(failed, "; ")})
			return
		}
		writeJSON(w, picgoAnswer{Success: true, Result: links})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		writeJSON(w, picgoAnswer{Message: fmt.Sprintf("%s %s: not served (POST /upload, POST /heartbeat)", r.Method, r.URL.Path)})
	})
	return mux
}

// uploadPaths reads an /upload request: the JSON list of local paths, or
// the form's files saved into a temporary folder under their own names
// (removed by cleanup).
//
// With remote set (--allow-remote) the JSON list is refused: it names
// files of this machine, which a caller from elsewhere must not publish.
func uploadPaths(r *http.Request, remote bool) (paths []string, cleanup func(), err error) {
	cleanup = func() {}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" && remote {
		return nil, cleanup, errors.New("with --allow-remote only form-data uploads (field files) are taken: a list names files of this machine")
	}
	if ct != "multipart/form-data" {
		var body struct {
			List []string `json:"list"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, cleanup, errors.New("no list of files: pan123fs does not upload the clipboard (send {\"list\": [paths]} or form-data files)")
			}
			return nil, cleanup, fmt.Errorf("reading the JSON body: %w", err)
		}
		if len(body.List) == 0 {
			return nil, cleanup, errors.New("the list of files is empty")
		}
		return body.List, cleanup, nil
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return nil, cleanup, fmt.Errorf("reading the form: %w", err)
	}
	files := r.MultipartForm.File["files"]
	if len(files) == 0 {
		return nil, cleanup, errors.New(`the form has no field "files"`)
	}
	tmp, err := os.MkdirTemp("", "pan123fs-serve")
	if err != nil {
		return nil, cleanup, err
	}
	cleanup = func() { os.RemoveAll(tmp); r.MultipartForm.RemoveAll() }
	for i, fh := range files {
		name := filepath.Base(filepath.Clean("/" + fh.Filename))
		if name == "/" || name == "." {
			name = fmt.Sprintf("image-%d", i+1)
		}
		dir := filepath.Join(tmp, fmt.Sprint(i)) // two parts of one name stay apart
		if err := os.Mkdir(dir, 0o700); err != nil {
			return nil, cleanup, err
		}
		p := filepath.Join(dir, name)
		if err := saveUpload(fh.Open, p); err != nil {
			return nil, cleanup, fmt.Errorf("%s: %w", fh.Filename, err)
		}
		paths = append(paths, p)
	}
	return paths, cleanup, nil
}

// saveUpload copies one form file to p.
func saveUpload(open func() (multipart.File, error), p string) error {
	src, err := open()
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
