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
			fmt.Fprintln(dockerCli.Out(), versionLine())
			return nil
		},
	}
}

// versionLine is what `docker tls version` and `--version` print.
func versionLine() string {
	return fmt.Sprintf("docker-tls %s (%s, %s/%s)", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
