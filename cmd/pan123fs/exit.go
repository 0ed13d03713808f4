package main

import (
	"errors"
	"fmt"
	"os"
)

// exitError is an error that sets the process's exit status: the mount
// helper's follow mount(8) (1: bad invocation, 32: mount failure). With
// quiet, the reason has been written already (by the daemon's child, on the
// caller's stderr), and main does not repeat it.
type exitError struct {
	code  int
	quiet bool
	err   error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// report writes err on stderr, unless it was said already, and returns the
// exit status for it (1 unless err sets one).
func report(err error) int {
	var x *exitError
	if !errors.As(err, &x) {
		fmt.Fprintln(os.Stderr, "pan123fs:", err)
		return 1
	}
	if !x.quiet {
		fmt.Fprintln(os.Stderr, "pan123fs:", x.err)
	}
	return x.code
}
