package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

type issueOptions struct {
	role  pki.Role
	sans  []string
	name  string
	out   string
	force bool
	ca    caFlags
	issue issueFlags
}

func issueCmd(dockerCli command.Cli) *cobra.Command {
	return groupCmd("issue", "Issue a daemon (server) or client certificate",
		issueRoleCmd(dockerCli, pki.RoleServer), issueRoleCmd(dockerCli, pki.RoleClient))
}

func issueRoleCmd(dockerCli command.Cli, role pki.Role) *cobra.Command {
	opts := issueOptions{role: role}
	cmd := &cobra.Command{Args: noArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return runIssue(cmd.Context(), dockerCli, &opts)
	}}
	f := cmd.Flags()
	if role == pki.RoleServer {
		cmd.Use = "server --san NAME[,NAME…] [OPTIONS]"
		cmd.Short = "Issue a daemon certificate (server-cert.pem, server-key.pem)"
		cmd.Long = `Issue a certificate for dockerd (extended key usage serverAuth).

Every DNS name and IP address clients use to reach the daemon must be given
with --san: Go, and so Docker, ignores the certificate's Common Name.`
		f.StringSliceVar(&opts.sans, "san", nil, "DNS names and IP addresses of the daemon (repeat or comma-separate)")
		f.StringVar(&opts.name, "name", "", "Common name (display only; default: the first SAN)")
	} else {
		cmd.Use = "client [OPTIONS]"
		cmd.Short = "Issue a client certificate (cert.pem, key.pem)"
		cmd.Long = `Issue a certificate the docker CLI presents to a daemon started with
--tlsverify (extended key usage clientAuth). Sign it with the CA the daemon
names in tlscacert.`
		f.StringVar(&opts.name, "name", defaultClientName, "Common name of the client; another name than \""+defaultClientName+"\" writes NAME-cert.pem and NAME-key.pem")
	}
	f.StringVarP(&opts.out, "out", "o", "", "Directory to write to (default $DOCKER_CONFIG/tls); a CA there (ca.pem, ca-key.pem) signs, as with init")
	f.BoolVarP(&opts.force, "force", "f", false, "Replace existing files (the old files are kept as backups)")
	opts.ca.add(f)
	opts.issue.add(f, pki.DefaultLeafDays)
	return cmd
}

func runIssue(_ context.Context, dockerCli command.Cli, opts *issueOptions) error {
	if err := checkOutDir("--out", opts.out); err != nil {
		return err
	}
	kt, err := opts.issue.parse()
	if err != nil {
		return err
	}
	req := pki.Request{Role: opts.role, CommonName: opts.name, KeyType: kt, Days: opts.issue.days}
	if opts.role == pki.RoleServer {
		if req.DNSNames, req.IPs, err = pki.ParseSANs(opts.sans); err != nil {
			return inputError("--san: %v", err)
		}
		if len(req.DNSNames)+len(req.IPs) == 0 {
			return inputError("--san is required: give every DNS name and IP address clients use to reach the daemon, for example --san docker.example.com,10.0.0.5")
		}
		if req.CommonName == "" {
			req.CommonName = firstSAN(req)
		}
	}
	if opts.out != "" && opts.ca.cert == "" && opts.ca.key == "" {
		// Like init: a CA in the output directory signs what goes there.
		if _, err := os.Lstat(filepath.Join(opts.out, layout.DaemonCAFile)); err == nil {
			opts.ca.dir = opts.out
		}
	}
	ca, caPath, _, err := opts.ca.load()
	if err != nil {
		return err
	}
	iss, err := ca.Issue(req)
	if err != nil {
		return asInputError(err)
	}
	out := opts.out
	if out == "" {
		out = ownDir()
	}
	certName, keyName, what := layout.ClientCertFile, layout.ClientKeyFile, "client"
	if base := fileBase(opts.name); opts.role == pki.RoleClient && opts.name != defaultClientName {
		// One pair per client name, beside init's cert.pem/key.pem.
		certName, keyName = base+"-cert.pem", base+"-key.pem"
	}
	if opts.role == pki.RoleServer {
		certName, keyName, what = layout.DaemonCertFile, layout.DaemonKeyFile, "daemon"
	}
	var plan fsutil.Plan
	if err := addIssued(&plan, iss, filepath.Join(out, certName), filepath.Join(out, keyName), what); err != nil {
		return err
	}
	w := dockerCli.Out()
	fmt.Fprintf(w, "Issuing a %s certificate signed by %s: %s\n", what, caPath, describeCert(iss.Cert))
	for _, n := range iss.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	replaced := replaces(plan.Preview(opts.force))
	if err := applyPlan(w, &plan, opts.force); err != nil {
		return err
	}
	if opts.role == pki.RoleServer {
		// A replaced daemon certificate replaces the installed one too.
		fmt.Fprintf(w, "\nNext, on the daemon host: sudo docker tls install daemon --cert %s --key %s --client-ca %s%s\n",
			filepath.Join(out, certName), filepath.Join(out, keyName), caPath, forceFlag(replaced))
	} else {
		fmt.Fprintf(w, "\nNext: docker tls install client --context <name> --host tcp://<daemon>:2376 --ca <CA that signed the daemon> --cert %s --key %s\n",
			filepath.Join(out, certName), filepath.Join(out, keyName))
	}
	return nil
}

func firstSAN(r pki.Request) string {
	if len(r.DNSNames) > 0 {
		return r.DNSNames[0]
	}
	return r.IPs[0].String()
}

// replaces reports whether applying the steps replaces an existing file.
func replaces(steps []fsutil.Step) bool {
	for _, s := range steps {
		if s.Action == fsutil.ActionReplace {
			return true
		}
	}
	return false
}

// forceFlag is " --force" for a next command that must replace what an
// earlier install put in place.
func forceFlag(on bool) string {
	if on {
		return " --force"
	}
	return ""
}

// defaultClientName is the client certificate's common name init and
// issue client use; its files are Docker's cert.pem and key.pem.
const defaultClientName = "client"

// fileBase turns a common name into a file name part: letters, digits and
// ._@- kept, anything else "_".
func fileBase(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '@' || c == '-') {
			b[i] = '_'
		}
	}
	s := strings.TrimLeft(string(b), ".")
	if s == "" {
		return "client"
	}
	return s
}
