package main

import "github.com/spf13/cobra"

// subcommands lists every subcommand of pan123fs.
func subcommands() []*cobra.Command {
	return []*cobra.Command{
		newDupesCmd(),
		newEmulatorCmd(),
		newImportDriveCmd(),
		newImportIDsCmd(),
		newImportURLCmd(),
		newMigrateCmd(),
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
