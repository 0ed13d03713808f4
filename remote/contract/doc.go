// Package contract holds the API contract suite of the 123pan image host: one
// set of tests, written once, that runs against the emulator (always) and
// against the real service when PAN123_CLIENT_ID and PAN123_CLIENT_SECRET
// are set (PAN123_API_BASE optional). Every test works in a fresh folder of
// its own and deletes it at the end, so a run is safe on a real account.
//
// Optional environment of a real-service run:
//
//	PAN123_API_BASE      base URL (default remote.DefaultBaseURL)
//	PAN123_STATE_DIR     token directory to share (default: a temporary one,
//	                     so the run fetches one token of its own)
//	PAN123_CONTRACT_BIG  set to 1 to allow multi-slice uploads, which on the
//	                     real service weigh more than 200 MiB each
//
// The tests live in the _test.go files; this package has no API.
package contract
