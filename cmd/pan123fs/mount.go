package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pan123fs/pan123fs/cache"
	"github.com/pan123fs/pan123fs/config"
	pfs "github.com/pan123fs/pan123fs/fs"
	"github.com/pan123fs/pan123fs/metrics"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/spool"
)

// mountFlags are the command line of mount: the backend's flags, and the
// settings of the mount, which go straight into cfg (defaults from
// config.Default).
type mountFlags struct {
	apiBase, clientID, clientSecret, stateDir string
	emulator, debug, insecureHTTP             bool
	writeBack, rateLimit, rateProfile         string
	umask, fileMode, dirMode                  string
	cpuProfile                                string
	backend                                   backendFlags
	cfg                                       config.Config
	svc                                       service      // --daemon; readiness to the parent and systemd (daemon.go)
	src                                       serviceFlags // config file, environment, secret file, log
}

func newMountCmd() *cobra.Command {
	fl := mountFlags{cfg: config.Default()}
	fl.cfg.Mount.UID, fl.cfg.Mount.GID = uint32(os.Getuid()), uint32(os.Getgid())
	c, def := &fl.cfg, config.Default()
	cmd := &cobra.Command{
		Use:   "mount MOUNTPOINT",
		Short: "Mount the image host at MOUNTPOINT (foreground)",
		Long: `Mount the 123pan image host at MOUNTPOINT and serve it until unmounted
(fusermount3 -u MOUNTPOINT, umount) or signalled (SIGINT/SIGTERM unmount and
exit 0).

With --emulator no credentials are needed: an emulator of the API is started on
loopback, keeping its files in the state directory, so they survive a remount.

close(2) returns only once the file is on 123pan, and fails if it could not
be put there. See SEMANTICS.md for what every operation does.

--backend wechat-cloudbase mounts the cloud storage of a WeChat CloudBase
environment instead (--wechat-env, credentials from WECHAT_APPID and
WECHAT_SECRET); see the README, "WeChat CloudBase storage".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkBackendFlags(cmd.Flags(), fl.backend.kind, pan123MountOnly, wechatMountOnly); err != nil {
				return err
			}
			return runService(cmd.Context(), args[0], &fl)
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
	f.Lookup("write-back").NoOptDefVal = def.Upload.WriteBackDelay.String()
	f.BoolVar(&c.Mount.ReadOnly, "read-only", false, "mount read-only")
	f.BoolVar(&c.Mount.AllowOther, "allow-other", false, "let other users access the mount, as far as the owner and modes allow (non-root: needs user_allow_other in /etc/fuse.conf)")
	f.Uint32Var(&c.Mount.UID, "uid", c.Mount.UID, "owner of every file and folder")
	f.Uint32Var(&c.Mount.GID, "gid", c.Mount.GID, "group of every file and folder")
	f.StringVar(&fl.fileMode, "file-mode", fmt.Sprintf("%04o", def.Mount.FileMode), "permission bits of every file, before the umask (octal)")
	f.StringVar(&fl.dirMode, "dir-mode", fmt.Sprintf("%04o", def.Mount.DirMode), "permission bits of every folder, before the umask (octal)")
	f.StringVar(&fl.umask, "umask", fmt.Sprintf("%03o", def.Mount.Umask), "bits taken away from --file-mode and --dir-mode (octal)")
	f.StringVar(&fl.rateLimit, "rate-limit", "", "requests per second per endpoint, e.g. create=2,list=4, never adapted (defaults: the --rate-profile table; 0 = unlimited)")
	f.StringVar(&fl.rateProfile, "rate-profile", rateProfileAuto, "which table of 123pan's rate limits applies: free, member, or auto (ask the account at start; free if it cannot be asked)")
	f.BoolVar(&fl.debug, "debug", false, "log every FUSE request and debug messages")
	f.DurationVar(&c.Listing.TTL, "dir-cache-ttl", def.Listing.TTL, "how long a folder listing is trusted")
	f.IntVar(&c.Listing.MaxEntries, "dir-cache-entries", def.Listing.MaxEntries, "folder-listing entries kept in memory (least recently used folders dropped)")
	f.DurationVar(&c.Mount.AttrTimeout, "attr-timeout", def.Mount.AttrTimeout, "kernel entry and attribute cache time")
	f.DurationVar(&c.DrainTimeout, "drain-timeout", def.DrainTimeout, "how long unmounting waits for queued deletes")
	f.StringVar(&c.Mount.Subtype, "subtype", def.Mount.Subtype, "FUSE subtype: the mount table shows fuse.SUBTYPE; the default makes desktops treat the mount as remote (no thumbnails by default); pan123fs shows fuse.pan123fs")
	f.DurationVar(&c.OpTimeout, "op-timeout", def.OpTimeout, "how long an operation waits for 123pan before it fails with EIO (Ctrl-C ends lookups, listings and reads sooner)")
	f.Var(config.NewSize(&c.Cache.MaxBytes, def.Cache.MaxBytes), "cache-max-size", "downloaded content kept in the block cache (e.g. 2GiB, 512M)")
	f.Var(config.NewSize(&c.Mount.ReadAhead, def.Mount.ReadAhead), "read-ahead", "how far the kernel reads ahead of sequential reads (above 128KiB only as root)")
	f.IntVar(&c.Upload.Workers, "uploads", def.Upload.Workers, "background uploads at once (write-back, retries, recovery)")
	f.StringVar(&fl.cpuProfile, "cpu-profile", "", "write a CPU profile of the mount to FILE (for performance work)")
	f.Var(config.NewSize(&c.Spool.MaxBytes, def.Spool.MaxBytes), "spool-max-size", "what the spool may hold (0 = limited by free disk space only)")
	fl.backend.register(f)
	addServiceFlags(f, &fl.svc)
	addMetricsFlags(f, &c.Metrics)
	fl.src.bind(cmd)
	return cmd
}

func runMount(ctx context.Context, mountpoint string, fl *mountFlags) error {
	log, closeLog, err := fl.src.logger(fl.debug)
	if err != nil {
		return err
	}
	defer closeLog()
	if fl.src.sources["client-secret"] == fromCommandLine {
		warnSecretOnCommandLine(log)
	}
	if fl.cpuProfile != "" {
		stop, err := startCPUProfile(fl.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	c, err := fl.config()
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
	reg := metrics.New()
	backend, state, err := fl.openBackend(ctx, state, log, reg)
	if err != nil {
		return err
	}
	defer backend.close()
	sp, err := spool.Open(filepath.Join(state, "spool"), c.Spool.MaxBytes, c.Cache.DiskFloor)
	if err != nil {
		return err
	}
	warnLowDisk(log, sp.Dir(), c.Cache.DiskFloor)
	if c.Upload.WriteBack {
		sp.EnableFlushBehind() // closes fsync the data: get the disk going early
	}
	journal, err := spool.OpenJournal(filepath.Join(state, "journal"))
	if err != nil {
		return err
	}
	defer journal.Close()
	blocks, err := cache.NewBlockCache(cache.Options{Dir: filepath.Join(state, "cache"), MaxBytes: c.Cache.MaxBytes,
		MinFree: c.Cache.DiskFloor, BlockSize: c.Cache.BlockSize})
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
	fsys := pfs.New(backend.Backend, sp, journal, blocks, fsOptions(c, log, state, sock, reg))
	reg.Watch(fsys.Stats, blocks.Stats)
	if err := fsys.Recover(ctx); err != nil {
		log.Error("some journaled work could not be taken up; it stays journaled", "err", err)
	}
	var routes []func(*http.ServeMux)
	if backend.routes != nil {
		routes = append(routes, backend.routes)
	}
	stopControl, err := serveControl(sock, fsys, reg.Handler(), log, routes...)
	if err != nil {
		return err
	}
	defer stopControl()
	stopMetrics, err := serveMetrics(c.Metrics, reg, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	defer forgetOnHangup(fsys, log)()
	// Caught from before the mount: a signal that came between the mount and
	// the wait below would kill the process and leave the mount behind.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	server, err := fsys.Mount(mnt, pfs.MountOptions{AllowOther: c.Mount.AllowOther, Debug: fl.debug,
		DirectMount: os.Geteuid() == 0, ReadAhead: c.Mount.ReadAhead, Subtype: c.Mount.Subtype})
	if err != nil {
		if c.Mount.AllowOther && os.Geteuid() != 0 {
			return fmt.Errorf("mount %s: %w (--allow-other as a user other than root needs a line user_allow_other in /etc/fuse.conf)", mnt, err)
		}
		return fmt.Errorf("mount %s: %w", mnt, err)
	}
	log.Info("mounted", "mountpoint", mnt, "state", state)
	if err := fl.svc.mounted(mnt, fsys); err != nil {
		unmount(server, mnt, log)
		return err
	}

	served := make(chan struct{})
	go func() { server.Wait(); close(served) }()
	select {
	case sig := <-sigs:
		log.Info("unmounting", "signal", sig.String())
		fl.svc.stopping(mnt)
		unmount(server, mnt, log)
		<-served
	case <-served:
		log.Info("unmounted from outside", "mountpoint", mnt)
		fl.svc.stopping(mnt)
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), c.DrainTimeout)
	defer cancel()
	if err := fsys.Close(drainCtx); err != nil {
		log.Warn("work left for the next mount", "err", err)
	}
	log.Info("stopped")
	return nil
}

// config completes the settings with what the flags give as text (modes,
// the write-back delay) and checks them (config.Validate).
func (fl *mountFlags) config() (config.Config, error) {
	c := fl.cfg
	if fl.writeBack != "" {
		d, err := time.ParseDuration(fl.writeBack)
		if err != nil || d < 0 {
			return c, fmt.Errorf("--write-back=%s: not a duration (e.g. 5s)", fl.writeBack)
		}
		c.Upload.WriteBack, c.Upload.WriteBackDelay = true, max(d, time.Nanosecond)
	}
	for _, m := range []struct {
		name, value string
		lo          uint32
		dst         *uint32
	}{{"umask", fl.umask, 0, &c.Mount.Umask}, {"file-mode", fl.fileMode, 1, &c.Mount.FileMode}, {"dir-mode", fl.dirMode, 1, &c.Mount.DirMode}} {
		v, err := strconv.ParseUint(m.value, 8, 32)
		if err != nil || uint32(v) < m.lo || v > 0o777 {
			return c, fmt.Errorf("--%s %q: an octal number from %o to 0777", m.name, m.value, m.lo)
		}
		*m.dst = uint32(v)
	}
	return c, c.Validate()
}

// fsOptions are the filesystem's options from the settings.
func fsOptions(c config.Config, log *slog.Logger, state, sock string, reg *metrics.Registry) pfs.Options {
	return pfs.Options{
		UID: c.Mount.UID, GID: c.Mount.GID, FileMode: c.Mount.FileMode, DirMode: c.Mount.DirMode, Umask: c.Mount.Umask,
		DirTTL: c.Listing.TTL, MaxListed: c.Listing.MaxEntries, EntryTimeout: c.Mount.AttrTimeout, AttrTimeout: c.Mount.AttrTimeout,
		DeleteWindow: c.Delete.Window, DeleteRetry: c.Delete.Retry, OpTimeout: c.OpTimeout, ReadOnly: c.Mount.ReadOnly,
		Logger: log, WriteBack: c.Upload.WriteBack, WriteBackDelay: c.Upload.WriteBackDelay, Uploads: c.Upload.Workers,
		UploadRetry: c.Upload.Retry, RecoveryDir: filepath.Join(state, "recovery"), ControlSocket: sock,
		AccountRefresh: c.AccountRefresh, Ops: reg.FUSE(),
	}
}
