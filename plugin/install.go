package main

import (
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

func installCmd(dockerCli command.Cli) *cobra.Command {
	return groupCmd("install", "Install certificates where the docker CLI or dockerd reads them",
		installClientCmd(dockerCli), installDaemonCmd(dockerCli))
}
