package wire

import (
	"errors"
	"fmt"
	"strings"
)

// MaxPathBytes is the longest cloud path, in bytes of its UTF-8 encoding
// (documented).
const MaxPathBytes = 850

// ErrInvalidPath is what ValidatePath's errors wrap.
var ErrInvalidPath = errors.New("invalid cloud path")

// ValidatePath applies the documented cloud-path rules: not empty, no leading
// '/', no "//", at most MaxPathBytes bytes, none of the control bytes 24–27
// (CAN, EM, SUB, ESC). Other characters the docs only advise against are
// accepted. What the real uploadfile answers for a broken path is unknown;
// the emulator answers CodeInvalidArg (chosen).
func ValidatePath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%w: empty", ErrInvalidPath)
	case p[0] == '/':
		return fmt.Errorf("%w: starts with '/'", ErrInvalidPath)
	case strings.Contains(p, "//"):
		return fmt.Errorf("%w: contains \"//\"", ErrInvalidPath)
	case len(p) > MaxPathBytes:
		return fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidPath, len(p), MaxPathBytes)
	}
	for i := 0; i < len(p); i++ {
		if p[i] >= 24 && p[i] <= 27 {
			return fmt.Errorf("%w: control byte %d at %d", ErrInvalidPath, p[i], i)
		}
	}
	return nil
}

// FileIDScheme starts every file ID.
const FileIDScheme = "cloud://"

// EmulatorTencentAppID is the Tencent Cloud APPID the emulator puts in bucket
// names (chosen; real buckets carry the account's).
const EmulatorTencentAppID = "1250000000"

// Bucket is the emulator's COS bucket name of an env: "7465-<env>-1250000000"
// (the form is documented, <4 hex>-<env>-<APPID>; the values are chosen).
func Bucket(env string) string {
	return "7465-" + env + "-" + EmulatorTencentAppID
}

// FileID is the file ID of path in env's bucket: cloud://<env>.<bucket>/<path>
// (documented form). The same path always gives the same ID. Clients treat
// file IDs as opaque and keep the one uploadfile returned.
func FileID(env, bucket, path string) string {
	return FileIDScheme + env + "." + bucket + "/" + path
}

// ParseFileID splits a file ID made by FileID. Env IDs contain no '.', so the
// first '.' ends the env and the first '/' after it ends the bucket.
func ParseFileID(id string) (env, bucket, path string, err error) {
	rest, ok := strings.CutPrefix(id, FileIDScheme)
	if !ok {
		return "", "", "", fmt.Errorf("file ID %q: no %s prefix", id, FileIDScheme)
	}
	env, rest, ok = strings.Cut(rest, ".")
	if !ok || env == "" {
		return "", "", "", fmt.Errorf("file ID %q: no env", id)
	}
	bucket, path, ok = strings.Cut(rest, "/")
	if !ok || bucket == "" || path == "" {
		return "", "", "", fmt.Errorf("file ID %q: no bucket or path", id)
	}
	return env, bucket, path, nil
}
