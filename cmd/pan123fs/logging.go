package main

import (
	"log/slog"
	"os"
)

// newLogger returns the text logger every subcommand writes to stderr.
func newLogger(debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// warnSecretOnCommandLine says that --client-secret is readable by every
// local user (ps, /proc/PID/cmdline) and names the private alternative.
func warnSecretOnCommandLine(log *slog.Logger) {
	log.Warn("--client-secret is visible to every user of this machine (ps, /proc/PID/cmdline); set the environment variable PAN123_CLIENT_SECRET instead")
}
