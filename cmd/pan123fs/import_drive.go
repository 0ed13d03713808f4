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
	"strings"

	"github.com/spf13/cobra"

	"github.com/pan123fs/pan123fs/remote/wire"
)

func newImportDriveCmd() *cobra.Command {
	return mountTaskCmd(&cobra.Command{
		Use:   "import-drive DRIVE_FILE_ID... [--dir DIR]",
		Short: "Copy images from the 123pan cloud drive into a folder of a mount",
		Long: `Copy files of the account's 123pan cloud drive (given by their cloud-drive
file IDs) into DIR (default: the current folder), a folder inside a mount, with
123pan's copy task; wait for it, and print each new file of the folder as
"NAME<TAB>LINK", one per line, in name order. Progress goes to stderr.

123pan takes at most 100 files a task and 3 copy tasks at once per account:
the IDs go in tasks of 100, 3 at a time, and a task refused because others
(of this account, from anywhere) are running is asked for again each second.
Only png, gif, jpeg, jpg, tiff, tif, webp, svg and bmp up to 100 MB are
copied, and an image with the same content already in the folder is replaced
by the copy (123pan's rules). Each file 123pan could not copy is reported on
stderr with its ID and name, and the exit status is then 1. New files are
told apart by comparing the folder before and after: files another client adds
to it meanwhile are printed too.`,
		Args: cobra.MinimumNArgs(1),
	}, "folder of a mount the images go into", importDrive)
}

// copyJob is one copy task of import-drive and what became of it.
type copyJob struct {
	ids   []string
	fails []string // lines describing the files not copied
	err   error    // why the whole task failed
}

// importDrive runs import-drive.
func importDrive(ctx context.Context, stdout, stderr io.Writer, dir string, ids []string) error {
	m, err := openTasks(dir)
	if err != nil {
		return err
	}
	folder, err := m.folderID(ctx, m.rel)
	if err != nil {
		return err
	}
	if err := m.refresh(m.rel); err != nil {
		return err
	}
	before, err := fileIDs(m.path(m.rel))
	if err != nil {
		return err
	}
	var jobs []*copyJob
	for len(ids) > 0 {
		n := min(len(ids), wire.MaxBatch)
		jobs = append(jobs, &copyJob{ids: ids[:n:n]})
		ids = ids[n:]
	}
	p := &progress{w: stderr, cmd: "import-drive"}
	runLimited(len(jobs), func(i int) { runCopy(ctx, m, folder, jobs[i], p) })
	if err := m.refresh(m.rel); err != nil {
		return err
	}
	after, err := fileIDs(m.path(m.rel))
	if err != nil {
		return err
	}
	for _, f := range after {
		if before.has(f.id) {
			continue
		}
		link, err := getxattr(filepath.Join(m.path(m.rel), f.name), "user.pan123.url")
		if err != nil {
			fmt.Fprintf(stderr, "pan123fs import-drive: %s: no link: %v\n", f.name, err)
			continue
		}
		fmt.Fprintf(stdout, "%s\t%s\n", f.name, link)
	}
	failed := 0
	for _, j := range jobs {
		if j.err != nil {
			fmt.Fprintf(stderr, "pan123fs import-drive: task of %d files: %v\n", len(j.ids), j.err)
		}
		for _, f := range j.fails {
			fmt.Fprintf(stderr, "pan123fs import-drive: %s: not copied\n", f)
		}
		if len(j.fails) > 0 {
			failed += len(j.fails)
		} else if j.err != nil {
			failed += len(j.ids)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d files not copied", failed)
	}
	return nil
}

// runCopy starts one copy task (again while 123pan refuses it for the
// tasks already running), waits for its end and collects its failures.
func runCopy(ctx context.Context, m *mountTasks, folder string, j *copyJob, p *progress) {
	var started struct{ TaskID string }
	for {
		err := m.call(ctx, http.MethodPost, "/copy", wire.CopyRequest{FileIDs: j.ids, ToParentFileID: folder}, &started)
		if err == nil {
			break
		}
		if !tooManyTasks(err) {
			j.err = fmt.Errorf("123pan refused the task: %w", err)
			return
		}
		p.say("123pan runs as many copy tasks as it allows; waiting (%v)", err)
		if !sleepCtx(ctx, taskPoll) {
			j.err = fmt.Errorf("gave up waiting to start the task: %w", ctx.Err())
			return
		}
	}
	q := "?" + url.Values{"taskID": {started.TaskID}}.Encode()
	last := -1
	for {
		var st wire.CopyProcessData
		if err := m.call(ctx, http.MethodGet, "/copy"+q, nil, &st); err != nil {
			j.err = fmt.Errorf("asking about task %s: %w", started.TaskID, err)
			return
		}
		if st.Status != last {
			p.say("task %s (%d files): %s", started.TaskID, len(j.ids), copyState(st.Status))
			last = st.Status
		}
		if st.Status == wire.CopyDone || st.Status == wire.CopyFailed {
			if st.Status == wire.CopyFailed {
				j.err = errors.New("123pan: " + st.FailMsg)
			}
			j.fails, j.err = copyFailures(ctx, m, q, j.err)
			return
		}
		if !sleepCtx(ctx, taskPoll) {
			j.err = fmt.Errorf("gave up waiting for task %s: %w", started.TaskID, ctx.Err())
			return
		}
	}
}

// copyFailures reads every page of a finished task's failures.
func copyFailures(ctx context.Context, m *mountTasks, q string, taskErr error) ([]string, error) {
	var lines []string
	for page := 1; ; page++ {
		var d wire.CopyFailData
		if err := m.call(ctx, http.MethodGet, "/copy/fail"+q+"&page="+fmt.Sprint(page), nil, &d); err != nil {
			return lines, errors.Join(taskErr, fmt.Errorf("reading the files not copied: %w", err))
		}
		for _, f := range d.List {
			lines = append(lines, fmt.Sprintf("cloud-drive file %s (%s)", f.FileID, f.Filename))
		}
		if len(d.List) < wire.MaxBatch || len(lines) >= int(d.Total) {
			return lines, taskErr
		}
	}
}

// copyState names a copy task status.
func copyState(s int) string {
	switch s {
	case wire.CopyWaiting:
		return "waiting"
	case wire.CopyRunning:
		return "running"
	case wire.CopyDone:
		return "done"
	case wire.CopyFailed:
		return "failed"
	}
	return fmt.Sprintf("status %d", s)
}

// folderFile is a file of a folder of a mount and its 123pan ID.
type folderFile struct{ name, id string }

type folderFiles []folderFile

func (fs folderFiles) has(id string) bool {
	for _, f := range fs {
		if f.id == id {
			return true
		}
	}
	return false
}

// fileIDs lists the files of dir (through the mount) with their IDs.
func fileIDs(dir string) (folderFiles, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out folderFiles
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		id, err := getxattr(filepath.Join(dir, e.Name()), "user.pan123.id")
		if err != nil {
			continue // not on 123pan yet: not what a copy made
		}
		out = append(out, folderFile{name: e.Name(), id: id})
	}
	return out, nil
}

// tooManyTasks tells whether 123pan refused a copy task for the tasks
// already running ("同时最多只能有3个复制任务…", at most 3 at once). The
// code of that answer is undocumented; a refusal that merely mentions a
// task ("任务不存在", no such task) is not one, and is not waited out.
func tooManyTasks(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "同时最多") || strings.Contains(strings.ToLower(msg), "too many tasks")
}
