package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pan123fs/pan123fs/cache"
	pfs "github.com/pan123fs/pan123fs/fs"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/pan123"
	"github.com/pan123fs/pan123fs/spool"
)

type mountFlags struct {
	apiBase, clientID, clientSecret, stateDir string
	emulator, readOnly, allowOther, debug     bool
	insecureHTTP                              bool
	writeBack, rateLimit, rateProfile         string
	uid, gid                                  int
	umask, fileMode, dirMode                  string
	dirTTL, attrTimeout, drainTimeout, opTime time.Duration
	cacheMax, spoolMax, readAhead             int64
	uploads, maxListed                        int
	cpuProfile, subtype                       string
}

func newMountCmd() *cobra.Command {
	var fl mountFlags
	cmd := &cobra.Command{
		Use:   "mount MOUNTPOINT",
		Short: "Mount the image host at MOUNTPOINT (foreground)",
		Long: `Mount the 123pan image host at MOUNTPOINT and serve it until unmounted
(fusermount3 -u MOUNTPOINT, umount) or signalled (SIGINT/SIGTERM unmount and
exit 0).

With --emulator no credentials are needed: an emulator of the API is started on
loopback, keeping its files in the state directory, so they survive a remount.

close(2) returns only once the file is on 123pan, and fails if it could not
be put there. See SEMANTICS.md for what every operation does.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMount(cmd.Context(), args[0], &fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.apiBase, "api-base", "", "API base URL (default $PAN123_API_BASE or "+remote.DefaultBaseURL+")")
	f.StringVar(&fl.clientID, "client-id", "", "client ID (default $PAN123_CLIENT_ID)")
	f.StringVar(&fl.clientSecret, "client-secret", "", "client secret (default $PAN123_CLIENT_SECRET; prefer the variable)")
	f.StringVar(&fl.stateDir, "state-dir", "", "spool, saved token and caches (default $PAN123FS_STATE_DIR or ~/.local/state/pan123fs)")
	f.BoolVar(&fl.insecureHTTP, "insecure-http", false, "allow an http:// --api-base to a host other than loopback (the secret and the token then cross the network unencrypted)")
	f.BoolVar(&fl.emulator, "emulator", false, "serve an embedded emulator on loopback and mount it")
	f.StringVar(&fl.writeBack, "write-back", "", "close returns once the data is safely in the spool; the upload follows after DELAY")
	f.Lookup("write-back").NoOptDefVal = "5s"
	f.BoolVar(&fl.readOnly, "read-only", false, "mount read-only")
	f.BoolVar(&fl.allowOther, "allow-other", false, "let other users access the mount, as far as the owner and modes allow (non-root: needs user_allow_other in /etc/fuse.conf)")
	f.IntVar(&fl.uid, "uid", os.Getuid(), "owner of every file and folder")
	f.IntVar(&fl.gid, "gid", os.Getgid(), "group of every file and folder")
	f.StringVar(&fl.fileMode, "file-mode", "0644", "permission bits of every file, before the umask (octal)")
	f.StringVar(&fl.dirMode, "dir-mode", "0755", "permission bits of every folder, before the umask (octal)")
	f.StringVar(&fl.umask, "umask", "022", "bits taken away from --file-mode and --dir-mode (octal)")
	f.StringVar(&fl.rateLimit, "rate-limit", "", "requests per second per endpoint, e.g. create=2,list=4, never adapted (defaults: the --rate-profile table; 0 = unlimited)")
	f.StringVar(&fl.rateProfile, "rate-profile", rateProfileAuto, "which table of 123pan's rate limits applies: free, member, or auto (ask the account at start; free if it cannot be asked)")
	f.BoolVar(&fl.debug, "debug", false, "log every FUSE request and debug messages")
	f.DurationVar(&fl.dirTTL, "dir-cache-ttl", 30*time.Second, "how long a folder listing is trusted")
	f.IntVar(&fl.maxListed, "dir-cache-entries", 200_000, "folder-listing entries kept in memory (least recently used folders dropped)")
	f.DurationVar(&fl.attrTimeout, "attr-timeout", time.Second, "kernel entry and attribute cache time")
	f.DurationVar(&fl.drainTimeout, "drain-timeout", time.Minute, "how long unmounting waits for queued deletes")
	f.StringVar(&fl.subtype, "subtype", pfs.DefaultSubtype, "FUSE subtype: the mount table shows fuse.SUBTYPE; the default makes desktops treat the mount as remote (no thumbnails by default); pan123fs shows fuse.pan123fs")
	f.DurationVar(&fl.opTime, "op-timeout", pfs.DefaultOpTimeout, "how long an operation waits for 123pan before it fails with EIO (Ctrl-C ends lookups, listings and reads sooner)")
	f.Int64Var(&fl.cacheMax, "cache-max-size", 1<<30, "bytes of downloaded content kept in the block cache")
	f.Int64Var(&fl.readAhead, "read-ahead", pfs.DefaultReadAhead, "bytes the kernel reads ahead of sequential reads (above 128 KiB only as root)")
	f.IntVar(&fl.uploads, "uploads", 4, "background uploads at once (write-back, retries, recovery)")
	f.StringVar(&fl.cpuProfile, "cpu-profile", "", "write a CPU profile of the mount to FILE (for performance work)")
	f.Int64Var(&fl.spoolMax, "spool-max-size", 0, "bytes the spool may hold (0 = limited by free disk space only)")
	return cmd
}

func runMount(ctx context.Context, mountpoint string, fl *mountFlags) error {
	log := newLogger(fl.debug)
	if fl.clientSecret != "" {
		warnSecretOnCommandLine(log)
	}
	if fl.cpuProfile != "" {
		stop, err := startCPUProfile(fl.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	var writeBack time.Duration
	if fl.writeBack != "" {
		d, err := time.ParseDuration(fl.writeBack)
		if err != nil || d < 0 {
			return fmt.Errorf("--write-back=%s: not a duration (e.g. 5s)", fl.writeBack)
		}
		writeBack = max(d, time.Nanosecond)
	}
	if fl.subtype == "" || strings.ContainsAny(fl.subtype, ", \t\n/") {
		return fmt.Errorf("--subtype %q: a plain name such as pan123fs", fl.subtype)
	}
	if fl.opTime < 100*time.Millisecond {
		return fmt.Errorf("--op-timeout %v: at least 100ms", fl.opTime)
	}
	if fl.readAhead < 4096 {
		return fmt.Errorf("--read-ahead %d: at least 4096 bytes", fl.readAhead)
	}
	umask, err := octalFlag("umask", fl.umask, 0)
	if err != nil {
		return err
	}
	fileMode, err := octalFlag("file-mode", fl.fileMode, 1)
	if err != nil {
		return err
	}
	dirMode, err := octalFlag("dir-mode", fl.dirMode, 1)
	if err != nil {
		return err
	}
	mnt, err := checkMountpoint(mountpoint)
	if err != nil {
		return err
	}
	state, err := stateDir(fl.stateDir)
	if err != nil {
		return err
	}
	cfg := remote.Config{
		BaseURL:      envOr(fl.apiBase, "PAN123_API_BASE"),
		ClientID:     envOr(fl.clientID, "PAN123_CLIENT_ID"),
		ClientSecret: envOr(fl.clientSecret, "PAN123_CLIENT_SECRET"),
		InsecureHTTP: fl.insecureHTTP,
		Logger:       log,
	}
	autoProfile := false
	if cfg.RateProfile, autoProfile, err = rateProfileFlag(fl.rateProfile); err != nil {
		return err
	}
	if fl.rateLimit != "" {
		if cfg.Limits, err = remote.ParseLimits(fl.rateLimit); err != nil {
			return fmt.Errorf("--rate-limit: %w", err)
		}
	}
	if fl.emulator {
		state = filepath.Join(state, "emulator")
		emu, id, secret, err := startEmbeddedEmulator(filepath.Join(state, "data"), log)
		if err != nil {
			return err
		}
		defer emu.Close()
		cfg.BaseURL, cfg.ClientID, cfg.ClientSecret = emu.URL(), id, secret
		log.Info("embedded emulator serving", "url", emu.URL())
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return errors.New("no credentials: set PAN123_CLIENT_ID and PAN123_CLIENT_SECRET (or use --emulator)")
	}
	cfg.StateDir = state
	rc, err := remote.New(cfg)
	if errors.Is(err, remote.ErrPlainHTTP) {
		return fmt.Errorf("--api-base: %w (--insecure-http)", err)
	}
	if err != nil {
		return err
	}
	if autoProfile {
		detectRateProfile(ctx, rc, fl.opTime, log)
	}
	sp, err := spool.Open(filepath.Join(state, "spool"), fl.spoolMax, diskFloor)
	if err != nil {
		return err
	}
	warnLowDisk(log, sp.Dir())
	if writeBack > 0 {
		sp.EnableFlushBehind() // closes fsync the data: get the disk going early
	}
	journal, err := spool.OpenJournal(filepath.Join(state, "journal"))
	if err != nil {
		return err
	}
	defer journal.Close()
	blocks, err := cache.NewBlockCache(cache.Options{Dir: filepath.Join(state, "cache"), MaxBytes: fl.cacheMax, MinFree: diskFloor, BlockSize: pfs.CacheBlockSize})
	if err != nil {
		return err
	}
	defer func() {
		// After the mount is gone: the index lets the next mount keep the cache.
		if err := blocks.Close(); err != nil {
			log.Warn("block cache index not written; the next mount starts with an empty cache", "err", err)
		}
	}()
	sock, removeSockDir, err := controlPath(state)
	if err != nil {
		return err
	}
	defer removeSockDir()
	fsys := pfs.New(pan123.New(rc, log), sp, journal, blocks, pfs.Options{
		UID: uint32(fl.uid), GID: uint32(fl.gid), FileMode: fileMode, DirMode: dirMode, Umask: umask,
		DirTTL: fl.dirTTL, MaxListed: fl.maxListed, EntryTimeout: fl.attrTimeout, AttrTimeout: fl.attrTimeout,
		ReadOnly: fl.readOnly, Logger: log, WriteBack: writeBack > 0, WriteBackDelay: writeBack,
		Uploads: fl.uploads, OpTimeout: fl.opTime, RecoveryDir: filepath.Join(state, "recovery"), ControlSocket: sock,
	})
	if err := fsys.Recover(ctx); err != nil {
		log.Error("some journaled work could not be taken up; it stays journaled", "err", err)
	}
	stopControl, err := serveControl(sock, fsys, log)
	if err != nil {
		return err
	}
	defer stopControl()
	// Caught from before the mount: a signal that came between the mount and
	// the wait below would kill the process and leave the mount behind.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	server, err := fsys.Mount(mnt, pfs.MountOptions{AllowOther: fl.allowOther, Debug: fl.debug, DirectMount: os.Geteuid() == 0, ReadAhead: fl.readAhead, Subtype: fl.subtype})
	if err != nil {
		if fl.allowOther && os.Geteuid() != 0 {
			return fmt.Errorf("mount %s: %w (--allow-other as a user other than root needs a line user_allow_other in /etc/fuse.conf)", mnt, err)
		}
		return fmt.Errorf("mount %s: %w", mnt, err)
	}
	log.Info("mounted", "mountpoint", mnt, "state", state)

	served := make(chan struct{})
	go func() { server.Wait(); close(served) }()
	select {
	case sig := <-sigs:
		log.Info("unmounting", "signal", sig.String())
		unmount(server, mnt, log)
		<-served
	case <-served:
		log.Info("unmounted from outside", "mountpoint", mnt)
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), fl.drainTimeout)
	defer cancel()
	if err := fsys.Close(drainCtx); err != nil {
		log.Warn("work left for the next mount", "err", err)
	}
	log.Info("stopped")
	return nil
}

// octalFlag parses the value of a mode or umask flag: permission bits
// only, at least lo.
func octalFlag(name, value string, lo uint32) (uint32, error) {
	v, err := strconv.ParseUint(value, 8, 32)
	if err != nil || uint32(v) < lo || v > 0o777 {
		return 0, fmt.Errorf("--%s %q: an octal number from %o to 0777", name, value, lo)
	}
	return uint32(v), nil
}
