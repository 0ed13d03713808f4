package wechat_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pan123fs/pan123fs/remote/wechat"
	"github.com/pan123fs/pan123fs/remote/wechat/emulator"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
	"github.com/pan123fs/pan123fs/store"
)

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func putReq(parent, name string, data []byte) store.PutRequest {
	return store.PutRequest{Parent: parent, Name: name, Content: bytes.NewReader(data), Size: int64(len(data)), MD5: md5hex(data)}
}

func put(t *testing.T, b *wechat.Backend, parent, name string, data []byte) store.Entry {
	t.Helper()
	res, err := b.Put(t.Context(), putReq(parent, name, data))
	require.NoError(t, err, "Put(%q)", name)
	require.Empty(t, res.Leftovers, "Put(%q): Leftovers", name)
	return res.Entry
}

// calls is how many requests the emulator got for route ("POST /tcb/...").
func calls(emu *emulator.Server, route string) int64 {
	return emu.Stats().Calls[route]
}

const (
	stableTokenCalls = "POST " + wire.PathStableToken
	deleteCalls      = "POST " + wire.PathBatchDeleteFile
	cosCalls         = "POST /cos"
)

func readAll(t *testing.T, b *wechat.Backend, e store.Entry) []byte {
	t.Helper()
	rc, err := b.Reader(e).OpenRange(t.Context(), 0, -1)
	require.NoError(t, err, "OpenRange(%q)", e.Name)
	defer rc.Close()
	got, err := io.ReadAll(rc)
	require.NoError(t, err, "reading %q", e.Name)
	return got
}

func TestTokenIsSharedByClientsOfOneStateDir(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	cfg := config(t, emu, srv)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			b := newBackend(t, cfg) // a process of its own: nothing shared but the StateDir
			_, err := b.Mkdir(t.Context(), "", fmt.Sprintf("d%d", i))
			assert.NoError(t, err, "Mkdir from client %d", i)
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), calls(emu, stableTokenCalls), "stable_token calls by 4 clients of one StateDir")
	_, err := os.Stat(filepath.Join(cfg.StateDir, "wechat-token-"+testAppID+".json"))
	assert.NoError(t, err, "the saved token")
}

func TestTokenExpiredIsRenewedAndTheCallRetriedOnce(t *testing.T) {
	clock := clockwork.NewFakeClock()
	emu, srv := newEmulator(t, emulator.Options{Clock: clock, TokenTTL: time.Hour})
	b := newBackend(t, config(t, emu, srv)) // the client's own clock is the real one: it thinks the token good
	ctx := t.Context()
	_, err := b.Mkdir(ctx, "", "before")
	require.NoError(t, err)
	require.Equal(t, int64(1), calls(emu, stableTokenCalls))

	clock.Advance(2 * time.Hour) // the emulator expires the token: 42001
	before := calls(emu, "POST "+wire.PathDatabaseAdd)
	_, err = b.Mkdir(ctx, "", "after")
	require.NoError(t, err, "Mkdir with an expired token")
	assert.Equal(t, int64(2), calls(emu, stableTokenCalls), "stable_token calls")
	assert.Equal(t, before+2, calls(emu, "POST "+wire.PathDatabaseAdd), "databaseadd: the refused call and its retry")
}

func TestTokenRefusedTwiceFailsWithErrAuth(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	emu.AddFaults(emulator.Fault{Path: wire.PathDatabaseQuery, ErrCode: wire.CodeTokenExpired})
	_, err := b.Stat(t.Context(), "some-id")
	assert.ErrorIs(t, err, store.ErrAuth, "Stat while every call says 42001")
	assert.Equal(t, int64(2), calls(emu, "POST "+wire.PathDatabaseQuery), "databasequery: one call and one retry, no more")
}

func TestBusyAnswersAreRetried(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	d, err := b.Mkdir(t.Context(), "", "d")
	require.NoError(t, err)
	for _, code := range []int{wire.CodeBusy, wire.CodeCloudTimeout, wire.CodeRequestQuota} {
		emu.AddFaults(emulator.Fault{Path: wire.PathDatabaseQuery, ErrCode: code, Count: 2})
		got, err := b.Stat(t.Context(), d.ID)
		require.NoError(t, err, "Stat after two errcode %d answers", code)
		assert.Equal(t, "d", got.Name)
	}
	emu.AddFaults(emulator.Fault{Path: wire.PathDatabaseQuery, ErrCode: wire.CodeBusy})
	_, err = b.Stat(t.Context(), d.ID)
	assert.ErrorIs(t, err, store.ErrTemporary, "Stat while the service stays busy")
}

func TestDeleteOf51FilesIsTwoStorageCalls(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	ids := make([]string, 51)
	for i := range ids {
		ids[i] = put(t, b, "", fmt.Sprintf("f%02d.png", i), fmt.Appendf(nil, "file %d", i)).ID
	}
	require.Equal(t, 51, emu.Stats().Objects)
	require.NoError(t, b.Delete(t.Context(), ids))
	assert.Equal(t, int64(2), calls(emu, deleteCalls), "batchdeletefile calls for 51 files")
	assert.Zero(t, emu.Stats().Objects, "objects left")
	assert.Zero(t, emu.Stats().Documents, "documents left")
}

func TestDeleteOf51FilesIsTwoQueriesAndTwoRemoves(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	ids := make([]string, 51)
	for i := range ids {
		ids[i] = put(t, b, "", fmt.Sprintf("f%02d.png", i), fmt.Appendf(nil, "file %d", i)).ID
	}
	keep := put(t, b, "", "keep", []byte("keep"))
	queries, removes := calls(emu, "POST "+wire.PathDatabaseQuery), calls(emu, "POST "+wire.PathDatabaseDelete)
	require.NoError(t, b.Delete(t.Context(), append(ids, "gone-already")))
	assert.Equal(t, int64(2), calls(emu, "POST "+wire.PathDatabaseQuery)-queries, "databasequery calls for 52 IDs")
	assert.Equal(t, int64(2), calls(emu, "POST "+wire.PathDatabaseDelete)-removes, "databasedelete calls for 51 files")
	assert.Equal(t, 1, emu.Stats().Objects, "objects left")
	assert.Equal(t, 1, emu.Stats().Documents, "documents left")
	st, err := b.Stat(t.Context(), keep.ID)
	require.NoError(t, err)
	assert.Equal(t, []byte("keep"), readAll(t, b, st))
}

func TestDeleteOfAFolderDeletesTheObjectsUnderIt(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	ctx := t.Context()
	d, err := b.Mkdir(ctx, "", "d")
	require.NoError(t, err)
	sub, err := b.Mkdir(ctx, d.ID, "sub")
	require.NoError(t, err)
	put(t, b, d.ID, "a", []byte("a"))
	put(t, b, sub.ID, "b", []byte("b"))
	keep := put(t, b, "", "keep", []byte("keep"))
	require.NoError(t, b.Delete(ctx, []string{d.ID}))
	assert.Equal(t, 1, emu.Stats().Objects, "objects left")
	assert.Equal(t, 1, emu.Stats().Documents, "documents left")
	st, err := b.Stat(ctx, keep.ID)
	require.NoError(t, err)
	assert.Equal(t, []byte("keep"), readAll(t, b, st))
}

func TestResumedPutSkipsTheUpload(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	data := bytes.Repeat([]byte("resume"), 1000)
	ctx, cancel := context.WithCancel(t.Context())
	var token string
	r := putReq("", "r.png", data)
	r.Started = func(tok string) { token = tok; cancel() } // a crash right after the upload
	_, err := b.Put(ctx, r)
	require.Error(t, err, "the Put cut short")
	require.NotEmpty(t, token, "Started's token")
	uploads := calls(emu, cosCalls)

	r = putReq("", "r.png", data)
	r.Resume = token
	res, err := b.Put(t.Context(), r)
	require.NoError(t, err, "the resumed Put")
	assert.Equal(t, uploads, calls(emu, cosCalls), "COS uploads by the resumed Put")
	assert.Equal(t, 1, emu.Stats().Objects, "objects")
	st, err := b.Stat(t.Context(), res.Entry.ID)
	require.NoError(t, err)
	assert.Equal(t, data, readAll(t, b, st))

	r = putReq("", "other.png", []byte("other content"))
	r.Resume = token // a token of other content is not used
	res, err = b.Put(t.Context(), r)
	require.NoError(t, err)
	assert.Equal(t, uploads+1, calls(emu, cosCalls), "COS uploads by a Put with another content's token")
	st, err = b.Stat(t.Context(), res.Entry.ID)
	require.NoError(t, err)
	assert.Equal(t, []byte("other content"), readAll(t, b, st))
}

func TestResumedPutWhoseFirstRunFinishedMakesNoSecondEntry(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	data := []byte("done already")
	var token string
	r := putReq("", "f.png", data)
	r.Started = func(tok string) { token = tok }
	first, err := b.Put(t.Context(), r)
	require.NoError(t, err)

	r = putReq("", "f.png", data) // the journal did not learn that it finished
	r.Resume = token
	res, err := b.Put(t.Context(), r)
	require.NoError(t, err, "Put resumed after its first run finished")
	assert.Equal(t, first.Entry.ID, res.Entry.ID)
	assert.Equal(t, 1, emu.Stats().Objects, "objects")
	assert.Equal(t, 1, emu.Stats().Documents, "documents")
}

func TestOverwriteNeverServesOldBytesUnderTheNewLink(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	ctx := t.Context()
	oldData, newData := []byte("old bytes, old bytes"), []byte("new bytes, longer than the old")
	f := put(t, b, "", "f.png", oldData)
	oldSt, err := b.Stat(ctx, f.ID)
	require.NoError(t, err)
	oldReader := b.Reader(oldSt)
	buf := make([]byte, 3)
	_, err = oldReader.ReadAt(buf, 0) // a reader opened before the overwrite
	require.NoError(t, err)

	r := putReq("", "f.png", newData)
	r.Replaces = f.ID
	res, err := b.Put(ctx, r)
	require.NoError(t, err)
	require.Empty(t, res.Leftovers)
	assert.Equal(t, f.ID, res.Entry.ID, "the ID stays")
	newSt, err := b.Stat(ctx, f.ID)
	require.NoError(t, err)
	assert.NotEqual(t, oldSt.Link, newSt.Link, "the link of the new content")
	assert.Equal(t, newData, readAll(t, b, newSt))
	assert.Equal(t, 1, emu.Stats().Objects, "objects: the old one is deleted")

	resp, err := http.Get(oldSt.Link)
	require.NoError(t, err)
	resp.Body.Close()
	assert.NotEqual(t, http.StatusOK, resp.StatusCode, "GET of the old link after the overwrite")
	_, err = oldReader.ReadAt(buf, 0)
	assert.ErrorIs(t, err, store.ErrNotFound, "reading the old entry after the overwrite")
}

func TestReplacedObjectThatCannotBeDeletedIsALeftover(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	ctx := t.Context()
	f := put(t, b, "", "f.png", []byte("old"))
	emu.AddFaults(emulator.Fault{Path: wire.PathBatchDeleteFile, ErrCode: wire.CodeFileNoPermission, Count: 1})
	r := putReq("", "f.png", []byte("new"))
	r.Replaces = f.ID
	res, err := b.Put(ctx, r)
	require.NoError(t, err)
	require.Len(t, res.Leftovers, 1, "Leftovers")
	assert.True(t, strings.HasPrefix(res.Leftovers[0], wire.FileIDScheme), "the leftover %q is a file ID", res.Leftovers[0])
	assert.Equal(t, 2, emu.Stats().Objects)
	require.NoError(t, b.Delete(ctx, res.Leftovers), "Delete of the leftover")
	assert.Equal(t, 1, emu.Stats().Objects, "objects after deleting the leftover")
	st, err := b.Stat(ctx, f.ID)
	require.NoError(t, err)
	assert.Equal(t, []byte("new"), readAll(t, b, st))
}

func TestPutOfATakenNameDropsItsObject(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	put(t, b, "", "f.png", []byte("first"))
	res, err := b.Put(t.Context(), putReq("", "f.png", []byte("second")))
	assert.ErrorIs(t, err, store.ErrExists)
	assert.Empty(t, res.Leftovers)
	assert.Equal(t, 1, emu.Stats().Objects, "objects")
}

func TestUploadTooLargeIsAPermanentQuotaError(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{MaxObjectSize: 10})
	b := newBackend(t, config(t, emu, srv))
	_, err := b.Put(t.Context(), putReq("", "big.png", []byte("more than ten bytes")))
	assert.ErrorIs(t, err, wechat.ErrTooLarge)
	assert.ErrorIs(t, err, store.ErrQuota)
	assert.True(t, store.IsPermanent(err), "IsPermanent(%v)", err)
	assert.Zero(t, emu.Stats().Documents)
}

func TestCOSFailuresAreRetried(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	emu.AddFaults(emulator.Fault{Path: "/cos", Status: http.StatusServiceUnavailable, Count: 1},
		emulator.Fault{Path: "/cos", Reset: true, Count: 1})
	f := put(t, b, "", "f.png", []byte("content"))
	assert.Equal(t, int64(3), calls(emu, cosCalls))
	st, err := b.Stat(t.Context(), f.ID)
	require.NoError(t, err)
	assert.Equal(t, []byte("content"), readAll(t, b, st))
}

func TestReaderRefreshesAnExpiredLink(t *testing.T) {
	clock := clockwork.NewFakeClock()
	emu, srv := newEmulator(t, emulator.Options{Clock: clock})
	cfg := config(t, emu, srv)
	cfg.LinkMaxAge = time.Minute
	b := newBackend(t, cfg)
	f := put(t, b, "", "f.png", []byte("content"))
	st, err := b.Stat(t.Context(), f.ID)
	require.NoError(t, err)
	clock.Advance(time.Hour) // the emulator's link is dead
	assert.Equal(t, []byte("content"), readAll(t, b, st))
}

func TestRenameIsOneUpdateAndKeepsTheObject(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	ctx := t.Context()
	d, err := b.Mkdir(ctx, "", "d")
	require.NoError(t, err)
	f := put(t, b, "", "f.png", []byte("content"))
	uploads := calls(emu, cosCalls)
	got, err := b.Rename(ctx, f, d.ID, "g.png")
	require.NoError(t, err)
	assert.Equal(t, f.ID, got.ID)
	assert.Equal(t, int64(1), calls(emu, "POST "+wire.PathDatabaseUpdate), "databaseupdate calls")
	assert.Equal(t, uploads, calls(emu, cosCalls))
	names := func(folder string) map[string]string {
		out := map[string]string{}
		for e, err := range b.List(ctx, folder) {
			require.NoError(t, err)
			out[e.Name] = e.ID
		}
		return out
	}
	assert.Equal(t, map[string]string{"d": d.ID}, names(""), "the root, listed afresh")
	assert.Equal(t, map[string]string{"g.png": f.ID}, names(d.ID), "d, listed afresh")

	other := put(t, b, d.ID, "taken.png", []byte("x"))
	_, err = b.Rename(ctx, got, d.ID, other.Name)
	assert.ErrorIs(t, err, store.ErrExists, "Rename onto a taken name")
}

func TestOpenAPIModeSendsNoToken(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{OpenAPI: true})
	cfg := config(t, emu, srv)
	cfg.Token, cfg.AppID, cfg.Secret = wechat.TokenNone, "", ""
	b := newBackend(t, cfg)
	f := put(t, b, "", "f.png", []byte("content"))
	st, err := b.Stat(t.Context(), f.ID)
	require.NoError(t, err)
	assert.Equal(t, []byte("content"), readAll(t, b, st))
	assert.Zero(t, calls(emu, stableTokenCalls))
}

// stableToken asks the emulator for a token as another program would.
func stableToken(t *testing.T, srv *httptest.Server, force bool) string {
	t.Helper()
	body, err := json.Marshal(wire.StableTokenRequest{GrantType: wire.GrantClientCredential, AppID: testAppID,
		Secret: testSecret, ForceRefresh: force})
	require.NoError(t, err)
	resp, err := http.Post(srv.URL+wire.PathStableToken, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var tr wire.TokenResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tr))
	require.NotEmpty(t, tr.AccessToken, "stable_token: %+v", tr)
	return tr.AccessToken
}

func TestTokenFileIsReadAgainWhenRefused(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	file := filepath.Join(t.TempDir(), "token")
	cfg := config(t, emu, srv)
	cfg.Token, cfg.TokenFile, cfg.TokenParam, cfg.AppID, cfg.Secret = wechat.TokenFile, file, wire.QueryCloudBaseAccessToken, "", ""
	b := newBackend(t, cfg)
	ctx := t.Context()

	tok1 := stableToken(t, srv, false)
	require.NoError(t, os.WriteFile(file, []byte(tok1+"\n"), 0o600))
	_, err := b.Mkdir(ctx, "", "one")
	require.NoError(t, err, "Mkdir with the token of the file")

	// The program that keeps the file renews the token (the old one dies)
	// and rewrites the file so that its size and mtime do not change.
	fi, err := os.Stat(file)
	require.NoError(t, err)
	tok2 := stableToken(t, srv, true)
	require.Len(t, tok2, len(tok1))
	require.NoError(t, os.WriteFile(file, []byte(tok2+"\n"), 0o600))
	require.NoError(t, os.Chtimes(file, fi.ModTime(), fi.ModTime()))
	_, err = b.Mkdir(ctx, "", "two")
	require.NoError(t, err, "Mkdir after the token in the file changed")

	require.NoError(t, os.WriteFile(file, []byte("not-a-token\n"), 0o600))
	_, err = b.Mkdir(ctx, "", "three")
	assert.ErrorIs(t, err, store.ErrAuth, "Mkdir with a refused token in the file")
}

func TestCheckName(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"plain.png", true},
		{"图：1 ?*<>|\\\"", true},
		{strings.Repeat("n", 255), true},
		{strings.Repeat("n", 256), false},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"a\x00b", false},
		{"\xff\xfe", false},
	} {
		err := b.CheckName(tc.name)
		if tc.ok {
			assert.NoError(t, err, "CheckName(%q)", tc.name)
		} else {
			assert.ErrorIs(t, err, store.ErrInvalidName, "CheckName(%q)", tc.name)
		}
	}
}

// How an answer is lost after the service applied the call.
type loss int

const (
	lostWhole   loss = iota // the connection closes before any byte of the answer
	lostBody                // headers and half the body, then the connection closes
	lostGateway             // a gateway answers 502 instead
)

// loseAnswers serves emu, but the first n calls of path are applied and
// their answers lost, as how says.
func loseAnswers(t *testing.T, emu *emulator.Server, path string, n int, how loss) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lose := r.URL.Path == path && n > 0
		if lose {
			n--
		}
		mu.Unlock()
		if !lose {
			emu.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, r)
		if how == lostGateway {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		if how == lostBody {
			body := rec.Body.Bytes()
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
			buf.Write(body[:len(body)/2])
			buf.Flush()
		}
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAddWhoseAnswerWasLostIsNotADuplicate(t *testing.T) {
	for name, how := range map[string]loss{"whole": lostWhole, "cut body": lostBody, "gateway 502": lostGateway} {
		t.Run(name, func(t *testing.T) { testAddWhoseAnswerWasLost(t, how) })
	}
}

func testAddWhoseAnswerWasLost(t *testing.T, how loss) {
	emu := emulator.New(emulator.Options{AppID: testAppID, Secret: testSecret})
	srv := loseAnswers(t, emu, wire.PathDatabaseAdd, 2, how)
	b := newBackend(t, config(t, emu, srv))
	ctx := t.Context()
	for _, err := range b.List(ctx, "") { // makes the collection
		require.NoError(t, err)
	}
	d, err := b.Mkdir(ctx, "", "d")
	require.NoError(t, err, "Mkdir whose databaseadd answer was lost")
	f, err := b.Put(ctx, putReq(d.ID, "f.png", []byte("content")))
	require.NoError(t, err, "Put whose databaseadd answer was lost")
	assert.Equal(t, 2, emu.Stats().Documents, "documents")
	assert.Equal(t, int64(4), calls(emu, "POST "+wire.PathDatabaseAdd), "databaseadd calls: each sent twice")

	ents := map[string]string{}
	for e, err := range b.List(ctx, d.ID) {
		require.NoError(t, err)
		ents[e.Name] = e.ID
	}
	assert.Equal(t, map[string]string{"f.png": f.Entry.ID}, ents, "List(d)")
	_, err = b.Mkdir(ctx, "", "d")
	assert.ErrorIs(t, err, store.ErrExists, "Mkdir of a taken name, answered at once")
}

func TestPutIntoAFolderGoneMakesNothing(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	ctx := t.Context()
	d, err := b.Mkdir(ctx, "", "d")
	require.NoError(t, err)
	require.NoError(t, b.Delete(ctx, []string{d.ID}))
	_, err = b.Put(ctx, putReq(d.ID, "f.png", []byte("content")))
	assert.ErrorIs(t, err, store.ErrNotFound, "Put into a deleted folder")
	_, err = b.Mkdir(ctx, d.ID, "sub")
	assert.ErrorIs(t, err, store.ErrNotFound, "Mkdir in a deleted folder")
	var listErr error
	for _, err := range b.List(ctx, d.ID) {
		listErr = err
	}
	assert.ErrorIs(t, listErr, store.ErrNotFound, "List of a deleted folder")
	_, err = b.Rename(ctx, store.Entry{ID: "gone", Name: "x"}, "", "y")
	assert.ErrorIs(t, err, store.ErrNotFound, "Rename of an entry that is gone")
	assert.Zero(t, emu.Stats().Objects, "objects")
	assert.Zero(t, emu.Stats().Documents, "documents")
}

func TestOverwriteWhoseUpdateAnswerWasLostDeletesTheOldObject(t *testing.T) {
	emu := emulator.New(emulator.Options{AppID: testAppID, Secret: testSecret})
	srv := loseAnswers(t, emu, wire.PathDatabaseUpdate, 1, lostWhole)
	b := newBackend(t, config(t, emu, srv))
	ctx := t.Context()
	f := put(t, b, "", "f.png", []byte("old"))
	r := putReq("", "f.png", []byte("new"))
	r.Replaces = f.ID
	res, err := b.Put(ctx, r)
	require.NoError(t, err, "Put whose databaseupdate answer was lost")
	assert.Empty(t, res.Leftovers)
	assert.Equal(t, int64(2), calls(emu, "POST "+wire.PathDatabaseUpdate), "databaseupdate calls")
	assert.Equal(t, 1, emu.Stats().Objects, "objects: the replaced one is deleted")
	st, err := b.Stat(ctx, f.ID)
	require.NoError(t, err)
	assert.Equal(t, []byte("new"), readAll(t, b, st))
}

func TestResumeOfAnUploadAnotherEntryHoldsUploadsAgain(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	ctx := t.Context()
	data := []byte("content")
	var token string
	r := putReq("", "a.png", data)
	r.Started = func(tok string) { token = tok }
	a, err := b.Put(ctx, r)
	require.NoError(t, err)
	uploads := calls(emu, cosCalls)

	r = putReq("", "b.png", data) // the file was renamed before the journal's Put was resumed
	r.Resume = token
	bb, err := b.Put(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, uploads+1, calls(emu, cosCalls), "COS uploads: the object of a.png is not shared")
	require.NoError(t, b.Delete(ctx, []string{a.Entry.ID}))
	st, err := b.Stat(ctx, bb.Entry.ID)
	require.NoError(t, err)
	assert.Equal(t, data, readAll(t, b, st), "b.png after a.png was deleted")
}

func TestBackendsRacingToMakeTheCollectionBothWork(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	cfg := config(t, emu, srv)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			_, err := newBackend(t, cfg).Mkdir(t.Context(), "", fmt.Sprintf("d%d", i))
			assert.NoError(t, err, "Mkdir by backend %d on a fresh environment", i)
		})
	}
	wg.Wait()
	assert.Equal(t, 4, emu.Stats().Documents)
	b := newBackend(t, cfg)
	_, err := b.Mkdir(t.Context(), "", "d0")
	assert.ErrorIs(t, err, store.ErrExists, "the unique index is there")
}

// linkServer serves data at a link of its own: with ranges honoured
// unless ignoreRange, and cutting the first cut answers half-way.
func linkServer(t *testing.T, data []byte, ignoreRange bool, cut int) (*httptest.Server, *int) {
	t.Helper()
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		cutThis := requests <= cut
		mu.Unlock()
		if ignoreRange {
			r.Header.Del("Range")
		}
		if !cutThis {
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

func TestReaderCopesWithAServerThatIgnoresRange(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	ls, _ := linkServer(t, data, true, 0)
	r := b.Reader(store.Entry{ID: "x", Name: "x", Size: int64(len(data)), MD5: md5hex(data), Link: ls.URL})
	rc, err := r.OpenRange(t.Context(), 5, 10)
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	assert.Equal(t, data[5:15], got, "OpenRange(5, 10)")
	buf := make([]byte, 10)
	n, err := r.ReadAt(buf, int64(len(data))-4)
	assert.ErrorIs(t, err, io.EOF, "ReadAt past the end")
	assert.Equal(t, data[len(data)-4:], buf[:n], "ReadAt(10 bytes, 4 before the end)")
}

func TestReaderResumesACutDownload(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	data := bytes.Repeat([]byte("0123456789"), 10000)
	ls, requests := linkServer(t, data, false, 1)
	e := store.Entry{ID: "x", Name: "x", Size: int64(len(data)), MD5: md5hex(data), Link: ls.URL}
	assert.Equal(t, data, readAll(t, b, e))
	assert.Equal(t, 2, *requests, "requests: the cut one and the rest")
}

func TestListPagesPastAThousand(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	ctx := t.Context()
	const n = wire.MaxQueryLimit + 5
	for i := range n {
		_, err := b.Mkdir(ctx, "", fmt.Sprintf("d%04d", i))
		require.NoError(t, err)
	}
	seen := map[string]bool{}
	var first string
	var deleteQueries int64
	query := "POST " + wire.PathDatabaseQuery
	before := calls(emu, query)
	for e, err := range b.List(ctx, "") {
		require.NoError(t, err)
		assert.False(t, seen[e.Name], "List yields %q twice", e.Name)
		seen[e.Name] = true
		if first == "" {
			// Removed while the listing goes on: the next page must not
			// shift and hide an entry that is there.
			first = e.ID
			q := calls(emu, query)
			require.NoError(t, b.Delete(ctx, []string{first}))
			deleteQueries = calls(emu, query) - q
		}
	}
	assert.Equal(t, n, len(seen), "entries listed, the one removed after it was yielded included")
	assert.Equal(t, int64(2), calls(emu, query)-before-deleteQueries, "databasequery calls of the listing: two pages")
}

func TestConfigNeverShowsTheSecret(t *testing.T) {
	cfg := wechat.Config{Env: "env", AppID: testAppID, Secret: testSecret}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), cfg.String(), logged.String()} {
		assert.NotContains(t, s, testSecret)
		assert.Contains(t, s, testAppID)
	}
}

// TestCredentialsAreNotRedirected: an API base that answers with a 307 to
// another host does not get the secret re-sent there (net/http would
// re-send a 307's body: stable_token's holds the AppSecret).
func TestCredentialsAreNotRedirected(t *testing.T) {
	var stolen atomic.Int64
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
	t.Cleanup(thief.Close)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirecting.Close)
	b := newBackend(t, wechat.Config{APIBase: redirecting.URL, Env: "env", AppID: testAppID, Secret: testSecret,
		StateDir: t.TempDir(), Retry: fastRetry})
	_, err := b.Mkdir(t.Context(), "", "d")
	require.Error(t, err)
	assert.ErrorContains(t, err, "redirect away from the API base refused")
	assert.Zero(t, stolen.Load(), "requests that reached the other host")
}

// An overwrite reads the replaced document once: one databasequery, one
// databaseupdate (it read it twice, before the upload and again before the
// update).
func TestOverwriteReadsTheDocumentOnce(t *testing.T) {
	emu, srv := newEmulator(t, emulator.Options{})
	b := newBackend(t, config(t, emu, srv))
	f := put(t, b, "", "f.png", []byte("one"))
	query, update := "POST "+wire.PathDatabaseQuery, "POST "+wire.PathDatabaseUpdate
	q, u := calls(emu, query), calls(emu, update)
	req := putReq("", "f.png", []byte("two"))
	req.Replaces = f.ID
	_, err := b.Put(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, int64(1), calls(emu, query)-q, "databasequery calls of an overwrite")
	assert.Equal(t, int64(1), calls(emu, update)-u, "databaseupdate calls of an overwrite")
}
