// Command pan123fs mounts the 123pan image host (图床) as a Linux filesystem,
// and serves an emulator of its API for tests and demos.
package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if isMountHelper(os.Args[0]) {
		os.Exit(runMountHelper(os.Args[1:]))
	}
	if err := newRootCmd().ExecuteContext(context.Background()); err != nil {
		os.Exit(report(err))
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "pan123fs",
		Short: "Mount the 123pan image host (图床) as a filesystem",
		Long: `pan123fs mounts the 123pan image host (图床) as a Linux filesystem, so that
cp, mv, rm, ls, find and editors work on an image library as on a local folder.

Credentials come from PAN123_CLIENT_ID and PAN123_CLIENT_SECRET (or flags), the
API base from PAN123_API_BASE, and the state directory (spool, journal, saved
token, caches) from PAN123FS_STATE_DIR. Every flag of mount can also be set
with PAN123FS_<FLAG> (PAN123FS_CACHE_MAX_SIZE=2GiB) or in the TOML file of
mount --config (default ~/.config/pan123fs/config.toml); a flag wins over
the environment, which wins over the file.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(subcommands()...)
	setVersion(root)
	return root
}
