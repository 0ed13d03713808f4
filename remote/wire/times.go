package wire

import "time"

// TimeLayout is how createAt and updateAt are written, in China time.
const TimeLayout = "2006-01-02 15:04:05"

// ChinaTime is the zone 123pan's timestamps are in (+08:00, no DST).
var ChinaTime = time.FixedZone("CST", 8*3600)

// ParseTime reads a createAt/updateAt value. It also accepts RFC 3339, in
// case the service ever sends a zone.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.ParseInLocation(TimeLayout, s, ChinaTime); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

// FormatTime writes t as 123pan does.
func FormatTime(t time.Time) string { return t.In(ChinaTime).Format(TimeLayout) }
