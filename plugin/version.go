package main

import (
	"fmt"
	"runtime"

	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

func versionCmd(dockerCli command.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show the docker-tls version",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(dockerCli.Out(), "docker-tls %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
