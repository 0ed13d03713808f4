package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

// bindSecretFlags registers the way to give the client secret in a file.
func (s *serviceFlags) bindSecretFlags(f *pflag.FlagSet) {
	f.StringVar(&s.secretFile, "client-secret-file", "", "read the client secret from FILE (yours, mode 0600 or stricter); without a secret, $CREDENTIALS_DIRECTORY/client-secret (systemd LoadCredential=) is used")
}

// resolveSecret fills --client-secret (and --client-id) from where a
// secret may live off the command line. A secret and a secret file both
// given: the one from the stronger source wins (a flag over the
// environment over the config file); from the same source, it is an
// error. Neither given: systemd's credentials, $CREDENTIALS_DIRECTORY/
// client-secret and client-id, when they exist.
func (s *serviceFlags) resolveSecret(f *pflag.FlagSet) error {
	secretSrc, fileSrc := s.sources["client-secret"], s.sources["client-secret-file"]
	if s.secretFile != "" {
		if secretSrc == fileSrc {
			return errors.New("both --client-secret and --client-secret-file are given: keep one")
		}
		if fileSrc > secretSrc {
			secret, err := readSecretFile(s.secretFile)
			if err != nil {
				return fmt.Errorf("--client-secret-file: %w", err)
			}
			if err := f.Set("client-secret", secret); err != nil {
				return err
			}
			s.sources["client-secret"] = fileSrc
		}
		return nil
	}
	dir := os.Getenv("CREDENTIALS_DIRECTORY")
	if dir == "" || secretSrc != fromDefault {
		return nil
	}
	for _, name := range []string{"client-secret", "client-id"} {
		if s.sources[name] != fromDefault {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("systemd credential: %w", err)
		}
		if err := f.Set(name, strings.TrimSpace(string(b))); err != nil {
			return err
		}
	}
	return nil
}

// readSecretFile reads a secret kept in a file of its own, once
// checkSecretFile has found the file private; surrounding white space
// (the newline an editor adds) is not part of it.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := checkPrivate(f, path); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", err
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return secret, nil
}

// checkSecretFile refuses a file holding a secret that another user owns
// or that the group or others may read, as ssh refuses such a key.
func checkSecretFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return checkPrivate(f, path)
}

// checkPrivate is checkSecretFile on an open file, so that what is
// checked is what is read.
func checkPrivate(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s belongs to uid %d, not to you (uid %d): a secret must be in a file of your own", path, st.Uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s is accessible by group or others (mode %04o): run chmod 600 %s", path, perm, path)
	}
	return nil
}
