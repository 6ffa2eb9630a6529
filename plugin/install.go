package main

import (
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

func installCmd(dockerCli command.Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "install COMMAND",
		Short: "Install certificates where the docker CLI or dockerd reads them",
		Args:  noArgs,
		RunE:  showHelp,
	}
	cmd.AddCommand(installClientCmd(dockerCli), installDaemonCmd(dockerCli))
	return cmd
}
