package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

type caCreateOptions struct {
	out   string
	name  string
	force bool
	issue issueFlags
}

func caCmd(dockerCli command.Cli) *cobra.Command {
	return groupCmd("ca", "Manage the certificate authority", caCreateCmd(dockerCli))
}

func caCreateCmd(dockerCli command.Cli) *cobra.Command {
	var opts caCreateOptions
	cmd := &cobra.Command{
		Use:   "create [OPTIONS]",
		Short: "Create a certificate authority (ca.pem, ca-key.pem)",
		Long: `Create a certificate authority that signs daemon and client certificates.

By default it is written to $DOCKER_CONFIG/tls (~/.docker/tls), a 0700
directory, as ca.pem and ca-key.pem (0600). 'docker tls issue' uses it
unless --ca-cert/--ca-key name another CA.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCACreate(cmd.Context(), dockerCli, &opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.out, "out", "o", "", "Directory to write to (default $DOCKER_CONFIG/tls)")
	f.StringVar(&opts.name, "name", "", "Common name of the CA (default \"docker-tls CA\" and 8 hex digits of its key identifier)")
	f.BoolVarP(&opts.force, "force", "f", false, "Replace an existing CA (the old files are kept as backups)")
	opts.issue.add(f, pki.DefaultCADays)
	return cmd
}

func runCACreate(_ context.Context, dockerCli command.Cli, opts *caCreateOptions) error {
	if err := checkOutDir("--out", opts.out); err != nil {
		return err
	}
	kt, err := opts.issue.parse()
	if err != nil {
		return err
	}
	out := opts.out
	if out == "" {
		out = ownDir()
	}
	ca, err := pki.NewCA(pki.Request{CommonName: opts.name, KeyType: kt, Days: opts.issue.days})
	if err != nil {
		return err
	}
	var plan fsutil.Plan
	certPath, keyPath := filepath.Join(out, layout.DaemonCAFile), filepath.Join(out, layout.CAKeyFile)
	if err := addIssued(&plan, ca, certPath, keyPath, "CA"); err != nil {
		return err
	}
	w := dockerCli.Out()
	fmt.Fprintf(w, "Creating a CA: %s\n", describeCert(ca.Cert))
	if err := applyPlan(w, &plan, opts.force); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nKeep %s secret: neither the daemon nor the clients need it.\n", keyPath)
	fmt.Fprintf(w, "Next: docker tls issue server --san <daemon host name or IP>\n")
	return nil
}
