package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
)

// The import commands' side of the task routes (tasks_control.go): they
// find the mount holding --dir and speak to it over its control socket.

// taskPoll is how often a running task is asked about (123pan asks for no
// more than once a second on its other asynchronous calls).
const taskPoll = time.Second

// maxTasks is how many import tasks a command runs at once: 123pan allows
// three copy tasks per account at a time (public docs); offline tasks are
// held to the same.
const maxTasks = 3

// mountTasks talks to the mount that holds a folder.
type mountTasks struct {
	root string // the mount point
	rel  string // the folder, slash-separated, relative to root
}

// openTasks finds the mount holding dir, which must be a folder.
func openTasks(dir string) (*mountTasks, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	root, rel, err := mountOf(dir)
	if err != nil {
		return nil, err
	}
	if _, err := controlClient(root); err != nil {
		return nil, err
	}
	return &mountTasks{root: root, rel: rel}, nil
}

// path is the local path of rel inside the mount.
func (m *mountTasks) path(rel string) string { return filepath.Join(m.root, filepath.FromSlash(rel)) }

// call sends a request to the mount and decodes its JSON answer into out.
func (m *mountTasks) call(ctx context.Context, method, route string, body, out any) error {
	err := callControl(ctx, m.root, method, route, "import task", body, out)
	var r *controlRefusal
	switch {
	case errors.As(err, &r) && r.status == http.StatusNotFound:
		return fmt.Errorf("the mount at %s does not serve import tasks (started by an older pan123fs?)", m.root)
	case errors.As(err, &r):
		return errors.New(r.reason)
	}
	return err
}

// folderID is the 123pan ID of the folder rel of the mount ("" = root).
func (m *mountTasks) folderID(ctx context.Context, rel string) (string, error) {
	var d struct{ ID string }
	err := m.call(ctx, http.MethodGet, "/folder?"+url.Values{"path": {rel}}.Encode(), nil, &d)
	return d.ID, err
}

// refresh makes the mount list rel again, so that what a task made shows.
func (m *mountTasks) refresh(rel string) error {
	_, err := requestRefresh(m.root, rel, false)
	return err
}

// sleepCtx waits d, or less when ctx ends; it tells whether ctx is alive.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// mountTaskCmd completes cmd, a command that works in a folder of a mount
// (--dir, dirHelp; the current folder by default) for at most --timeout,
// with run as what it does.
func mountTaskCmd(cmd *cobra.Command, dirHelp string, run func(ctx context.Context, stdout, stderr io.Writer, dir string, args []string) error) *cobra.Command {
	var dir string
	var timeout time.Duration
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
		defer cancel()
		return run(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), dir, args)
	}
	cmd.Flags().StringVar(&dir, "dir", ".", dirHelp)
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long to wait for all of them")
	return cmd
}
