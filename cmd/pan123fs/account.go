package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/pan123fs/pan123fs/config"
	pfs "github.com/pan123fs/pan123fs/fs"
	"github.com/pan123fs/pan123fs/remote/emulator"
	"github.com/pan123fs/pan123fs/remote/wire"
)

// accountFlags are the emulator's flags for the account user/info
// describes.
type accountFlags struct {
	member        bool
	directTraffic int64
	developerEnds time.Duration
}

func (a *accountFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&a.member, "member", false, "emulate a member (vip) account: more space and direct-link traffic, an SVIP entry in vipInfo")
	f.Var(config.NewSize(&a.directTraffic, 0), "direct-traffic", "direct-link traffic allowance that downloads use up (default 10GiB, 1TiB with --member)")
	f.DurationVar(&a.developerEnds, "developer-ends-in", emulator.DefaultDeveloperTerm, "how long after start the developer entitlement (developerInfo.endTime) ends; negative: ended that long ago")
}

func (a *accountFlags) config() emulator.AccountConfig {
	return emulator.AccountConfig{Member: a.member, DirectTraffic: a.directTraffic, DeveloperEnd: time.Now().Add(a.developerEnds)}
}

// serviceName is the name of the service the mount of st speaks to.
func serviceName(st pfs.Status) string {
	if st.Service == "" {
		return "123pan" // a mount of an earlier version
	}
	return st.Service
}

// printStatus prints what is not on the service yet, then the account.
func printStatus(w io.Writer, st *pfs.Status) {
	printPending(w, st)
	printRejected(w, st)
	a := st.Account
	if a == nil {
		return
	}
	line := fmt.Sprintf("%s space: %s used", serviceName(*st), humanBytes(a.Used))
	if a.Total >= 0 {
		line += fmt.Sprintf(" of %s, %s free", humanBytes(a.Total), humanBytes(a.Free))
	} else {
		line += " (capacity unknown)"
	}
	if a.Traffic >= 0 {
		line += "; direct-link traffic left: " + humanBytes(a.Traffic)
	}
	fmt.Fprintln(w, line)
	if a.Warning != "" {
		fmt.Fprintf(w, "WARNING: %s\n", a.Warning)
	} else if !a.AccessEnds.IsZero() {
		fmt.Fprintf(w, "developer entitlement ends %s China time\n", wire.FormatTime(a.AccessEnds))
	}
}
