package emulator

import (
	"crypto/rand"
	"fmt"
	"strings"
)

const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	base64Std  = mixedAlnum + "+/"
	// File and folder IDs are 52–57 characters like real ones, mixed
	// case, some ending in "=".
	minIDLen, maxIDLen = 52, 57
	// preuploadIDLen: real preuploadIDs are long base64 strings with "/".
	preuploadIDLen = 128
)

// randFloat is a uniform number in [0,1) from the seeded generator.
func (s *Server) randFloat() float64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64()
}

// randIntN is a uniform number in [0,n) from the seeded generator.
func (s *Server) randIntN(n int) int {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.IntN(n)
}

// seededString draws n characters of alphabet from the seeded generator.
func (s *Server) seededString(alphabet string, n int) string {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// newEntryIDLocked makes a file or folder ID that was never used before.
// Caller holds s.mu.
func (s *Server) newEntryIDLocked() string {
	for {
		n := minIDLen + s.randIntN(maxIDLen-minIDLen+1)
		pad := s.randIntN(3) // 0, 1 or 2 trailing "="
		id := s.seededString(mixedAlnum, n-pad) + "=="[:pad]
		if _, used := s.st.entries[id]; used {
			continue
		}
		if _, used := s.st.gone[id]; used {
			continue
		}
		return id
	}
}

// secureString draws n characters of alphabet from crypto/rand: for tokens
// and preupload IDs, which must be unguessable whatever the seed.
func secureString(alphabet string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// newPreuploadID is an unguessable preuploadID shaped like a real one:
// base64 characters, "/" among them.
func newPreuploadID() string {
	for {
		id := secureString(base64Std, preuploadIDLen)
		if strings.Contains(id, "/") && strings.Contains(id, "+") {
			return id
		}
	}
}

// traceID is a fresh x-traceID shaped like 123pan's.
func (s *Server) traceID() string {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	r := s.rng
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x_emulator",
		r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
}
