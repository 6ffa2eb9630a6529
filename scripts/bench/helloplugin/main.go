// Command helloplugin is the baseline of the metadata benchmark
// (scripts/bench/run.sh): the smallest Docker CLI plugin that can be
// written with the docker/cli plugin framework. It is in the same module as
// docker-tls, so it links exactly the same docker/cli version, and
// `docker-hello docker-cli-plugin-metadata` costs what the framework itself
// costs. It is not shipped.
package main

import (
	"fmt"

	"github.com/docker/cli/cli-plugins/metadata"
	"github.com/docker/cli/cli-plugins/plugin"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

func main() {
	plugin.Run(func(dockerCli command.Cli) *cobra.Command {
		return &cobra.Command{
			Use:   "hello",
			Short: "Say hello",
			RunE: func(_ *cobra.Command, _ []string) error {
				_, err := fmt.Fprintln(dockerCli.Out(), "Hello, world!")
				return err
			},
		}
	}, metadata.Metadata{
		SchemaVersion:    "0.1.0",
		Vendor:           "docker-tls",
		Version:          "bench",
		ShortDescription: "Hello-world plugin, the metadata benchmark's baseline",
	})
}
