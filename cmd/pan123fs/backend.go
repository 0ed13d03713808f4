package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/pflag"

	"github.com/pan123fs/pan123fs/config"
	"github.com/pan123fs/pan123fs/metrics"
	"github.com/pan123fs/pan123fs/remote"
	"github.com/pan123fs/pan123fs/remote/pan123"
	"github.com/pan123fs/pan123fs/remote/wechat"
	"github.com/pan123fs/pan123fs/remote/wechat/wire"
	"github.com/pan123fs/pan123fs/store"
)

// mount --backend chooses the service a mount speaks to: the 123pan image
// host (the default) or the cloud storage of a WeChat CloudBase
// environment. Everything above store.Backend is the same for both.

// backendFlags are mount's flags of the WeChat CloudBase backend.
type backendFlags struct {
	kind       string
	env        string // --wechat-env
	collection string // --wechat-collection
	token      string // --wechat-token: stable, file or none
	tokenFile  string // --wechat-token-file
	tokenParam string // --wechat-token-param
	capacity   int64  // --wechat-capacity
}

// wechatMountOnly and pan123MountOnly name mount flags of one backend,
// refused with the other.
var (
	wechatMountOnly = []string{"wechat-env", "wechat-collection", "wechat-token", "wechat-token-file", "wechat-token-param", "wechat-capacity"}
	pan123MountOnly = []string{"rate-limit", "rate-profile"}
)

func (b *backendFlags) register(f *pflag.FlagSet) {
	f.StringVar(&b.kind, "backend", backend123pan, "the service to mount: "+backend123pan+" (the image host) or "+backendWechat+" (a WeChat CloudBase environment's storage)")
	f.StringVar(&b.env, "wechat-env", "", "wechat-cloudbase: the CloudBase environment ID (default $WECHAT_ENV)")
	f.StringVar(&b.collection, "wechat-collection", wechat.DefaultCollection, "wechat-cloudbase: the database collection that holds the mount's names")
	f.StringVar(&b.token, "wechat-token", string(wechat.TokenStable), "wechat-cloudbase: where the access token comes from: stable_token (appid and secret), file (--wechat-token-file, the 微信令牌 of Cloud Run), or none (Cloud Run's open API)")
	f.StringVar(&b.tokenFile, "wechat-token-file", "", "wechat-cloudbase: the file --wechat-token file reads (e.g. /.tencentcloudbase/wx/cloudbase_access_token)")
	f.StringVar(&b.tokenParam, "wechat-token-param", "", "wechat-cloudbase: the query parameter the token travels in: access_token, or cloudbase_access_token (default with --wechat-token file: the 微信令牌 is one)")
	f.Var(config.NewSize(&b.capacity, 0), "wechat-capacity", "wechat-cloudbase: the environment's storage capacity, for df (e.g. 5GiB; 0: unknown, df shows 1 PiB)")
}

// openedBackend is a backend ready for the filesystem, with what the mount
// needs of it besides store.Backend.
type openedBackend struct {
	store.Backend
	// check asks the service something that needs valid credentials.
	check func(context.Context) error
	// routes are the control socket's routes of this backend.
	routes func(*http.ServeMux)
	// close stops what the backend started (an embedded emulator).
	close func()
}

// openBackend builds the backend --backend names, starting the embedded
// emulator of that service with --emulator. state is the state directory;
// the answer's is where this backend keeps its state (a subfolder for the
// emulator).
func (fl *mountFlags) openBackend(ctx context.Context, state string, log *slog.Logger, reg *metrics.Registry) (*openedBackend, string, error) {
	if fl.backend.kind == backendWechat {
		return fl.openWechat(ctx, state, log, reg)
	}
	return fl.open123pan(ctx, state, log, reg)
}

// open123pan is the 123pan image host's backend.
func (fl *mountFlags) open123pan(ctx context.Context, state string, log *slog.Logger, reg *metrics.Registry) (*openedBackend, string, error) {
	c := fl.cfg
	cfg := remote.Config{
		BaseURL:      envOr(fl.apiBase, "PAN123_API_BASE"),
		ClientID:     envOr(fl.clientID, "PAN123_CLIENT_ID"),
		ClientSecret: envOr(fl.clientSecret, "PAN123_CLIENT_SECRET"),
		InsecureHTTP: fl.insecureHTTP,
		Logger:       log,
		Observer:     reg.Remote(),
	}
	autoProfile := false
	var err error
	if cfg.RateProfile, autoProfile, err = rateProfileFlag(fl.rateProfile); err != nil {
		return nil, "", err
	}
	if fl.rateLimit != "" {
		if cfg.Limits, err = remote.ParseLimits(fl.rateLimit); err != nil {
			return nil, "", fmt.Errorf("--rate-limit: %w", err)
		}
	}
	ob := &openedBackend{close: func() {}}
	if fl.emulator {
		state = filepath.Join(state, "emulator")
		emu, id, secret, err := startEmbeddedEmulator(filepath.Join(state, "data"), log)
		if err != nil {
			return nil, "", err
		}
		ob.close = func() { emu.Close() }
		cfg.BaseURL, cfg.ClientID, cfg.ClientSecret = emu.URL(), id, secret
		log.Info("embedded emulator serving", "url", emu.URL())
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		ob.close()
		return nil, "", errors.New("no credentials: set PAN123_CLIENT_ID and PAN123_CLIENT_SECRET (or use --emulator)")
	}
	cfg.StateDir = state
	rc, err := remote.New(cfg)
	if errors.Is(err, remote.ErrPlainHTTP) {
		err = fmt.Errorf("--api-base: %w (--insecure-http)", err)
	}
	if err != nil {
		ob.close()
		return nil, "", err
	}
	if err := fl.svc.checkCredentials(ctx, func(ctx context.Context) error { _, err := rc.UserInfo(ctx); return err }, c.OpTimeout); err != nil {
		ob.close()
		return nil, "", err
	}
	if autoProfile {
		detectRateProfile(ctx, rc, c.OpTimeout, log)
	}
	b := pan123.New(rc, log)
	ob.Backend, ob.routes = b, taskRoutes(b)
	return ob, state, nil
}

// openWechat is the WeChat CloudBase storage backend. The appid and secret
// are --client-id and --client-secret when given (on the command line, as
// PAN123FS_ variables, in the config file, as a secret file or a systemd
// credential), else $WECHAT_APPID and $WECHAT_SECRET.
func (fl *mountFlags) openWechat(ctx context.Context, state string, log *slog.Logger, reg *metrics.Registry) (*openedBackend, string, error) {
	cfg := wechat.Config{
		APIBase:      fl.apiBase,
		InsecureHTTP: fl.insecureHTTP,
		Env:          envOr(fl.backend.env, "WECHAT_ENV"),
		Token:        wechat.TokenSource(fl.backend.token),
		AppID:        fl.wechatCredential("client-id", fl.clientID, "WECHAT_APPID"),
		Secret:       fl.wechatCredential("client-secret", fl.clientSecret, "WECHAT_SECRET"),
		TokenFile:    fl.backend.tokenFile,
		TokenParam:   fl.backend.tokenParam,
		Collection:   fl.backend.collection,
		Capacity:     fl.backend.capacity,
		Logger:       log,
		Observer:     reg.Remote(),
	}
	if !slices.Contains([]wechat.TokenSource{wechat.TokenStable, wechat.TokenFile, wechat.TokenNone}, cfg.Token) {
		return nil, "", fmt.Errorf("--wechat-token %q: want %s, %s or %s", fl.backend.token, wechat.TokenStable, wechat.TokenFile, wechat.TokenNone)
	}
	switch cfg.TokenParam {
	case "":
		if cfg.Token == wechat.TokenFile {
			cfg.TokenParam = wire.QueryCloudBaseAccessToken
		}
	case wire.QueryAccessToken, wire.QueryCloudBaseAccessToken:
	default:
		return nil, "", fmt.Errorf("--wechat-token-param %q: want %s or %s", cfg.TokenParam, wire.QueryAccessToken, wire.QueryCloudBaseAccessToken)
	}
	ob := &openedBackend{close: func() {}}
	if fl.emulator {
		state = filepath.Join(state, "emulator-wechat")
		emu, err := startEmbeddedWechat(cfg.Env, log)
		if err != nil {
			return nil, "", err
		}
		ob.close = emu.close
		cfg.APIBase, cfg.Env, cfg.AppID, cfg.Secret, cfg.Token, cfg.TokenParam = emu.url, emu.env, emu.appID, emu.secret, wechat.TokenStable, ""
		log.Info("embedded WeChat CloudBase emulator serving", "url", emu.url, "env", emu.env)
	}
	switch {
	case cfg.Env == "":
		ob.close()
		return nil, "", errors.New("no CloudBase environment: give --wechat-env ENV (or set WECHAT_ENV)")
	case cfg.Token == wechat.TokenStable && (cfg.AppID == "" || cfg.Secret == ""):
		ob.close()
		return nil, "", errors.New("no credentials: set WECHAT_APPID and WECHAT_SECRET (or --client-id with --client-secret-file, or use --emulator)")
	case cfg.Token == wechat.TokenFile && cfg.TokenFile == "":
		ob.close()
		return nil, "", errors.New("--wechat-token file needs --wechat-token-file")
	}
	cfg.StateDir = state
	b, err := wechat.New(cfg)
	if errors.Is(err, wechat.ErrPlainHTTP) {
		err = fmt.Errorf("--api-base: %w (--insecure-http)", err)
	}
	if err != nil {
		ob.close()
		return nil, "", err
	}
	ob.Backend, ob.routes = b, wechatRoutes(b)
	ob.check = func(ctx context.Context) error {
		for _, err := range b.List(ctx, "") {
			return err
		}
		return nil
	}
	if err := fl.svc.checkCredentials(ctx, ob.check, fl.cfg.OpTimeout); err != nil {
		ob.close()
		return nil, "", err
	}
	return ob, state, nil
}

// wechatCredential is flag's value when it was given, else the variable
// named env: PAN123_CLIENT_ID and PAN123_CLIENT_SECRET, the 123pan
// backend's variables, do not count.
func (fl *mountFlags) wechatCredential(flag, value, env string) string {
	if src := fl.src.sources[flag]; src != fromDefault && src != fromLegacyEnv && value != "" {
		return value
	}
	return os.Getenv(env)
}
