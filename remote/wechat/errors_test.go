package wechat

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
	"github.com/pan123fs/pan123fs/store"
)

func TestClassifyMapsAnswersToStoreSentinels(t *testing.T) {
	all := []error{store.ErrNotFound, store.ErrExists, store.ErrInvalidName, store.ErrQuota, store.ErrAuth,
		store.ErrRateLimited, store.ErrTemporary, store.ErrPermanent}
	for _, tc := range []struct {
		name string
		err  *APIError
		want []error
	}{
		{"resource missing", &APIError{Code: wire.CodeResourceMissing}, []error{store.ErrNotFound, store.ErrPermanent}},
		{"file does not exist", &APIError{Code: wire.CodeFileNotExist}, []error{store.ErrNotFound, store.ErrPermanent}},
		{"per-file nonexist", &APIError{Status: wire.StatusNonexist, Message: wire.ErrMsgFileNonexist}, []error{store.ErrNotFound, store.ErrPermanent}},
		{"per-file other status", &APIError{Status: 2, Message: "STORAGE_EXCEED_AUTHORITY"}, []error{store.ErrTemporary}},
		{"download 404", &APIError{Call: callDownload, HTTPStatus: 404}, []error{store.ErrNotFound, store.ErrPermanent}},
		{"duplicate key", &APIError{Code: wire.CodeDBDuplicate, Message: "E11000 duplicate key"}, []error{store.ErrExists, store.ErrPermanent}},
		{"duplicate by message", &APIError{Code: -502001, Message: "Duplicate Key error"}, []error{store.ErrExists, store.ErrPermanent}},
		{"token expired", &APIError{Code: wire.CodeTokenExpired}, []error{store.ErrAuth}},
		{"token invalid", &APIError{Code: wire.CodeInvalidToken}, []error{store.ErrAuth}},
		{"no permission", &APIError{Code: wire.CodeFileNoPermission}, []error{store.ErrAuth, store.ErrPermanent}},
		{"no CloudBase", &APIError{Code: wire.CodeNoCloudBase}, []error{store.ErrAuth, store.ErrPermanent}},
		{"read quota", &APIError{Code: wire.CodeReadQuota}, []error{store.ErrQuota}},
		{"write quota", &APIError{Code: wire.CodeWriteQuota}, []error{store.ErrQuota}},
		{"disk full", &APIError{Code: wire.CodeDiskFull}, []error{store.ErrQuota}},
		{"too large", &APIError{Call: callCOS, HTTPStatus: 400, Message: wire.CosEntityTooLarge}, []error{store.ErrQuota, store.ErrPermanent}},
		{"invalid argument", &APIError{Code: wire.CodeInvalidArg}, []error{store.ErrInvalidName, store.ErrPermanent}},
		{"daily quota", &APIError{Code: wire.CodeQuota}, []error{store.ErrRateLimited, store.ErrTemporary}},
		{"request quota", &APIError{Code: wire.CodeRequestQuota}, []error{store.ErrRateLimited, store.ErrTemporary}},
		{"busy", &APIError{Code: wire.CodeBusy}, []error{store.ErrTemporary}},
		{"system error", &APIError{Code: wire.CodeSystemError}, []error{store.ErrTemporary}},
		{"cloud timeout", &APIError{Code: wire.CodeCloudTimeout}, []error{store.ErrTemporary}},
		{"file request failed", &APIError{Code: wire.CodeFileRequestFailed}, []error{store.ErrTemporary}},
		{"HTTP 502", &APIError{HTTPStatus: 502}, []error{store.ErrTemporary}},
		{"COS 500", &APIError{Call: callCOS, HTTPStatus: 500, Message: wire.CosInternalError}, []error{store.ErrTemporary}},
		{"connection cut", &APIError{Err: io.ErrUnexpectedEOF, transport: true}, []error{store.ErrTemporary}},
		{"bad query", &APIError{Code: wire.CodeDBBadQuery}, []error{store.ErrPermanent}},
		{"COS access denied", &APIError{Call: callCOS, HTTPStatus: 403, Message: wire.CosAccessDenied}, []error{store.ErrPermanent}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err)
			assert.True(t, store.FromBackend(got), "classify(%v) is not a *store.Error", tc.err)
			for _, k := range all {
				want := errors.Is(store.Wrap(errors.New("x"), tc.want...), k)
				assert.Equal(t, want, errors.Is(got, k), "classify(%v) matches %v", tc.err, k)
			}
		})
	}
}

func TestClassifyLeavesACanceledCallAlone(t *testing.T) {
	err := &APIError{Call: wire.PathDatabaseQuery, Err: context.Canceled, transport: true}
	got := classify(err)
	assert.False(t, store.FromBackend(got), "classify(%v) of a call the caller gave up", err)
	assert.ErrorIs(t, got, context.Canceled)
}

func TestQueryTextEncodesEveryValue(t *testing.T) {
	b := &Backend{coll: `c"x`}
	got := b.q().where(map[string]any{"parent": `a"b\c`, "name": "图\n"}).call("skip", 0).call("limit", 1000).call("get").String()
	assert.Equal(t, `db.collection("c\"x").where({"name":"图\n","parent":"a\"b\\c"}).skip(0).limit(1000).get()`, got)
}
