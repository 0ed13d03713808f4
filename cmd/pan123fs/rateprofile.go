package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pan123fs/pan123fs/remote"
)

// rateProfileAuto is --rate-profile's default: the account says.
const rateProfileAuto = "auto"

// rateProfileFlag reads --rate-profile: the profile to build the client
// with (auto starts as free) and whether to ask the account.
func rateProfileFlag(v string) (p remote.RateProfile, auto bool, err error) {
	if v == rateProfileAuto {
		return remote.ProfileFree, true, nil
	}
	if p, err = remote.ParseRateProfile(v); err != nil {
		return "", false, fmt.Errorf("--rate-profile %q: auto, free or member", v)
	}
	return p, false, nil
}

// accountRates is the part of *remote.Client that --rate-profile auto uses.
type accountRates interface {
	Account(ctx context.Context) (remote.Account, error)
	SetRateProfile(p remote.RateProfile)
}

// detectRateProfile asks the account whether it is a member's and moves the
// client to the member rates if so; when the answer does not come within
// timeout the free rates stay, with a log line.
func detectRateProfile(ctx context.Context, rc accountRates, timeout time.Duration, log *slog.Logger) remote.RateProfile {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	a, err := rc.Account(ctx)
	if err != nil {
		log.Warn("account type unknown: keeping to the free account's rates (--rate-profile member if it is a member's)", "err", err)
		return remote.ProfileFree
	}
	if !a.Member {
		log.Info("free account: the free rates apply")
		return remote.ProfileFree
	}
	rc.SetRateProfile(remote.ProfileMember)
	log.Info("member account: the member rates apply")
	return remote.ProfileMember
}
