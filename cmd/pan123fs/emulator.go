package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pan123fs/pan123fs/config"
	"github.com/pan123fs/pan123fs/remote/emulator"
)

// newEmulatorCmd is `pan123fs emulator`: the emulated 123pan image-host API.
func newEmulatorCmd() *cobra.Command {
	var (
		listen, dataDir, clientID, clientSecret string
		qpsList, faultList, logLevel            string
		sliceSize, seed, asyncAbove             int64
		tokenTTL, asyncDelay, presignTTL        time.Duration
		slowDelay                               time.Duration
		rejectEmpty, http429, allowRemote       bool
		account                                 accountFlags
		backend                                 string
		wechat                                  wechatFlags
	)
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve an emulated 123pan image-host (图床) API for tests, benchmarks and demos",
		Long: `Serve an emulated 123pan image-host (图床) API until SIGINT or SIGTERM;
with --backend wechat-cloudbase, the WeChat CloudBase (微信云开发) server API
instead (see below).

The emulator speaks the API as documented (see shared/spec/123pan-oss-api.md):
tokens, folders, sliced uploads with presigned PUT URLs, md5 checks, reuse
(秒传), list/detail/move/delete, copy and offline tasks, and public download
links with Range support. Blobs are stored on disk, content-addressed by md5.

The first line on stdout is exactly
    emulator listening on http://HOST:PORT
logs go to stderr.

Control endpoints (no auth, not counted, never faulted):
    GET  /__emulator/stats           calls per "METHOD /path", faults, rate_limited
    POST /__emulator/stats/reset     zero the counters
    POST /__emulator/faults          body like --faults (or JSON); empty = none
    POST /__emulator/qps             body like --qps; empty = none
    POST /__emulator/drive?name=X    body = file content for copy tasks; answers {"fileId"}
    POST /__emulator/status          {"fileId":"...","status":N}; N > 100 = rejected by moderation

--backend wechat-cloudbase serves, in memory, the parts of the WeChat
CloudBase server API a mount uses (see shared/spec/wechat-cloudbase-storage.md):
cgi-bin/token and stable_token, tcb/uploadfile with the COS form upload,
batchdownloadfile links (Range, HEAD), batchdeletefile, and the database
calls over a query subset. Its flags are --appid, --secret, --env, --open-api,
--upload-window, --max-object-size, --daily-reads, --daily-writes, and the
shared --listen, --token-ttl (default 2h), --qps (endpoint names such as
uploadfile, databasequery), --faults (JSON: a fault or an array of them) and
--log-level. Control endpoints:
    GET  /__emulator/stats           calls per "METHOD route", faults, quota_refused, objects, documents
    POST /__emulator/stats/reset     zero the counters
    POST /__emulator/faults          {"path":"/tcb/uploadfile","errcode":-1,"count":2}, or
                                     {"path":"/cos","status":503}, {"reset":true}, {"delay_ms":500};
                                     an array of them; empty body = none
    DELETE /__emulator/faults        none`,
		Example: `  pan123fs emulator
  pan123fs emulator --listen 127.0.0.1:8123 --data /tmp/emu --client-id me --client-secret s3cret
  pan123fs emulator --slice-size 1048576 --qps delete=1,list=4,create=2 --faults 5xx=0.1,reset=0.05
  pan123fs emulator --backend wechat-cloudbase --appid wx0123 --secret s3cret --env test2-4a89da`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true // flags parsed: later errors are not usage errors
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			if err := checkBackendFlags(cmd.Flags(), backend, pan123Only, wechatOnly); err != nil {
				return err
			}
			if backend == backendWechat {
				logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
				if !cmd.Flags().Changed("token-ttl") {
					tokenTTL = 0 // the WeChat default
				}
				return runWechatEmulator(cmd, wechat, listen, tokenTTL, qpsList, faultList, logger)
			}
			cfg := emulator.Config{
				DataDir: dataDir, ClientID: clientID, ClientSecret: clientSecret,
				SliceSize: sliceSize, TokenTTL: tokenTTL, AsyncDelay: asyncDelay, AsyncAbove: asyncAbove, PresignTTL: presignTTL,
				HTTP429: http429, RejectEmpty: rejectEmpty, AllowRemoteOffline: allowRemote, Seed: seed,
				Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
			}
			cfg.Account = account.config()
			if clientSecret != "" {
				warnSecretOnCommandLine(cfg.Logger)
			}
			if (clientID == "") != (clientSecret == "") {
				return fmt.Errorf("give both --client-id and --client-secret, or neither")
			}
			var err error
			if cfg.QPS, err = emulator.ParseQPS(qpsList); err != nil {
				return fmt.Errorf("--qps: %w", err)
			}
			if cfg.Faults, err = emulator.ParseFaults(faultList); err != nil {
				return fmt.Errorf("--faults: %w", err)
			}
			if cmd.Flags().Changed("slow-delay") {
				cfg.Faults.SlowDelay = slowDelay
			}
			if asyncAbove == 0 {
				return fmt.Errorf("--async-above: give a size above 0, or a negative number for never")
			}
			if cmd.Flags().Changed("async-delay") && asyncDelay == 0 {
				cfg.AsyncDelay = emulator.AsyncNow // explicit 0: complete at once
			}
			srv, err := emulator.New(cfg)
			if err != nil {
				return err
			}
			if err := srv.Start(listen); err != nil {
				srv.Close()
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "emulator listening on %s\n", srv.URL())
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
			got := <-sig
			signal.Stop(sig)
			cfg.Logger.Info("shutting down", "signal", got.String())
			return srv.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&backend, "backend", backend123pan, "which service to emulate: "+backend123pan+" or "+backendWechat)
	wechat.register(f)
	f.StringVar(&listen, "listen", "127.0.0.1:0", "address to listen on (port 0 = any free port)")
	f.StringVar(&dataDir, "data", "", "directory for blobs and state, kept across restarts (default: a temporary directory removed on exit)")
	f.StringVar(&clientID, "client-id", "", "the only client ID that gets a token (default: any non-empty pair is accepted)")
	f.StringVar(&clientSecret, "client-secret", "", "the client secret that goes with --client-id")
	f.Var(config.NewSize(&sliceSize, emulator.DefaultSliceSize), "slice-size", "slice size that create hands out (bytes, or 16MiB...)")
	f.StringVar(&qpsList, "qps", "", "per-endpoint rate limits, e.g. delete=1,list=4,create=2 (names: "+strings.Join(emulator.QPSNames(), ", ")+")")
	f.StringVar(&faultList, "faults", "", "fault probabilities per API call or slice PUT, e.g. 5xx=0.1,reset=0.05,429=0.1,slow=0.05,verifying=0.2")
	f.DurationVar(&tokenTTL, "token-ttl", emulator.DefaultTokenTTL, "lifetime of access tokens")
	f.DurationVar(&asyncDelay, "async-delay", emulator.DefaultAsyncDelay, "how long asynchronous uploads (multi-slice, or above --async-above) take to complete after upload_complete (0 = at once)")
	f.Int64Var(&asyncAbove, "async-above", emulator.DefaultAsyncAbove, "single-slice uploads larger than this many bytes (> 0) also complete asynchronously; negative = never")
	f.DurationVar(&presignTTL, "presign-ttl", emulator.DefaultPresignTTL, "lifetime of presigned slice upload URLs")
	f.DurationVar(&slowDelay, "slow-delay", emulator.DefaultSlowDelay, "delay of the 'slow' fault")
	f.BoolVar(&rejectEmpty, "reject-empty", false, "refuse zero-byte files at create")
	f.BoolVar(&http429, "http-429", false, "rate-limited answers also carry HTTP status 429 (default: HTTP 200 with body code 429)")
	f.BoolVar(&allowRemote, "allow-remote-offline", false, "let offline migration fetch non-loopback URLs")
	f.Int64Var(&seed, "seed", 0, "random seed for faults and IDs (0 = time-based)")
	f.StringVar(&logLevel, "log-level", "info", "log level on stderr: debug, info, warn, error")
	account.register(f)
	return cmd
}
