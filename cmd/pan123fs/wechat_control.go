package main

import (
	"encoding/json"
	"net/http"

	"github.com/pan123fs/pan123fs/remote/wechat"
)

// importItem is one object of POST /import-ids: its file ID and the name
// it gets; the answer carries Error when it was not imported.
type importItem struct {
	FileID string `json:"fileID"`
	Name   string `json:"name"`
	Error  string `json:"error,omitempty"`
}

// importRequest is the body of POST /import-ids.
type importRequest struct {
	Path  string       `json:"path"` // the folder, relative to the mount
	Items []importItem `json:"items"`
}

// wechatRoutes are the control socket's routes of a WeChat CloudBase
// mount: POST /import-ids brings objects stored by other means into the
// namespace by their file IDs (import-ids), one at a time.
func wechatRoutes(b *wechat.Backend) func(*http.ServeMux) {
	return func(mux *http.ServeMux) {
		mux.HandleFunc("POST /import-ids", func(w http.ResponseWriter, r *http.Request) {
			var req importRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			folder, err := folderID(r.Context(), b, req.Path)
			if err != nil {
				answer(w, nil, err)
				return
			}
			for i, it := range req.Items {
				if _, err := b.Import(r.Context(), folder, it.Name, it.FileID); err != nil {
					req.Items[i].Error = err.Error()
				}
			}
			answer(w, req.Items, nil)
		})
	}
}
