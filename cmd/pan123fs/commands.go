package main

import "github.com/spf13/cobra"

// subcommands lists every subcommand of pan123fs.
func subcommands() []*cobra.Command {
	return []*cobra.Command{
		newEmulatorCmd(),
		newMountCmd(),
		newPutCmd(),
		newRefreshCmd(),
		newServeCmd(),
		newStatusCmd(),
		newSyncCmd(),
		newURLCmd(),
		newVersionCmd(),
	}
}
