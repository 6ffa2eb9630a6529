package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

type initOptions struct {
	sans       []string
	out        string
	clientName string
	force      bool
	issue      issueFlags
	keySet     bool // --key given: keep existing certificates only of that key type
}

func initCmd(dockerCli command.Cli) *cobra.Command {
	var opts initOptions
	cmd := &cobra.Command{
		Use:   "init --san NAME[,NAME…] [OPTIONS]",
		Short: "Create a CA, a daemon certificate and a client certificate in one step",
		Long: `Create everything a TLS-protected dockerd needs, named as Docker expects:

  ca.pem, ca-key.pem            the CA (keep ca-key.pem secret)
  server-cert.pem, server-key.pem  the daemon's certificate, for every --san
  cert.pem, key.pem             a client certificate

An existing CA in the output directory is reused. Then it prints what to run
on the daemon host and on each client.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.keySet = cmd.Flags().Changed("key")
			return runInit(cmd.Context(), dockerCli, &opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.sans, "san", nil, "DNS names and IP addresses of the daemon (repeat or comma-separate)")
	f.StringVarP(&opts.out, "out", "o", "", "Directory to write to (default $DOCKER_CONFIG/tls)")
	f.StringVar(&opts.clientName, "client-name", "client", "Common name of the client certificate")
	f.BoolVarP(&opts.force, "force", "f", false, "Replace existing certificates (the old files are kept as backups)")
	opts.issue.add(f, pki.DefaultLeafDays)
	return cmd
}

func runInit(_ context.Context, dockerCli command.Cli, opts *initOptions) error {
	if err := checkOutDir("--out", opts.out); err != nil {
		return err
	}
	kt, err := opts.issue.parse()
	if err != nil {
		return err
	}
	dns, ips, err := pki.ParseSANs(opts.sans)
	if err != nil {
		return inputError("--san: %v", err)
	}
	if len(dns)+len(ips) == 0 {
		return inputError("--san is required: give every DNS name and IP address clients use to reach the daemon, for example --san docker.example.com,10.0.0.5")
	}
	out := opts.out
	if out == "" {
		out = ownDir()
	}
	p := func(name string) string { return filepath.Join(out, name) }
	w := dockerCli.Out()

	var plan fsutil.Plan
	var ca *pki.CA
	caCert, caKey := p(layout.DaemonCAFile), p(layout.CAKeyFile)
	if _, err := os.Lstat(caCert); err == nil {
		ca, _, _, err = (&caFlags{cert: caCert, key: caKey}).load()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Using the existing CA in %s: %s\n", out, describeCert(ca.Cert))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return inputError("%s: %v", caCert, err)
	} else {
		iss, err := pki.NewCA(pki.Request{KeyType: kt})
		if err != nil {
			return err
		}
		ca = &pki.CA{Cert: iss.Cert, Key: iss.Key}
		if err := addIssued(&plan, iss, caCert, caKey, "CA"); err != nil {
			return err
		}
		fmt.Fprintf(w, "Creating a CA: %s\n", describeCert(iss.Cert))
	}
	srvReq := pki.Request{Role: pki.RoleServer, DNSNames: dns, IPs: ips, KeyType: kt, Days: opts.issue.days}
	srvReq.CommonName = firstSAN(srvReq)
	cliReq := pki.Request{Role: pki.RoleClient, CommonName: opts.clientName, KeyType: kt, Days: opts.issue.days}
	var lines, why []string
	for _, leaf := range []struct {
		req            pki.Request
		certPath, what string
		keyPath, label string
	}{
		{srvReq, p(layout.DaemonCertFile), "daemon", p(layout.DaemonKeyFile), "a daemon certificate"},
		{cliReq, p(layout.ClientCertFile), "client", p(layout.ClientKeyFile), "a client certificate"},
	} {
		// Re-running init keeps what already is what it would issue.
		want := leaf.req
		if !opts.keySet {
			want.KeyType = ""
		}
		if cert, ok, reason := existingLeaf(ca, want, leaf.certPath, leaf.keyPath); ok {
			lines = append(lines, fmt.Sprintf("Using the existing %s certificate in %s: %s", leaf.what, out, describeCert(cert)))
			continue
		} else if reason != "" {
			why = append(why, fmt.Sprintf("%s: %s", leaf.certPath, reason))
		}
		iss, err := ca.Issue(leaf.req)
		if err != nil {
			return asInputError(err)
		}
		if err := addIssued(&plan, iss, leaf.certPath, leaf.keyPath, leaf.what); err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("Issuing %s: %s", leaf.label, describeCert(iss.Cert)))
		for _, n := range iss.Notes {
			lines = append(lines, "Note: "+n)
		}
	}
	// Refuse before saying "Issuing" for files that are then not written.
	if !opts.force {
		for _, st := range plan.Preview(false) {
			if st.Action == fsutil.ActionConflict {
				_, err := plan.Apply(false)
				if len(why) > 0 {
					return inputError("%v\n(%s)", err, strings.Join(why, "; "))
				}
				return asInputError(err)
			}
		}
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	replaced := replaces(plan.Preview(opts.force))
	if err := applyPlan(w, &plan, opts.force); err != nil {
		return err
	}
	name, note := clientHostName(srvReq)
	host := name
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	ctxName := contextNameFor(name)
	fmt.Fprintf(w, `
Keep %s secret: neither the daemon nor the clients need it.

Next, on the daemon host (writes /etc/docker/{ca.pem,server-cert.pem,server-key.pem} and daemon.json):
  sudo docker tls install daemon --cert %s --key %s --client-ca %s%s
  sudo systemctl restart docker

Then on each client (creates the docker context %q):
  docker tls install client --context %s --host tcp://%s:%d --ca %s --cert %s --key %s
  docker --context %s version
`, caKey, p(layout.DaemonCertFile), p(layout.DaemonKeyFile), caCert, forceFlag(replaced),
		ctxName, ctxName, host, layout.DefaultTLSPort,
		caCert, p(layout.ClientCertFile), p(layout.ClientKeyFile), ctxName)
	if note != "" {
		fmt.Fprintf(w, "(%s)\n", note)
	}
	return nil
}

// clientHostName is the name clients connect to: the first SAN that is not
// a wildcard; with wildcards only, a name the wildcard covers.
func clientHostName(r pki.Request) (name, note string) {
	for _, d := range r.DNSNames {
		if !strings.HasPrefix(d, "*.") {
			return d, ""
		}
	}
	if len(r.IPs) > 0 {
		return r.IPs[0].String(), ""
	}
	d := r.DNSNames[0]
	name = "docker" + strings.TrimPrefix(d, "*")
	return name, fmt.Sprintf("%s is an example: use the daemon's own name under %s", name, d)
}

// contextNameFor derives a docker context name for a daemon host that
// docker context create accepts (store.ValidateContextName:
// ^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$): "tls-" and the host, with every other
// character (":" of IPv6, "*") replaced by "-".
func contextNameFor(host string) string {
	b := []byte("tls-" + strings.Trim(host, "[]"))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.+-", c) >= 0) {
			b[i] = '-'
		}
	}
	return string(b)
}

// existingLeaf reads a certificate and key init wrote before and says
// whether they already are what req asks for; reason says why not when
// they exist but differ.
func existingLeaf(ca *pki.CA, req pki.Request, certPath, keyPath string) (*x509.Certificate, bool, string) {
	certPEM, err := fsutil.ReadFile(certPath)
	if err != nil {
		return nil, false, ""
	}
	keyPEM, err := fsutil.ReadFile(keyPath)
	if err != nil {
		return nil, false, ""
	}
	certs, err := pki.ParseCertificates(certPath, certPEM)
	if err != nil {
		return nil, false, "not a certificate"
	}
	key, err := pki.ParsePrivateKey(keyPath, keyPEM)
	if err != nil {
		return nil, false, "its key does not parse"
	}
	ok, why := ca.Satisfies(req, certs[0], key, time.Now())
	return certs[0], ok, why
}
