package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/pan123fs/pan123fs/remote/wechat/emulator"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// stats reads GET /__emulator/stats.
func (r *rig) stats() emulator.Stats {
	r.t.Helper()
	var st emulator.Stats
	r.get("/__emulator/stats", &st)
	return st
}

// addFault posts body to /__emulator/faults.
func (r *rig) addFault(body string) {
	r.t.Helper()
	resp, err := http.Post(r.url+"/__emulator/faults", "application/json", bytes.NewBufferString(body))
	if err != nil {
		r.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("faults %s: %d %s", body, resp.StatusCode, b)
	}
}

func TestStatsCountCallsPerRoute(t *testing.T) {
	r := newRig(t, emulator.Options{})
	id := r.upload("s", []byte("x"))
	fetch(t, http.MethodGet, r.link(id))
	r.errcodeOf("")
	st := r.stats()
	want := map[string]int64{
		"GET " + wire.PathToken:              1,
		"POST " + wire.PathUploadFile:        1,
		"POST /cos":                          1,
		"POST " + wire.PathBatchDownloadFile: 1,
		"GET /dl":                            1,
		"POST " + wire.PathBatchDeleteFile:   1,
	}
	for k, n := range want {
		if st.Calls[k] != n {
			t.Errorf("calls[%q] = %d, want %d (all: %v)", k, st.Calls[k], n, st.Calls)
		}
	}
	if len(st.Calls) != len(want) || st.Objects != 1 || st.Bytes != 1 {
		t.Errorf("stats %+v", st)
	}
	resp, err := http.Post(r.url+"/__emulator/stats/reset", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st := r.stats(); len(st.Calls) != 0 {
		t.Errorf("after reset: %v", st.Calls)
	}
}

func TestInjectedFaultsAnswerTheNextCalls(t *testing.T) {
	r := newRig(t, emulator.Options{})
	r.addFault(`{"path": "/tcb/batchdeletefile", "errcode": -1, "count": 2}`)
	for i, want := range []int{wire.CodeBusy, wire.CodeBusy, 0} {
		if got := r.errcodeOf("?access_token=" + r.token); got != want {
			t.Errorf("call %d: errcode %d, want %d", i+1, got, want)
		}
	}
	r.addFault(`[{"path": "/cos", "status": 503, "count": 1}, {"path": "/tcb/uploadfile", "errcode": -501002, "count": 1}]`)
	var up wire.UploadFileResponse
	r.call(wire.PathUploadFile, wire.UploadFileRequest{Env: testEnv, Path: "f"}, &up)
	if up.ErrCode != wire.CodeCloudTimeout {
		t.Errorf("uploadfile under a fault: %+v", up.Envelope)
	}
	u := r.uploadFile("f")
	if status, _, body := r.cosPost(u.URL, formFields(u, "f"), []byte("x")); status != 503 || !hasCosError(body, wire.CosInternalError) {
		t.Errorf("COS POST under a fault: %d %s", status, body)
	}
	if status, _, _ := r.cosPost(u.URL, formFields(u, "f"), []byte("x")); status != http.StatusNoContent {
		t.Errorf("COS POST after the fault: %d", status)
	}
	if st := r.stats(); st.Faults != 4 {
		t.Errorf("stats faults = %d, want 4", st.Faults)
	}
}

func TestInjectedResetAndDelay(t *testing.T) {
	r := newRig(t, emulator.Options{})
	r.addFault(`{"path": "/tcb/batchdeletefile", "reset": true, "count": 1}`)
	_, err := http.Post(r.url+wire.PathBatchDeleteFile+"?access_token="+r.token, "application/json", bytes.NewBufferString("{}"))
	if err == nil {
		t.Fatal("reset fault: the call got an answer")
	}
	r.addFault(`{"path": "/tcb/batchdeletefile", "delay_ms": 200, "count": 1}`)
	start := time.Now()
	if got := r.errcodeOf("?access_token=" + r.token); got != 0 {
		t.Fatalf("slow call: errcode %d, want 0 (served after the delay)", got)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("slow call took %v, want ≥ 200ms", d)
	}
}

func TestQuotasRefuseOverTheLimit(t *testing.T) {
	r := newRig(t, emulator.Options{TokenTTL: 48 * time.Hour, Quotas: emulator.Quotas{DailyReads: 2, DailyWrites: 1, QPS: map[string]float64{"uploadfile": 1}}})
	var e wire.Envelope
	r.call(wire.PathDatabaseCollectionAdd, wire.CollectionRequest{Env: testEnv, CollectionName: "c"}, &e)
	count := func() int {
		var resp wire.CountResponse
		r.db(wire.PathDatabaseCount, `db.collection("c").count()`, &resp)
		return resp.ErrCode
	}
	add := func() int {
		var resp wire.AddResponse
		r.db(wire.PathDatabaseAdd, `db.collection("c").add({data: {}})`, &resp)
		return resp.ErrCode
	}
	got := []int{count(), count(), count(), add(), add()}
	want := []int{0, 0, wire.CodeReadQuota, 0, wire.CodeWriteQuota}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("errcodes %v, want %v", got, want)
		}
	}
	r.clock.Advance(24 * time.Hour)
	if c := count(); c != 0 {
		t.Fatalf("read the next day: errcode %d", c)
	}
	r.uploadFile("a")
	var up wire.UploadFileResponse
	r.call(wire.PathUploadFile, wire.UploadFileRequest{Env: testEnv, Path: "b"}, &up)
	if up.ErrCode != wire.CodeRequestQuota {
		t.Fatalf("second uploadfile within a second: %+v", up.Envelope)
	}
	r.clock.Advance(time.Second)
	r.uploadFile("c")
	b, _ := json.Marshal(r.stats())
	if st := r.stats(); st.QuotaRefused != 3 {
		t.Fatalf("stats %s, want quota_refused 3", b)
	}
}
