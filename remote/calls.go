package remote

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strings"
	"sync"

	"github.com/pan123fs/pan123fs/remote/wire"
)

// In every call the folder ID "" is the root. All methods are safe for
// concurrent use.

// Mkdir makes folder name in parentID and returns its ID. mkdir is not
// idempotent: after an ambiguous failure the client lists parentID and
// returns the ID of a folder of that name if one is there, instead of
// asking again. A name already taken gives an error matching ErrNameClash.
func (c *Client) Mkdir(ctx context.Context, parentID, name string) (string, error) {
	if err := wire.ValidateName(name); err != nil {
		return "", invalidName(name, err)
	}
	isIt := func(e *wire.Entry) bool { return e.IsDir() && e.Filename == name }
	var id string
	op := func(ctx context.Context) error {
		var d wire.MkdirData
		req := wire.MkdirRequest{Name: wire.Names{name}, ParentID: parentID, Type: wire.TypeImageHost}
		if err := c.send(ctx, post(wire.PathMkdir, req), &d); err != nil {
			return err
		}
		for _, it := range d.List {
			if it.DirID != "" && (it.Filename == name || len(d.List) == 1) {
				id = string(it.DirID)
				return nil
			}
		}
		// Success without an ID: find the folder.
		e, err := c.findChild(ctx, parentID, isIt)
		if err != nil {
			return final(err)
		}
		if e == nil {
			return &APIError{Endpoint: "mkdir", HTTPStatus: 200, Message: "answer has no dirID and the folder is not listed", malformed: true}
		}
		id = string(e.FileID)
		return nil
	}
	check := func(ctx context.Context) (bool, error) {
		e, err := c.findChild(ctx, parentID, isIt)
		if e != nil {
			id = string(e.FileID)
		}
		return e != nil, err
	}
	if err := c.retryChecked(ctx, "mkdir", op, check); err != nil {
		return "", err
	}
	return id, nil
}

// Detail describes one file or folder. A missing one gives ErrNotFound.
func (c *Client) Detail(ctx context.Context, id string) (*wire.Entry, error) {
	var e wire.Entry
	if err := c.call(ctx, get(wire.PathDetail, url.Values{"fileID": {id}}), &e, true); err != nil {
		return nil, err
	}
	return &e, nil
}

// ListPage fetches one page of a folder. Type is forced to 1 and Limit to
// 1..100 (0 means 100).
func (c *Client) ListPage(ctx context.Context, req wire.ListRequest) (*wire.ListData, error) {
	req.Type = wire.TypeImageHost
	if req.Limit <= 0 || req.Limit > wire.MaxBatch {
		req.Limit = wire.MaxBatch
	}
	var d wire.ListData
	if err := c.call(ctx, post(wire.PathList, req), &d, true); err != nil {
		return nil, err
	}
	if req.ParentFileID == "" {
		for _, e := range d.FileList {
			c.rootID.learn(string(e.ParentFileID))
		}
	}
	return &d, nil
}

// List yields every entry of a folder, 100 per page, following lastFileId.
// It stops at "-1", at an empty page, at an empty cursor and at a cursor
// that does not advance (or comes back), so that it ends whichever way the
// service marks the last page. An entry seen twice is yielded once. On
// error it yields (zero Entry, err) once and stops.
func (c *Client) List(ctx context.Context, parentID string) iter.Seq2[wire.Entry, error] {
	return func(yield func(wire.Entry, error) bool) {
		cursor := ""
		cursors := map[string]bool{}
		seen := map[wire.ID]bool{}
		for {
			d, err := c.ListPage(ctx, wire.ListRequest{ParentFileID: parentID, Limit: wire.MaxBatch, LastFileID: cursor})
			if err != nil {
				yield(wire.Entry{}, err)
				return
			}
			for _, e := range d.FileList {
				if seen[e.FileID] {
					continue
				}
				seen[e.FileID] = true
				if !yield(e, nil) {
					return
				}
			}
			next := string(d.LastFileID)
			if next == wire.ListEnd || next == "" || len(d.FileList) == 0 || next == cursor || cursors[next] {
				return
			}
			cursors[next] = true
			cursor = next
		}
	}
}

// ListAll collects List into a slice.
func (c *Client) ListAll(ctx context.Context, parentID string) ([]wire.Entry, error) {
	var all []wire.Entry
	for e, err := range c.List(ctx, parentID) {
		if err != nil {
			return nil, err
		}
		all = append(all, e)
	}
	return all, nil
}

// findChild returns the first entry of parentID that match accepts, or nil.
func (c *Client) findChild(ctx context.Context, parentID string, match func(*wire.Entry) bool) (*wire.Entry, error) {
	for e, err := range c.List(ctx, parentID) {
		if err != nil {
			return nil, err
		}
		if match(&e) {
			return &e, nil
		}
	}
	return nil, nil
}

// Delete deletes files and folders, in batches of at most 100. Delete is
// treated as idempotent and retried freely; a 5066 answering a retry after
// an ambiguous failure means the first attempt did the work, and is
// success. (The emulator ignores missing IDs; whether the real service
// does is unknown, so a caller should take ErrNotFound as "already gone".)
// On failure the batches before the failing one are done.
func (c *Client) Delete(ctx context.Context, ids []string) error {
	for b := range batches(ids) {
		r := post(wire.PathDelete, wire.DeleteRequest{FileIDs: b})
		var ambiguous bool
		err := c.retry(ctx, r.name, true, func(ctx context.Context) error {
			err := c.send(ctx, r, nil)
			if ambiguous && errors.Is(err, ErrNotFound) {
				return nil
			}
			ambiguous = ambiguous || IsAmbiguous(err)
			return err
		})
		if err != nil {
			return fmt.Errorf("deleting %d entries: %w", len(b), err)
		}
	}
	return nil
}

// Move moves entries into toParent ("" = root), in batches of at most 100.
// The service refuses an empty toParentFileID, so a move into the root
// sends the root's own ID, learnt (once) from the root's listing. move is
// not idempotent: after an ambiguous failure the client asks detail for
// each entry of the batch and moves again only those whose parent is not
// yet toParent; so it does when the service refuses a batch because an
// entry is already in toParent. On failure the batches before the failing
// one are done.
func (c *Client) Move(ctx context.Context, ids []string, toParent string) error {
	if toParent == "" && len(ids) > 0 {
		root, err := c.RootID(ctx)
		if err != nil {
			return fmt.Errorf("moving %d entries into the root: learning the root's ID: %w", len(ids), err)
		}
		if root == "" {
			return fmt.Errorf("moving %d entries into the root: %w", len(ids), ErrRootUnknown)
		}
		toParent = root
	}
	for b := range batches(ids) {
		pending := b
		var check func(ctx context.Context) (bool, error)
		op := func(ctx context.Context) error {
			err := c.send(ctx, post(wire.PathMove, wire.MoveRequest{FileIDs: pending, ToParentFileID: toParent}), nil)
			if !errors.Is(err, ErrAlreadyThere) {
				return err
			}
			// The whole batch is refused when one entry is in toParent
			// already: move the others.
			done, cerr := check(ctx)
			if cerr != nil || done {
				return cerr
			}
			return c.send(ctx, post(wire.PathMove, wire.MoveRequest{FileIDs: pending, ToParentFileID: toParent}), nil)
		}
		check = func(ctx context.Context) (bool, error) {
			var left []string
			for _, id := range pending {
				e, err := c.Detail(ctx, id)
				if errors.Is(err, ErrNotFound) {
					left = append(left, id) // let the service answer for it
					continue
				}
				if err != nil {
					return false, err
				}
				if string(e.ParentFileID) != toParent {
					left = append(left, id)
				}
			}
			pending = left
			return len(pending) == 0, nil
		}
		if err := c.retryChecked(ctx, "move", op, check); err != nil {
			return fmt.Errorf("moving %d entries: %w", len(pending), err)
		}
	}
	return nil
}

// RootID returns the ID the service shows as parentFileId of top-level
// entries, learnt by listing the root; "" if the root is empty or the
// service shows "" there.
func (c *Client) RootID(ctx context.Context) (string, error) {
	if id := c.rootID.get(); id != "" {
		return id, nil
	}
	if _, err := c.ListPage(ctx, wire.ListRequest{Limit: 1}); err != nil {
		return "", err
	}
	return c.rootID.get(), nil
}

// rootCache remembers the root's own ID once seen.
type rootCache struct {
	mu sync.Mutex
	id string
}

func (r *rootCache) learn(id string) {
	if id == "" {
		return
	}
	r.mu.Lock()
	r.id = id
	r.mu.Unlock()
}

func (r *rootCache) get() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.id
}

// batches cuts ids into slices of at most wire.MaxBatch.
func batches(ids []string) iter.Seq[[]string] {
	return func(yield func([]string) bool) {
		for len(ids) > 0 {
			n := min(len(ids), wire.MaxBatch)
			if !yield(ids[:n:n]) {
				return
			}
			ids = ids[n:]
		}
	}
}

// Copy starts copying cloud-drive files into toParent of the image host and
// returns the task ID. Not repeated after an ambiguous failure.
func (c *Client) Copy(ctx context.Context, driveIDs []string, toParent string) (string, error) {
	var d wire.CopyData
	req := wire.CopyRequest{FileIDs: driveIDs, ToParentFileID: toParent, SourceType: "1", Type: wire.TypeImageHost}
	if err := c.call(ctx, post(wire.PathCopy, req), &d, false); err != nil {
		return "", err
	}
	return string(d.TaskID), nil
}

// CopyProcess reports a copy task's status (wire.CopyRunning, ...).
func (c *Client) CopyProcess(ctx context.Context, taskID string) (*wire.CopyProcessData, error) {
	var d wire.CopyProcessData
	if err := c.call(ctx, get(wire.PathCopyProcess, url.Values{"taskID": {taskID}}), &d, true); err != nil {
		return nil, err
	}
	return &d, nil
}

// CopyFailures lists the files a copy task could not copy (page from 1).
func (c *Client) CopyFailures(ctx context.Context, taskID string, page, limit int) (*wire.CopyFailData, error) {
	q := url.Values{"taskID": {taskID}, "page": {fmt.Sprint(page)}, "limit": {fmt.Sprint(limit)}}
	var d wire.CopyFailData
	if err := c.call(ctx, get(wire.PathCopyFail, q), &d, true); err != nil {
		return nil, err
	}
	return &d, nil
}

// OfflineDownload starts an offline migration of req.URL and returns the
// task ID. Type is forced to 1; a FileName is validated. Not repeated after
// an ambiguous failure.
func (c *Client) OfflineDownload(ctx context.Context, req wire.OfflineRequest) (string, error) {
	if req.FileName != "" {
		if err := wire.ValidateName(req.FileName); err != nil {
			return "", invalidName(req.FileName, err)
		}
	}
	if strings.TrimSpace(req.URL) == "" {
		return "", errors.New("remote: offline download needs a URL")
	}
	req.Type = wire.TypeImageHost
	var d wire.OfflineData
	if err := c.call(ctx, post(wire.PathOffline, req), &d, false); err != nil {
		return "", err
	}
	return string(d.TaskID), nil
}

// OfflineProcess reports an offline task's status (wire.OfflineRunning, ...).
func (c *Client) OfflineProcess(ctx context.Context, taskID string) (*wire.OfflineProcessData, error) {
	var d wire.OfflineProcessData
	if err := c.call(ctx, get(wire.PathOfflineProcess, url.Values{"taskID": {taskID}}), &d, true); err != nil {
		return nil, err
	}
	return &d, nil
}
