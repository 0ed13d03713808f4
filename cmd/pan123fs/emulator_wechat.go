package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pan123fs/pan123fs/config"
	"github.com/pan123fs/pan123fs/remote/wechat/emulator"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
)

// The services `pan123fs emulator --backend` emulates.
const (
	backend123pan = "123pan"
	backendWechat = "wechat-cloudbase"
)

// wechatFlags are the flags only the wechat-cloudbase emulator takes.
type wechatFlags struct {
	appID, secret, env      string
	openAPI                 bool
	uploadWindow            time.Duration
	maxObjectSize           int64
	dailyReads, dailyWrites int
}

// wechatOnly and pan123Only name the flags of one backend, refused with the
// other.
var (
	wechatOnly = []string{"appid", "secret", "env", "open-api", "upload-window", "max-object-size", "daily-reads", "daily-writes"}
	pan123Only = []string{"data", "client-id", "client-secret", "slice-size", "async-delay", "async-above", "presign-ttl",
		"slow-delay", "reject-empty", "http-429", "allow-remote-offline", "seed", "member", "direct-traffic", "developer-ends-in"}
)

func (w *wechatFlags) register(f *pflag.FlagSet) {
	f.StringVar(&w.appID, "appid", "", "wechat-cloudbase: the only appid that gets a token (default: any non-empty appid and secret)")
	f.StringVar(&w.secret, "secret", "", "wechat-cloudbase: the secret that goes with --appid")
	f.StringVar(&w.env, "env", emulator.DefaultEnv, "wechat-cloudbase: the CloudBase environment ID served")
	f.BoolVar(&w.openAPI, "open-api", false, "wechat-cloudbase: accept tcb calls without a token (Cloud Run open API mode)")
	f.DurationVar(&w.uploadWindow, "upload-window", emulator.DefaultUploadWindow, "wechat-cloudbase: how long an uploadfile credential is good for")
	f.Var(config.NewSize(&w.maxObjectSize, wire.MaxObjectSize), "max-object-size", "wechat-cloudbase: largest COS form upload (bytes, or 16MiB...)")
	f.IntVar(&w.dailyReads, "daily-reads", 0, "wechat-cloudbase: database reads per day before -501015 (0 = unlimited)")
	f.IntVar(&w.dailyWrites, "daily-writes", 0, "wechat-cloudbase: database writes per day before -501016 (0 = unlimited)")
}

// checkBackendFlags refuses an unknown backend and, of the flags f was
// given, those of the other backend: pan123Flags are only the 123pan
// backend's, wechatFlags only WeChat CloudBase's.
func checkBackendFlags(f *pflag.FlagSet, backend string, pan123Flags, wechatFlags []string) error {
	var foreign []string
	switch backend {
	case backend123pan:
		foreign = wechatFlags
	case backendWechat:
		foreign = pan123Flags
	default:
		return fmt.Errorf("--backend %q: want %s or %s", backend, backend123pan, backendWechat)
	}
	for _, name := range foreign {
		if f.Changed(name) {
			return fmt.Errorf("--%s does not apply to --backend %s", name, backend)
		}
	}
	return nil
}

// runWechatEmulator serves the WeChat CloudBase emulator on listen until
// SIGINT or SIGTERM. tokenTTL 0 means the default.
func runWechatEmulator(cmd *cobra.Command, w wechatFlags, listen string, tokenTTL time.Duration, qps, faults string, log *slog.Logger) error {
	if (w.appID == "") != (w.secret == "") {
		return fmt.Errorf("give both --appid and --secret, or neither")
	}
	if w.env == "" || strings.ContainsAny(w.env, "./") {
		return fmt.Errorf("--env %q: want a non-empty ID without '.' or '/'", w.env)
	}
	if w.secret != "" {
		log.Warn("--secret is visible to every user of this machine (ps, /proc/PID/cmdline)")
	}
	opt := emulator.Options{
		AppID: w.appID, Secret: w.secret, Env: w.env, TokenTTL: tokenTTL,
		UploadWindow: w.uploadWindow, MaxObjectSize: w.maxObjectSize, OpenAPI: w.openAPI,
		Quotas: emulator.Quotas{DailyReads: w.dailyReads, DailyWrites: w.dailyWrites},
		Logger: log,
	}
	var err error
	if opt.Quotas.QPS, err = emulator.ParseQPS(qps); err != nil {
		return fmt.Errorf("--qps: %w", err)
	}
	if opt.Faults, err = emulator.ParseFaults(faults); err != nil {
		return fmt.Errorf("--faults: %w", err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: emulator.New(opt), ReadHeaderTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(cmd.OutOrStdout(), "emulator listening on http://%s\n", ln.Addr())
	log.Info("wechat-cloudbase emulator", "env", w.env, "bucket", wire.Bucket(w.env))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case got := <-sig:
		log.Info("shutting down", "signal", got.String())
	case err := <-served:
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
