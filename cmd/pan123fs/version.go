package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is the release this binary is, when the build says so
// (go build -ldflags "-X main.version=v1.2.3"); otherwise the main
// module's version from the build information.
var version string

// goFuseModule is the FUSE library whose version --version reports: the
// kernel protocol the mount speaks depends on it.
const goFuseModule = "github.com/hanwen/go-fuse/v2"

// buildInfo is what pan123fs --version reports.
type buildInfo struct {
	Version  string // release, or the main module's version ("(devel)" from a plain go build outside VCS)
	Commit   string // VCS revision, empty when the build did not record one
	Modified bool   // the work tree had changes the commit does not hold
	Go       string // the Go release that built it
	GoFuse   string // the go-fuse module version linked in
}

// readBuildInfo gathers buildInfo from the linker's -X and the build
// information the go command embeds.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Go: runtime.Version(), GoFuse: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if b.Version == "" {
			b.Version = "unknown"
		}
		return b
	}
	if b.Version == "" {
		b.Version = bi.Main.Version
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	for _, d := range bi.Deps {
		if d.Path == goFuseModule {
			b.GoFuse = d.Version
			if d.Replace != nil {
				b.GoFuse = d.Replace.Path + " " + d.Replace.Version
			}
		}
	}
	return b
}

// String is the text pan123fs --version and pan123fs version print.
func (b buildInfo) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "pan123fs %s\n", b.Version)
	commit := b.Commit
	if commit == "" {
		commit = "unknown"
	} else if b.Modified {
		commit += " (modified)"
	}
	fmt.Fprintf(&sb, "commit:  %s\n", commit)
	fmt.Fprintf(&sb, "go:      %s\n", b.Go)
	fmt.Fprintf(&sb, "go-fuse: %s\n", b.GoFuse)
	return sb.String()
}

// setVersion gives root its --version flag.
func setVersion(root *cobra.Command) {
	root.Version = readBuildInfo().String()
	root.SetVersionTemplate("{{.Version}}")
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go and go-fuse versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), readBuildInfo())
			return err
		},
	}
}
