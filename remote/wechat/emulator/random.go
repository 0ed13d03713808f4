package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
)

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// randomBase64 is n random bytes in standard base64, like a real
// cos_file_id.
func randomBase64(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// requestID is a COS-style request ID for error bodies and headers.
func requestID() string { return randomHex(12) }
