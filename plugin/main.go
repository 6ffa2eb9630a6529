// Command docker-tls is a Docker CLI plugin (`docker tls …`) that also runs
// standalone (`docker-tls …`). It issues, installs and diagnoses the TLS
// material Docker uses. Only this package may exit the process.
package main

import (
	"os"

	"github.com/docker-tls/docker-tls/doctor/render"
	"github.com/docker/cli/cli-plugins/metadata"
	"github.com/docker/cli/cli-plugins/plugin"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

// version is set at build time: -ldflags "-X main.version=…".
var version = "dev"

const pluginName = "tls"

func main() {
	render.ToolVersion = version
	os.Args = standaloneArgs(os.Args, os.Getenv(metadata.ReexecEnvvar) != "")
	plugin.Run(rootCmd, metadata.Metadata{
		SchemaVersion:    "0.1.0",
		Vendor:           "docker-tls",
		Version:          version,
		ShortDescription: "Set up and diagnose TLS for Docker daemons and registries",
		URL:              "https://github.com/docker-tls/docker-tls",
	})
}

// rootCmd builds the `tls` command tree. It must stay cheap: docker runs
// every plugin with docker-cli-plugin-metadata on each `docker help`.
func rootCmd(dockerCli command.Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   pluginName + " COMMAND",
		Short: "Set up and diagnose TLS for Docker daemons and registries",
		Long: `Set up and diagnose TLS for Docker daemons and registries.

Issue a CA, daemon and client certificates, install them where dockerd, the
docker CLI and registry clients read them, and find out what is wrong when a
TLS connection fails.`,
		Args:    noArgs,
		RunE:    showHelp,
		Version: version,
	}
	// Like `docker --version`: one line, exit 0.
	cmd.SetVersionTemplate(versionLine() + "\n")
	cmd.InitDefaultVersionFlag()
	cmd.Flags().Lookup("version").Usage = "Print version information and quit" // docker's wording
	cmd.AddCommand(
		initCmd(dockerCli),
		caCmd(dockerCli),
		issueCmd(dockerCli),
		installCmd(dockerCli),
		installRegistryCmd(dockerCli),
		provisionCmd(dockerCli),
		rotateCmd(dockerCli),
		inspectCmd(dockerCli),
		doctorCmd(dockerCli),
		explainCmd(dockerCli),
		versionCmd(dockerCli),
	)
	cmd.AddCommand(hooksCmds(dockerCli)...)
	setUsageErrors(cmd)
	if completionRequest(os.Args) {
		// Only docker's completion asks for these; building them costs
		// start-up on every docker help, which runs every plugin.
		addCompletions(cmd, dockerCli)
	}
	addExamples(cmd)
	return cmd
}

// standaloneArgs lets the binary run as `docker-tls init …`: the plugin
// framework expects the plugin name after the global flags, as docker
// passes it (`docker-tls [global flags] tls init …`). When not started by
// docker and the name is missing, it is inserted after the global flags.
func standaloneArgs(args []string, viaDocker bool) []string {
	if viaDocker || len(args) == 0 {
		return args
	}
	i := 1
	for i < len(args) {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' || a == "--version" || a == "-v" {
			break // --version belongs to the tls command, like `docker --version`
		}
		if takesValue(a) {
			i++
		}
		i++
	}
	if i < len(args) && (args[i] == pluginName || args[i] == metadata.MetadataSubcommandName ||
		args[i] == "__complete" || args[i] == "__completeNoDesc" || args[i] == "help") {
		return args
	}
	out := make([]string, 0, len(args)+1)
	out = append(out, args[:i]...)
	out = append(out, pluginName)
	return append(out, args[i:]...)
}

// takesValue reports whether a global docker flag written without "=" takes
// the next argument as its value.
func takesValue(flag string) bool {
	for i := 0; i < len(flag); i++ {
		if flag[i] == '=' {
			return false
		}
	}
	switch flag {
	case "-H", "--host", "-c", "--context", "--config", "-l", "--log-level",
		"--tlscacert", "--tlscert", "--tlskey":
		return true
	}
	return false
}
