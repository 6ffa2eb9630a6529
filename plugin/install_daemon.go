package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/daemoncfg"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

type installDaemonOptions struct {
	cert           string
	key            string
	clientCAs      []string
	noClientVerify bool
	hosts          []string
	dir            string
	daemonJSON     string
	root           string
	writeDropIn    bool
	dryRun         bool
	force          bool
	// elsewhere: --dir or --daemon-json was given (files prepared for a
	// daemon on another machine).
	elsewhere bool
}

const defaultDaemonHost = "tcp://0.0.0.0:2376"
const defaultUnixHost = "unix:///var/run/docker.sock"

func installDaemonCmd(dockerCli command.Cli) *cobra.Command {
	var o installDaemonOptions
	cmd := &cobra.Command{
		Use:   "daemon [OPTIONS]",
		Short: "Install the daemon's certificate and client CA, and configure daemon.json",
		Long: `Write the daemon's certificate and key and the CA that signs client
certificates where dockerd reads them (default /etc/docker: server-cert.pem,
server-key.pem, ca.pem), and merge hosts, tls, tlsverify, tlscacert, tlscert
and tlskey into daemon.json, keeping every other key.

By default clients must present a certificate signed by --client-ca
(tlsverify). --no-client-verify writes "tlsverify": false explicitly:
dockerd's --tls alone still demands client certificates.

If the docker.service unit passes -H (or TLS flags) on its command line,
dockerd refuses to start with "hosts" in daemon.json; the command prints the
systemd drop-in that resolves it (--write-dropin writes it).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.elsewhere = cmd.Flags().Changed("dir") || cmd.Flags().Changed("daemon-json")
			return runInstallDaemon(cmd.Context(), dockerCli, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.cert, "cert", "", "Daemon certificate (default $DOCKER_CONFIG/tls/server-cert.pem)")
	f.StringVar(&o.key, "key", "", "Daemon private key (default $DOCKER_CONFIG/tls/server-key.pem)")
	f.StringSliceVar(&o.clientCAs, "client-ca", nil, "CA(s) whose client certificates the daemon accepts (repeatable; default $DOCKER_CONFIG/tls/ca.pem)")
	f.BoolVar(&o.noClientVerify, "no-client-verify", false, "Do not require client certificates (\"tlsverify\": false)")
	f.StringSliceVarP(&o.hosts, "host", "H", nil, "Address(es) for dockerd to listen on (default "+defaultDaemonHost+", plus the local socket)")
	f.StringVar(&o.dir, "dir", layout.DefaultDaemonDir, "Directory for the daemon's TLS files")
	f.StringVar(&o.daemonJSON, "daemon-json", "", "daemon.json to update (default DIR/daemon.json)")
	f.StringVar(&o.root, "root", "/", "Look for the systemd unit under this directory instead of /")
	f.BoolVar(&o.writeDropIn, "write-dropin", false, "Write the systemd drop-in that removes conflicting ExecStart flags")
	f.BoolVar(&o.dryRun, "dry-run", false, "Show what would be written and write nothing")
	f.BoolVarP(&o.force, "force", "f", false, "Replace existing different files (old files are kept as backups)")
	return cmd
}

func runInstallDaemon(_ context.Context, dockerCli command.Cli, o *installDaemonOptions) error {
	if err := checkOutDir("--dir", o.dir); err != nil {
		return err
	}
	w := dockerCli.Out()
	ctxName, cliHost := cliEndpoint(dockerCli)
	if err := desktopDaemon(runtime.GOOS, ctxName, cliHost, o.elsewhere); err != nil {
		return err
	}
	def := func(v, name string) string {
		if v != "" {
			return v
		}
		return filepath.Join(ownDir(), name)
	}
	certPath, keyPath := def(o.cert, layout.DaemonCertFile), def(o.key, layout.DaemonKeyFile)
	certPEM, err := readCert(certPath, "daemon certificate")
	if err != nil {
		return err
	}
	keyPEM, err := readInput(keyPath, "daemon private key")
	if err != nil {
		return err
	}
	key, err := pki.ParsePrivateKey(keyPath, keyPEM)
	if err != nil {
		return asInputError(err)
	}
	certs, _ := pki.ParseCertificates(certPath, certPEM)
	srv := certs[0]
	if !pki.KeyMatches(key, srv.PublicKey) {
		return inputError("%s does not match %s: the key's public key (%s) is not the certificate's (%s)", keyPath, certPath, pki.DescribeKey(key.Public()), pki.DescribeKey(srv.PublicKey))
	}
	if srv.IsCA {
		return inputError("%s: found a CA certificate (%q), expected the daemon's own certificate", certPath, srv.Subject.CommonName)
	}
	if !pki.AllowsUsage(srv, x509.ExtKeyUsageServerAuth) {
		return inputError("%s: certificate %q does not allow server authentication (extended key usage %s, expected serverAuth); clients would fail with \"x509: certificate specifies an incompatible key usage\"", certPath, srv.Subject.CommonName, strings.Join(pki.ExtKeyUsageNames(srv), ","))
	}
	if len(srv.DNSNames)+len(srv.IPAddresses) == 0 {
		return inputError("%s: certificate %q has no subject alternative names; Docker clients reject it (\"x509: certificate relies on legacy Common Name field, use SANs instead\"): reissue it with 'docker tls issue server --san …'", certPath, srv.Subject.CommonName)
	}

	var caBundle []byte
	if !o.noClientVerify {
		cas := o.clientCAs
		if len(cas) == 0 {
			cas = []string{def("", layout.DaemonCAFile)}
		}
		for _, p := range cas {
			data, err := readCert(p, "client CA certificate")
			if err != nil {
				return err
			}
			cs, _ := pki.ParseCertificates(p, data)
			for _, c := range cs {
				if !c.IsCA {
					return inputError("%s: found a certificate for %q that is not a CA (no basicConstraints CA:TRUE), expected the CA that signs client certificates", p, c.Subject.CommonName)
				}
				caBundle = append(caBundle, pki.EncodeCert(c)...)
			}
		}
	} else if len(o.clientCAs) > 0 {
		return inputError("--no-client-verify was given with --client-ca: without client verification the daemon uses no client CA")
	}

	hosts := o.hosts
	if len(hosts) == 0 {
		hosts = []string{defaultDaemonHost}
	}
	for _, h := range hosts {
		if !strings.Contains(h, "://") {
			return inputError("--host %q: expected a URL such as tcp://0.0.0.0:2376 or unix:///var/run/docker.sock", h)
		}
		if err := daemoncfg.CheckHost(h); err != nil {
			return inputError("--host %q: dockerd would fail to start (%v): expected a URL such as tcp://0.0.0.0:2376 (port 1-65535) or unix:///var/run/docker.sock", h, err)
		}
	}

	dir := o.dir
	jsonPath := o.daemonJSON
	if jsonPath == "" {
		jsonPath = filepath.Join(dir, layout.DaemonJSONName)
	}
	// daemon.json is read and then replaced: refuse a link before reading
	// through it (the plan would refuse to write it anyway).
	if err := fsutil.RefuseLinks(jsonPath); err != nil {
		return asInputError(err)
	}
	var oldJSON []byte
	if data, err := fsutil.ReadFile(jsonPath); err == nil {
		oldJSON = data
	} else if !errors.Is(err, fs.ErrNotExist) {
		return inputError("%s: cannot read daemon.json: %v", jsonPath, err)
	}
	cfg, err := daemoncfg.Parse(jsonPath, oldJSON)
	if err != nil {
		return asInputError(err)
	}
	orig, _ := daemoncfg.Parse(jsonPath, oldJSON)
	caDst := filepath.Join(dir, layout.DaemonCAFile)
	certDst := filepath.Join(dir, layout.DaemonCertFile)
	keyDst := filepath.Join(dir, layout.DaemonKeyFile)
	notes, err := mergeDaemonTLS(cfg, jsonPath, hosts, caDst, certDst, keyDst, o.noClientVerify)
	if err != nil {
		return err
	}

	var plan fsutil.Plan
	if !o.noClientVerify {
		plan.Add(caDst, caBundle, 0o644, "CA for client certificates")
	}
	plan.Add(certDst, certPEM, 0o644, "daemon certificate")
	plan.Add(keyDst, keyPEM, 0o600, "daemon private key")
	// daemon.json is merged, not replaced: the new content is the old one
	// with only the keys docker-tls manages changed, so it is written
	// without --force (the old file is kept as a backup).
	var jsonPlan fsutil.Plan
	jsonPlan.Add(jsonPath, cfg.Marshal(), 0o644, "daemon configuration")
	changed := changedKeys(orig, cfg)
	if len(oldJSON) > 0 && len(changed) > 0 {
		notes = append(notes, fmt.Sprintf("merged into %s: %s; every other key kept as it was", jsonPath, strings.Join(changed, ", ")))
	}

	units := daemoncfg.ReadUnitFiles(o.root)
	exec, hasExec := daemoncfg.EffectiveExecStart(units)
	var conflicts []string
	if hasExec {
		conflicts = daemoncfg.FlagsAlsoInFile(exec.Args, cfg.Keys())
	}
	dropIn := daemoncfg.DropIn(exec.Args, conflicts)
	_, removed := daemoncfg.SplitFlags(exec.Args, conflicts)
	if len(conflicts) > 0 && o.writeDropIn {
		plan.Add(filepath.Join(o.root, daemoncfg.DropInPath), []byte(dropIn), 0o644, "systemd drop-in")
	}
	warnConflicts := func() {
		if len(conflicts) == 0 {
			return
		}
		fmt.Fprintf(w, "\nWarning: %s starts dockerd with %s on the command line (%s), and daemon.json now sets %s too:\n"+
			"dockerd refuses to start (\"the following directives are specified both as a flag and in the configuration file\").\n",
			daemoncfg.ServiceName, daemoncfg.JoinCommand(removed), exec.Source, strings.Join(conflicts, ", "))
		if o.writeDropIn {
			fmt.Fprintf(w, "The drop-in %s starts dockerd without those flags, keeping the others:\n  %s", daemoncfg.DropInPath, strings.ReplaceAll(strings.TrimSpace(dropIn), "\n", "\n  "))
			fmt.Fprintln(w)
		} else {
			fmt.Fprintf(w, "Resolve it with this drop-in, which starts dockerd without those flags and keeps the others (or rerun with --write-dropin):\n  sudo mkdir -p %s\n  printf %s | sudo tee %s\n",
				daemoncfg.DropInDir, daemoncfg.PrintfFormat(dropIn), daemoncfg.DropInPath)
		}
		fmt.Fprintf(w, "  sudo systemctl daemon-reload\n")
	}

	if o.dryRun {
		steps := plan.Preview(o.force)
		n := len(steps)
		if len(conflicts) > 0 && o.writeDropIn {
			n-- // the drop-in goes last
		}
		jsonSteps := jsonPlan.Preview(true)
		if jsonSteps[0].Action == fsutil.ActionReplace {
			jsonSteps[0].Reason = "merged, old file kept as a backup: " + strings.Join(changed, ", ")
		}
		steps = append(steps[:n:n], append(jsonSteps, steps[n:]...)...)
		printDryRun(w, steps)
		warnConflicts()
		return nil
	}
	// Nothing is written when any file is in the way: daemon.json (a
	// link, a special file) is checked before the certificates are written.
	for _, s := range jsonPlan.Preview(true) {
		if s.Action == fsutil.ActionConflict {
			_, err := jsonPlan.Apply(true)
			return asInputError(err)
		}
	}
	fmt.Fprintf(w, "Installing the daemon's TLS material for %s\n", describeCert(srv))
	if err := applyPlan(w, &plan, o.force); err != nil {
		return err
	}
	if err := applyPlan(w, &jsonPlan, true); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	warnConflicts()
	fmt.Fprintf(w, "\nNext:\n  sudo systemctl restart docker    (or restart dockerd however it is run)\n")
	host := tcpHostFor(srv, hosts)
	ctx := contextNameFor(strings.TrimSuffix(strings.TrimPrefix(host, "tcp://"), ":"+host[strings.LastIndexByte(host, ':')+1:]))
	if o.noClientVerify {
		fmt.Fprintf(w, "  docker tls install client --context %s --host %s --ca <CA that signed %s> --no-client-cert\n", ctx, host, certPath)
	} else {
		fmt.Fprintf(w, "  docker tls install client --context %s --host %s --ca <CA that signed %s> --cert <client cert> --key <client key>\n", ctx, host, certPath)
	}
	return nil
}

// changedKeys says which keys a merge adds, changes or removes.
func changedKeys(old, cur *daemoncfg.Object) []string {
	var out []string
	for _, k := range cur.Keys() {
		was, had := old.Raw(k)
		now, _ := cur.Raw(k)
		switch {
		case !had:
			out = append(out, "added "+k)
		case !jsonEqual(was, now):
			out = append(out, "changed "+k)
		}
	}
	for _, k := range old.Keys() {
		if _, ok := cur.Raw(k); !ok {
			out = append(out, "removed "+k)
		}
	}
	return out
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	return reflect.DeepEqual(x, y)
}

func isLocalHost(h string) bool {
	return strings.HasPrefix(h, "unix://") || strings.HasPrefix(h, "fd://") || strings.HasPrefix(h, "npipe://")
}

// tcpHostFor suggests the address clients use: the first TCP host with its
// wildcard address replaced by the certificate's first SAN.
func tcpHostFor(c *x509.Certificate, hosts []string) string {
	port := fmt.Sprint(layout.DefaultTLSPort)
	for _, h := range hosts {
		if rest, ok := strings.CutPrefix(h, "tcp://"); ok {
			if i := strings.LastIndexByte(rest, ':'); i >= 0 {
				port = rest[i+1:]
			}
			break
		}
	}
	name, _ := clientHostName(pki.Request{DNSNames: c.DNSNames, IPs: c.IPAddresses})
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	return "tcp://" + name + ":" + port
}

// cliEndpoint is the docker CLI's current context and daemon host, for
// telling Docker Desktop apart; a CLI not initialised (no context store)
// has only $DOCKER_HOST, and is not asked (it would print an error).
func cliEndpoint(dockerCli command.Cli) (contextName, host string) {
	contextName = dockerCli.CurrentContext()
	if contextName == "" {
		return "", os.Getenv("DOCKER_HOST")
	}
	return contextName, dockerCli.DockerEndpoint().Host
}

// desktopDaemon refuses to write a Linux dockerd's files when the docker CLI
// talks to Docker Desktop (or runs on macOS or Windows, where there is no
// such dockerd), unless --dir/--daemon-json say where the files go.
func desktopDaemon(goos, contextName, host string, elsewhere bool) error {
	if elsewhere {
		return nil
	}
	desktop := layout.IsDesktop(goos, contextName, host)
	if !desktop && goos != "windows" {
		return nil
	}
	where := fmt.Sprintf("the docker CLI here talks to Docker Desktop (context %q, %s), whose daemon runs inside Desktop's VM: it is configured in Docker Desktop's Settings > Docker Engine, not from files on this machine, and Desktop does not expose it over TCP with TLS", contextName, host)
	if !desktop {
		where = "this is Windows: Docker Engine for Windows reads its configuration from %ProgramData%\\docker\\config\\daemon.json, which this command does not write"
	}
	return inputError("install daemon configures a Linux dockerd (%s, daemon.json) on this machine, but %s.\n"+
		"To protect a remote Linux daemon, copy the server certificate, key and CA to that host and run 'sudo docker tls install daemon' there,\n"+
		"or prepare the files here with --dir DIR --daemon-json DIR/daemon.json and copy DIR to the daemon host", layout.DefaultDaemonDir, where)
}
