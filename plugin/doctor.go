package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/doctor"
	"github.com/docker/cli/cli"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

// doctorOptions are the doctor command's flags.
type doctorOptions struct {
	root       string
	expiryWarn string
	format     string
	explain    string
	list       bool
}

// doctorEnvVars are the variables the doctor reads from the environment.
var doctorEnvVars = []string{
	"DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH",
	"DOCKER_CONFIG", "DOCKER_CONTEXT", "HOME", "XDG_CONFIG_HOME",
}

func doctorCmd(dockerCli command.Cli) *cobra.Command {
	opts := doctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor [OPTIONS]",
		Short: "Diagnose the TLS setup of the Docker client, daemon and registries",
		Long: "Reads the Docker client configuration, contexts, certs.d directories and the daemon's TLS settings, " +
			"and reports what would make Docker fail, with a fix for each finding. It never changes a file. " +
			"It exits with status 1 when it finds an error.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%s accepts no arguments yet, got %s: checking live hosts is not supported\n\nUsage:  %s", cmd.CommandPath(), strings.Join(quoteAll(args), " "), cmd.UseLine())
			}
			return runDoctor(cmd.Context(), dockerCli, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.root, "root", "/", "Read the machine's files under `DIR` instead of / (an image or a backup)")
	f.StringVar(&opts.expiryWarn, "expiry-warn", "30d", "Warn about certificates expiring within this `period` (30d, 720h)")
	f.StringVar(&opts.format, "format", "text", "Output format: text or json")
	f.StringVar(&opts.explain, "explain", "", "Explain the check `ID` and exit")
	f.BoolVar(&opts.list, "list", false, "List the checks and exit")
	return cmd
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = fmt.Sprintf("%q", a)
	}
	return out
}

func runDoctor(ctx context.Context, dockerCli command.Cli, opts doctorOptions) error {
	out := dockerCli.Out()
	if opts.list {
		_, err := fmt.Fprint(out, doctor.ListText())
		return err
	}
	if opts.explain != "" {
		text, err := doctor.Explain(opts.explain)
		if err != nil {
			return err
		}
		_, err = fmt.Fprint(out, text)
		return err
	}
	if opts.format != "text" && opts.format != "json" {
		return fmt.Errorf("invalid --format %q: expected text or json", opts.format)
	}
	warn, err := doctor.ParseExpiryWarn(opts.expiryWarn)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(opts.root)
	if err != nil {
		return fmt.Errorf("cannot read --root %s: %w", opts.root, err)
	}
	defer root.Close()
	env := map[string]string{}
	for _, k := range doctorEnvVars {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	// The docker CLI has already resolved --context/-H (plugins receive the
	// global flags); the doctor infers which one was given from the result.
	// --tls, --tlsverify and --tlscacert/--tlscert/--tlskey are not visible
	// to plugins through command.Cli and are not taken into account.
	flags := doctor.ClientFlags{
		ResolvedContext: dockerCli.CurrentContext(),
		ResolvedHost:    func() string { return dockerCli.DockerEndpoint().Host },
	}
	rep, err := doctor.Run(doctor.Options{
		FS:         doctor.RootFS(root),
		Root:       opts.root,
		Env:        env,
		Flags:      flags,
		Now:        time.Now(),
		ExpiryWarn: warn,
	})
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if opts.format == "json" {
		err = doctor.RenderJSON(out, rep)
	} else {
		err = doctor.RenderText(out, rep)
	}
	if err != nil {
		return err
	}
	if rep.HasErrors() {
		return cli.StatusError{StatusCode: 1}
	}
	return nil
}
