package main

import (
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

// newLogger returns the text logger every subcommand writes to stderr.
func newLogger(debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// bindLogFlags registers where the mount's log goes and what it holds.
func (s *serviceFlags) bindLogFlags(f *pflag.FlagSet) {
	f.StringVar(&s.logLevel, "log-level", "info", "least level logged: debug, info, warn or error (--debug is debug plus every FUSE request)")
	f.StringVar(&s.logFormat, "log-format", "text", "text or json")
	f.StringVar(&s.logFile, "log-file", "", "append the log to FILE (created with mode 0600) instead of stderr")
}

// logger is the mount's logger as the log flags say; debug (--debug)
// lowers the level to debug whatever --log-level says. Under systemd (a
// stderr that is the journal's stream) lines carry no time: the journal
// stamps them. close closes the log file.
func (s *serviceFlags) logger(debug bool) (l *slog.Logger, close func(), err error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s.logLevel)); err != nil || !validLevel(s.logLevel) {
		return nil, nil, fmt.Errorf("--log-level %q: debug, info, warn or error", s.logLevel)
	}
	if debug {
		level = slog.LevelDebug
	}
	var w io.Writer = os.Stderr
	close = func() {}
	if s.logFile != "" {
		f, err := os.OpenFile(s.logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("--log-file: %w", err)
		}
		w, close = f, func() { f.Close() }
		log.SetOutput(f) // go-fuse's request log (--debug) goes to the standard logger
	}
	opts := &slog.HandlerOptions{Level: level}
	if s.logFile == "" && stderrIsJournal() {
		opts.ReplaceAttr = dropTime
	}
	switch s.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), close, nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), close, nil
	}
	close()
	return nil, nil, fmt.Errorf("--log-format %q: text or json", s.logFormat)
}

// validLevel is whether name is one of the four levels --log-level takes
// (slog would also take offsets such as "info+2").
func validLevel(name string) bool {
	switch strings.ToLower(name) {
	case "debug", "info", "warn", "error":
		return true
	}
	return false
}

// dropTime removes the time from every line.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// stderrIsJournal is whether stderr is systemd's journal stream: systemd
// sets JOURNAL_STREAM to its device and inode ("DEV:INO"), and the check
// of both keeps a variable inherited by a child whose stderr went
// elsewhere from counting.
func stderrIsJournal() bool {
	v := os.Getenv("JOURNAL_STREAM")
	if v == "" {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(os.Stderr.Fd()), &st); err != nil {
		return false
	}
	return v == fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

// warnSecretOnCommandLine says that --client-secret is readable by every
// local user (ps, /proc/PID/cmdline) and names the private alternative.
func warnSecretOnCommandLine(log *slog.Logger) {
	log.Warn("--client-secret is visible to every user of this machine (ps, /proc/PID/cmdline); set the environment variable PAN123_CLIENT_SECRET instead")
}
