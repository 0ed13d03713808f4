package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pan123fs/pan123fs/remote/pan123"
	"github.com/pan123fs/pan123fs/remote/wire"
	"github.com/pan123fs/pan123fs/store"
)

// The control socket's task routes: the import commands start and watch
// 123pan's offline-migration and copy tasks through the mount, with its
// client and its token (a separate client would take one of the account's
// three tokens). The commands do the waiting; these routes are one call each.
//
//	GET  /folder?path=P                → {"id": "..."}: the folder P of the mount ("" = root)
//	POST /offline                      ← wire.OfflineRequest → {"taskID": "..."}
//	GET  /offline?taskID=T             → wire.OfflineProcessData
//	POST /copy                         ← {"fileIDs": [...], "toParentFileID": "..."} → {"taskID": "..."}
//	GET  /copy?taskID=T                → wire.CopyProcessData
//	GET  /copy/fail?taskID=T&page=N    → wire.CopyFailData (100 a page)
//
// A refusal by 123pan answers 502 with its message.

// taskRoutes adds the task routes for b to a control socket's mux.
func taskRoutes(b *pan123.Backend) func(*http.ServeMux) {
	c := b.Client()
	return func(mux *http.ServeMux) {
		mux.HandleFunc("GET /folder", func(w http.ResponseWriter, r *http.Request) {
			id, err := folderID(r.Context(), b, r.URL.Query().Get("path"))
			answer(w, map[string]string{"id": id}, err)
		})
		mux.HandleFunc("POST /offline", func(w http.ResponseWriter, r *http.Request) {
			var req wire.OfflineRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			id, err := c.OfflineDownload(r.Context(), req)
			answer(w, map[string]string{"taskID": id}, err)
		})
		mux.HandleFunc("GET /offline", func(w http.ResponseWriter, r *http.Request) {
			d, err := c.OfflineProcess(r.Context(), r.URL.Query().Get("taskID"))
			answer(w, d, err)
		})
		mux.HandleFunc("POST /copy", func(w http.ResponseWriter, r *http.Request) {
			var req wire.CopyRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			id, err := c.Copy(r.Context(), req.FileIDs, req.ToParentFileID)
			answer(w, map[string]string{"taskID": id}, err)
		})
		mux.HandleFunc("GET /copy", func(w http.ResponseWriter, r *http.Request) {
			d, err := c.CopyProcess(r.Context(), r.URL.Query().Get("taskID"))
			answer(w, d, err)
		})
		mux.HandleFunc("GET /copy/fail", func(w http.ResponseWriter, r *http.Request) {
			page, err := strconv.Atoi(r.URL.Query().Get("page"))
			if err != nil || page < 1 {
				http.Error(w, "page must be 1 or more", http.StatusBadRequest)
				return
			}
			d, err := c.CopyFailures(r.Context(), r.URL.Query().Get("taskID"), page, wire.MaxBatch)
			answer(w, d, err)
		})
	}
}

// answer writes v as JSON, or err as a 502 with its text.
func answer(w http.ResponseWriter, v any, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// folderID finds the ID of the folder at rel (slash-separated, "" or "."
// for the root) by listing each folder on the way from the root.
func folderID(ctx context.Context, b store.Backend, rel string) (string, error) {
	id := ""
	for _, name := range strings.Split(rel, "/") {
		if name == "" || name == "." {
			continue
		}
		next, found := "", false
		for e, err := range b.List(ctx, id) {
			if err != nil {
				return "", err
			}
			if e.Name == name {
				if !e.Folder {
					return "", fmt.Errorf("%s is a file, not a folder", rel)
				}
				next, found = e.ID, true
				break
			}
		}
		if !found {
			return "", errors.New(rel + ": no such folder on " + b.Name() + " (is it uploaded yet?)")
		}
		id = next
	}
	return id, nil
}
