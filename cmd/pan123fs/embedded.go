package main

import (
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/pan123fs/pan123fs/remote/emulator"
	wxemulator "github.com/pan123fs/pan123fs/remote/wechat/emulator"
)

// embeddedClientID is the embedded emulator's client ID; the secret is
// what nobody else knows.
const embeddedClientID = "pan123fs-emulator"

// startEmbeddedEmulator serves an emulator on loopback for --emulator. Any
// local user can connect to it, so it gives a token only for a secret
// drawn from crypto/rand for this run and known to this process alone, and
// it revokes the tokens its data kept from earlier runs (the mount's saved
// token, for an emulator on another port, is not used again anyway).
func startEmbeddedEmulator(dataDir string, log *slog.Logger) (emu *emulator.Server, id, secret string, err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, "", "", err
	}
	secret = rand.Text()
	emu, err = emulator.New(emulator.Config{DataDir: dataDir, ClientID: embeddedClientID, ClientSecret: secret,
		RevokeTokens: true, Logger: log.With("component", "emulator")})
	if err != nil {
		return nil, "", "", err
	}
	if err := emu.Start("127.0.0.1:0"); err != nil {
		emu.Close()
		return nil, "", "", err
	}
	return emu, embeddedClientID, secret, nil
}

// embeddedWechat is the WeChat CloudBase emulator of mount --emulator
// --backend wechat-cloudbase, on loopback, with an appid and a secret of
// this run. It keeps everything in memory: a remount starts empty.
type embeddedWechat struct {
	url, env, appID, secret string
	close                   func()
}

// startEmbeddedWechat serves the emulator for environment env (the
// emulator's default when "").
func startEmbeddedWechat(env string, log *slog.Logger) (*embeddedWechat, error) {
	if env == "" {
		env = wxemulator.DefaultEnv
	}
	e := &embeddedWechat{env: env, appID: embeddedClientID, secret: rand.Text()}
	h := wxemulator.New(wxemulator.Options{AppID: e.appID, Secret: e.secret, Env: env, Logger: log.With("component", "emulator")})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Minute}
	go srv.Serve(ln)
	e.url = "http://" + ln.Addr().String()
	e.close = func() { srv.Close() }
	return e, nil
}
