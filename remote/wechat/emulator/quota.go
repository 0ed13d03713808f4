package emulator

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// Quotas are the env's limits; the zero value has none.
type Quotas struct {
	// DailyReads and DailyWrites bound database calls per day (reads:
	// query and count; writes: add, update, set, remove); over them a call
	// answers -501015 or -501016. 0 = unlimited. Days start at midnight
	// China time (UTC+8).
	DailyReads, DailyWrites int
	// QPS limits calls per second per tcb endpoint, keyed by the path's
	// last element ("uploadfile", "databasequery", ...), with a burst of
	// one second's worth; over it a call answers -501003.
	QPS map[string]float64
}

// ParseQPS reads per-endpoint rate limits, "uploadfile=2,databasequery=10",
// for Quotas.QPS. Names are the last element of the tcb paths.
func ParseQPS(text string) (map[string]float64, error) {
	m := map[string]float64{}
	for _, item := range strings.Split(text, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, value, found := strings.Cut(item, "=")
		qps, err := strconv.ParseFloat(value, 64)
		if !found || err != nil || qps <= 0 {
			return nil, fmt.Errorf("qps %q: want name=calls-per-second (> 0)", item)
		}
		if !slices.Contains(QPSNames(), name) {
			return nil, fmt.Errorf("qps %q: unknown endpoint %q (names: %s)", item, name, strings.Join(QPSNames(), ", "))
		}
		m[name] = qps
	}
	return m, nil
}

// QPSNames are the endpoint names Quotas.QPS takes.
func QPSNames() []string {
	var names []string
	for _, p := range []string{wire.PathUploadFile, wire.PathBatchDownloadFile, wire.PathBatchDeleteFile,
		wire.PathDatabaseAdd, wire.PathDatabaseQuery, wire.PathDatabaseUpdate, wire.PathDatabaseDelete,
		wire.PathDatabaseCount, wire.PathDatabaseCollectionAdd, wire.PathUpdateIndex} {
		names = append(names, strings.TrimPrefix(p, "/tcb/"))
	}
	return names
}

// chinaTime is where the daily counters roll over.
var chinaTime = time.FixedZone("CST", 8*3600)

// quotaState counts calls against Quotas.
type quotaState struct {
	q        Quotas
	limiters map[string]*rate.Limiter // read-only after init

	mu     sync.Mutex
	day    string // GUARDED_BY(mu); the day reads and writes count
	reads  int    // GUARDED_BY(mu)
	writes int    // GUARDED_BY(mu)
}

func (qs *quotaState) init(q Quotas) {
	qs.q = q
	qs.limiters = map[string]*rate.Limiter{}
	for name, qps := range q.QPS {
		qs.limiters[name] = rate.NewLimiter(rate.Limit(qps), max(1, int(math.Ceil(qps))))
	}
}

// allowCall takes a token from path's bucket, if it has one.
func (qs *quotaState) allowCall(path string, now time.Time) bool {
	lim := qs.limiters[path[strings.LastIndexByte(path, '/')+1:]]
	return lim == nil || lim.AllowN(now, 1)
}

// allowDB counts one database read or write for today: wire.CodeOK, or the
// errcode of the exhausted quota.
func (qs *quotaState) allowDB(write bool, now time.Time) int {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if day := now.In(chinaTime).Format(time.DateOnly); day != qs.day {
		qs.day, qs.reads, qs.writes = day, 0, 0
	}
	if write {
		if qs.q.DailyWrites > 0 && qs.writes >= qs.q.DailyWrites {
			return wire.CodeWriteQuota
		}
		qs.writes++
		return wire.CodeOK
	}
	if qs.q.DailyReads > 0 && qs.reads >= qs.q.DailyReads {
		return wire.CodeReadQuota
	}
	qs.reads++
	return wire.CodeOK
}
