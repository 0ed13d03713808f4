package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Int is a whole number that the service sends as a JSON number in one
// place and as a numeric string in another (list_upload_parts' partNumber
// is "1" in the official example; offline progress is documented as an
// integer). It accepts both, and null; a fraction is truncated. It
// marshals as a JSON number.
type Int int64

// UnmarshalJSON accepts 7, 7.0, "7", "" and null.
func (n *Int) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(bytes.Trim(bytes.TrimSpace(b), `"`)))
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = Int(v)
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxInt64 {
		return fmt.Errorf("wire: not a whole number: %s", b)
	}
	*n = Int(v)
	return nil
}

// UnmarshalJSON reads a part whose numbers may be strings or numbers.
func (p *Part) UnmarshalJSON(b []byte) error {
	var v struct {
		PartNumber Int    `json:"partNumber"`
		Size       Int    `json:"size"`
		Etag       string `json:"etag"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Part{PartNumber: int(v.PartNumber), Size: int64(v.Size), Etag: v.Etag}
	return nil
}

// MarshalJSON writes partNumber as a string, as the official example
// shows it.
func (p Part) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		PartNumber string `json:"partNumber"`
		Size       int64  `json:"size"`
		Etag       string `json:"etag"`
	}{strconv.Itoa(p.PartNumber), p.Size, p.Etag})
}
