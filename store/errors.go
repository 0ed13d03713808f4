package store

import (
	"errors"
	"slices"
)

// The sentinels a backend's errors match (errors.Is). A failure matches
// ErrTemporary when trying again later may succeed, ErrPermanent when it
// will give the same answer; a failure may match neither (the service
// could not be reached, say: ErrTemporary then).
var (
	ErrNotFound    = errors.New("no such entry")
	ErrExists      = errors.New("an entry of that name already exists")
	ErrInvalidName = errors.New("invalid name")
	ErrNameTooLong = errors.New("name too long")
	ErrQuota       = errors.New("quota exceeded")
	ErrAuth        = errors.New("not authorised")
	ErrRateLimited = errors.New("too many requests")
	ErrTemporary   = errors.New("temporary failure")
	ErrPermanent   = errors.New("refused for good")
)

// Error is a backend call's failure: Err is the backend's own error, and
// Kinds the sentinels it matches.
type Error struct {
	Kinds []error
	Err   error
}

// Wrap makes err an *Error matching kinds (nil stays nil). An err that
// already is one keeps its kinds too.
func Wrap(err error, kinds ...error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		kinds = append(slices.Clip(kinds), se.Kinds...)
	}
	return &Error{Kinds: kinds, Err: err}
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinels in Kinds.
func (e *Error) Is(target error) bool { return slices.Contains(e.Kinds, target) }

// IsPermanent tells whether err is a backend failure that will not go away
// by trying again.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// FromBackend tells whether err came from the backend (an answer of the
// service, or a failure to reach it) rather than from the local side.
func FromBackend(err error) bool {
	var se *Error
	return errors.As(err, &se)
}
