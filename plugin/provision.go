package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/doctor"
	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/doctor/render"
	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/daemoncfg"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker-tls/docker-tls/pki/remote"
	"github.com/docker/cli/cli"
	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/context/docker"
	"github.com/spf13/cobra"
)

// provisionRecord is what provision remembers about a daemon (in
// $DOCKER_CONFIG/tls/provisioned/CONTEXT.json) so that rotate can redo it.
type provisionRecord struct {
	URL        string   `json:"url"`
	SSHConfig  string   `json:"sshConfig,omitempty"`
	Context    string   `json:"context"`
	Address    string   `json:"address,omitempty"`
	SANs       []string `json:"sans,omitempty"`
	Hosts      []string `json:"hosts"`
	Dir        string   `json:"dir"`
	DaemonJSON string   `json:"daemonJson"`
	RestartCmd string   `json:"restartCmd,omitempty"`
	DaemonLog  string   `json:"daemonLog,omitempty"`
	CACert     string   `json:"caCert,omitempty"`
	CAKey      string   `json:"caKey,omitempty"`
	ClientName string   `json:"clientName,omitempty"`
	ClientCert string   `json:"clientCert,omitempty"`
	ClientKey  string   `json:"clientKey,omitempty"`
	Wait       string   `json:"wait,omitempty"`

	file string // where it was read from
}

type provisionOptions struct {
	rec     provisionRecord
	wait    time.Duration
	dryRun  bool
	ca      caFlags
	issue   issueFlags
	keyFlag bool
}

// renewWithin is when provision replaces a certificate that is still valid.
const renewWithin = 30 * 24 * time.Hour

func provisionCmd(dockerCli command.Cli) *cobra.Command {
	var o provisionOptions
	cmd := &cobra.Command{
		Use:   "provision [OPTIONS] ssh://[USER@]HOST[:PORT]",
		Short: "Secure a remote daemon over ssh: certificates, daemon.json, restart, docker context",
		Long: `Set up TLS for the dockerd of another host through the system ssh client
(as docker's own ssh:// connection: ~/.ssh/config, the agent and known_hosts
are honoured), as docker-machine create did:

  1. learn the host's names and addresses (hostname, hostname -f, its IPs)
  2. issue its server certificate (those, the ssh host name and --san),
     signed by the docker-tls CA or --ca-cert/--ca-key
  3. upload the CA and the server files atomically (root, or sudo -n)
  4. merge daemon.json as 'install daemon' does (a backup is kept), and add
     the systemd drop-in when docker.service passes -H (fd://) itself
  5. restart dockerd (systemctl restart docker, or --restart-cmd) and wait
     for the TLS port; when it does not come back, restore the previous
     files, restart again and print the daemon's error
  6. create the docker context --context with a client certificate, run
     the doctor against it, and check that 'docker --context NAME version'
     works (the exit status says whether it did)

A certificate that is still valid, signed by the CA and covering the host's
names is kept: a re-run with nothing changed changes nothing.
--dry-run prints the plan and changes nothing.`,
		Example: `  docker tls provision ssh://admin@docker.example.com --context prod
  docker tls provision ssh://prod-host --dry-run
  docker tls provision ssh://root@10.0.0.5:2222 --san docker.example.com -H tcp://0.0.0.0:2376
  docker tls provision ssh://ci@build-1 --ca-cert corp-ca.pem --ca-key corp-ca-key.pem
  docker tls provision ssh://box --restart-cmd "rc-service docker restart" --daemon-log /var/log/docker.log`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(cmd, fmt.Errorf("%s: '%s' requires exactly one ssh://[USER@]HOST[:PORT] argument", binName(cmd), cmd.CommandPath()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.rec.URL = args[0]
			o.keyFlag = cmd.Flags().Changed("key")
			return runProvision(cmd.Context(), dockerCli, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.rec.Context, "context", "", "Name of the docker context to create (default: the ssh host name)")
	f.StringVar(&o.rec.Address, "address", "", "Name or address clients use to reach the daemon (default: the host name ssh connects to)")
	f.StringSliceVar(&o.rec.SANs, "san", nil, "More DNS names and IP addresses for the server certificate")
	f.StringSliceVarP(&o.rec.Hosts, "host", "H", nil, "Address(es) for dockerd to listen on (default "+defaultDaemonHost+", plus the local socket)")
	f.StringVar(&o.rec.Dir, "dir", layout.DefaultDaemonDir, "Directory for the daemon's TLS files on the host")
	f.StringVar(&o.rec.DaemonJSON, "daemon-json", "", "daemon.json on the host (default DIR/daemon.json)")
	f.StringVar(&o.rec.RestartCmd, "restart-cmd", "", "Command that restarts dockerd on the host (default: systemctl restart docker)")
	f.StringVar(&o.rec.DaemonLog, "daemon-log", "", "dockerd's log file on the host, shown when it fails to start (default: journalctl -u docker)")
	f.StringVar(&o.rec.SSHConfig, "ssh-config", "", "ssh configuration file (ssh -F)")
	f.StringVar(&o.rec.ClientName, "client-name", "", "Common name of the client certificate (default docker-tls-client)")
	f.StringVar(&o.rec.ClientCert, "client-cert", "", "Use this client certificate for the context instead of issuing one (with --client-key)")
	f.StringVar(&o.rec.ClientKey, "client-key", "", "Private key of --client-cert")
	f.DurationVar(&o.wait, "wait", 60*time.Second, "How long to wait for dockerd's TLS port after the restart")
	f.BoolVar(&o.dryRun, "dry-run", false, "Print the plan, change nothing")
	o.ca.add(f)
	o.issue.add(f, pki.DefaultLeafDays)
	return cmd
}

func runProvision(ctx context.Context, dockerCli command.Cli, o *provisionOptions) error {
	kt, err := o.issue.parse()
	if err != nil {
		return err
	}
	if _, err := remote.ParseURL(o.rec.URL); err != nil {
		return asInputError(err)
	}
	ca, caPath, caKeyPath, err := o.ca.load()
	if err != nil {
		return err
	}
	if o.ca.cert != "" {
		o.rec.CACert, o.rec.CAKey = caPath, caKeyPath
	}
	if o.wait <= 0 {
		return inputError("invalid --wait %s: expected a positive duration such as 60s", o.wait)
	}
	o.rec.Wait = o.wait.String()
	job := &provisionJob{
		rec:     o.rec,
		ca:      ca,
		caLabel: caPath,
		trust:   pki.EncodeCert(ca.Cert),
		days:    o.issue.days,
		dryRun:  o.dryRun,
		wait:    o.wait,
		within:  renewWithin,
	}
	if o.keyFlag {
		job.keyType = kt
	}
	return job.run(ctx, dockerCli)
}

// provisionJob is one provisioning pass: what signs, what is trusted, what
// must be re-issued.
type provisionJob struct {
	rec     provisionRecord
	ca      *pki.CA
	caLabel string
	// trust is the CA bundle the daemon (tlscacert) and the client (ca.pem)
	// trust: the signing CA, or old and new CA during a CA rotation.
	trust []byte
	// keyType, when set, is the key type of new certificates; otherwise
	// the old certificate's is kept (default for new ones).
	keyType     pki.KeyType
	days        int
	forceServer bool
	forceClient bool
	// within: certificates expiring within this are re-issued.
	within time.Duration
	dryRun bool
	wait   time.Duration
	quiet  bool // no doctor report (rotation steps in between)
	// locked: the caller holds the host's locks (a CA rotation holds
	// them over its three steps).
	locked bool
}

// remoteChange is one file provision puts on the host.
type remoteChange struct {
	path string
	old  remote.File
	data []byte
	mode fs.FileMode
	what string
}

func (c remoteChange) action() string {
	switch {
	case !c.old.Exists:
		return "create"
	case bytes.Equal(c.old.Data, c.data):
		return "unchanged"
	}
	return "replace"
}

func (j *provisionJob) run(ctx context.Context, dockerCli command.Cli) error {
	if !j.locked && !j.dryRun {
		release, err := lockRecord(ctx, j.rec)
		if err != nil {
			return err
		}
		defer release()
	}
	err := j.provision(ctx, dockerCli)
	var re *remote.Error
	switch {
	case errors.Is(err, remote.ErrSudoPassword):
		return asInputError(err) // the host's sudo setup: exit 2
	case errors.As(err, &re):
		return notDone(err) // ssh or a remote command failed: exit 1
	}
	return err
}

func (j *provisionJob) provision(ctx context.Context, dockerCli command.Cli) error {
	w := dockerCli.Out()
	rec := &j.rec
	t, err := remote.ParseURL(rec.URL)
	if err != nil {
		return asInputError(err)
	}
	t.ConfigFile = rec.SSHConfig
	if rec.Context == "" {
		rec.Context = t.Host
	}
	if len(rec.Hosts) == 0 {
		rec.Hosts = []string{defaultDaemonHost}
	}
	if rec.Dir == "" {
		rec.Dir = layout.DefaultDaemonDir
	}
	if rec.DaemonJSON == "" {
		rec.DaemonJSON = path.Join(rec.Dir, layout.DaemonJSONName)
	}
	port := fmt.Sprint(layout.DefaultTLSPort)
	for _, h := range rec.Hosts {
		if !strings.Contains(h, "://") {
			return inputError("--host %q: expected a URL such as tcp://0.0.0.0:2376", h)
		}
		if err := daemoncfg.CheckHost(h); err != nil {
			return inputError("--host %q: dockerd would fail to start (%v): expected a URL such as tcp://0.0.0.0:2376 (port 1-65535) or unix:///var/run/docker.sock", h, err)
		}
	}
	for _, h := range rec.Hosts {
		if rest, ok := strings.CutPrefix(h, "tcp://"); ok {
			if _, p, err := net.SplitHostPort(rest); err == nil {
				port = p
			}
			break // clients use the first TCP address
		}
	}
	if !slices.ContainsFunc(rec.Hosts, func(h string) bool { return strings.HasPrefix(h, "tcp://") }) {
		return inputError("--host %s: no tcp:// address; TLS is for TCP connections", strings.Join(rec.Hosts, ","))
	}
	// A context of the user's own is not taken over.
	if _, err := dockerCli.ContextStore().GetMetadata(rec.Context); err == nil {
		if _, err := os.Stat(provisionRecordPath(rec.Context)); err != nil {
			return inputError("docker context %q exists and was not created by 'docker tls provision': choose another --context, or remove it first (docker context rm %s)", rec.Context, rec.Context)
		}
	}
	res, err := t.Resolve(ctx)
	if err != nil {
		return err
	}
	address := res.HostName
	if rec.Address != "" {
		address = strings.Trim(rec.Address, "[]")
	}
	ctxHost := "tcp://" + net.JoinHostPort(address, port)

	facts, err := t.Facts(ctx)
	if err != nil {
		return err
	}
	caDst, certDst, keyDst := path.Join(rec.Dir, layout.DaemonCAFile), path.Join(rec.Dir, layout.DaemonCertFile), path.Join(rec.Dir, layout.DaemonKeyFile)
	files, err := t.ReadFiles(ctx, []string{caDst, certDst, keyDst, rec.DaemonJSON})
	if err != nil {
		return err
	}
	for _, p := range []string{caDst, certDst, keyDst, rec.DaemonJSON} {
		if f := files[p]; f.Problem != "" {
			return inputError("%s: %s on %s: %s", t.URL, p, res.HostName, f.Problem)
		}
	}
	units, err := t.UnitFiles(ctx, daemoncfg.UnitDirs, daemoncfg.ServiceName)
	if err != nil {
		return err
	}

	// The names clients may use: the ssh host name, the host's own names
	// and addresses, --san.
	var notes []string
	var dns []string
	var ips []net.IP
	addSAN := func(v string, given bool) error {
		v = strings.TrimSpace(v)
		if v == "" {
			return nil
		}
		d, i, err := pki.ParseSANs([]string{v})
		if err != nil {
			if given {
				return inputError("--san: %v", err)
			}
			notes = append(notes, fmt.Sprintf("left %q out of the certificate: %v", v, err))
			return nil
		}
		for _, n := range d {
			if !slices.ContainsFunc(dns, func(x string) bool { return strings.EqualFold(x, n) }) {
				dns = append(dns, n)
			}
		}
		for _, ip := range i {
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
		}
		return nil
	}
	if rec.Address != "" {
		if err := addSAN(address, true); err != nil {
			return inputError("--address %q: %v", rec.Address, err)
		}
	}
	_ = addSAN(res.HostName, false)
	_ = addSAN(facts.Hostname, false)
	_ = addSAN(facts.FQDN, false)
	for _, ip := range facts.IPs {
		_ = addSAN(ip.String(), false)
	}
	for _, s := range rec.SANs {
		if err := addSAN(s, true); err != nil {
			return err
		}
	}

	// Server certificate: keep a good one, else issue (keeping the old
	// certificate's names and key type).
	var srvCert *x509.Certificate
	var srvCertPEM, srvKeyPEM []byte
	var oldSrv *x509.Certificate
	if f := files[certDst]; f.Exists {
		if cs, err := pki.ParseCertificates(certDst, f.Data); err == nil {
			oldSrv = cs[0]
		}
	}
	srvReason := "no server certificate on the host"
	if oldSrv != nil {
		srvReason = j.reuseReason(oldSrv, files[keyDst], keyDst, j.forceServer, "server")
		if srvReason == "" {
			if missing := missingSANs(oldSrv, dns, ips); len(missing) > 0 {
				srvReason = "it does not cover " + strings.Join(missing, ", ")
			}
		}
		if srvReason == "" {
			srvCert, srvCertPEM, srvKeyPEM = oldSrv, files[certDst].Data, files[keyDst].Data
		} else {
			for _, n := range oldSrv.DNSNames {
				_ = addSAN(n, false)
			}
			for _, ip := range oldSrv.IPAddresses {
				_ = addSAN(ip.String(), false)
			}
		}
	}
	if srvCert == nil {
		if len(dns)+len(ips) == 0 {
			return inputError("%s: found no name or address for the server certificate; give them with --san", t.URL)
		}
		req := pki.Request{Role: pki.RoleServer, DNSNames: dns, IPs: ips, KeyType: j.keyType, Days: j.days}
		if req.KeyType == "" && oldSrv != nil {
			req.KeyType = keyTypeOf(oldSrv.PublicKey)
		}
		if oldSrv != nil && srvReason != "" && oldSrv.Subject.CommonName != "" {
			req.CommonName = oldSrv.Subject.CommonName
		} else {
			req.CommonName = firstSAN(req)
		}
		iss, err := j.ca.Issue(req)
		if err != nil {
			return asInputError(err)
		}
		notes = append(notes, iss.Notes...)
		srvCert, srvCertPEM = iss.Cert, iss.CertPEM()
		if srvKeyPEM, err = iss.KeyPEM(); err != nil {
			return err
		}
	}

	// daemon.json, merged as install daemon merges it.
	oldJSON := files[rec.DaemonJSON]
	cfg, err := daemoncfg.Parse(t.URL+":"+rec.DaemonJSON, oldJSON.Data)
	if err != nil {
		return asInputError(err)
	}
	jsonNotes, err := mergeDaemonTLS(cfg, rec.DaemonJSON, rec.Hosts, caDst, certDst, keyDst, false)
	if err != nil {
		return err
	}
	notes = append(notes, jsonNotes...)
	newJSON := cfg.Marshal()
	if oldJSON.Exists {
		if oc, err := daemoncfg.Parse(rec.DaemonJSON, oldJSON.Data); err == nil && bytes.Equal(oc.Marshal(), newJSON) {
			newJSON = oldJSON.Data // same settings: leave the file as it is
		}
	}

	// Clients of another CA the daemon trusted so far lose access: say so.
	if f := files[caDst]; f.Exists && !bytes.Equal(f.Data, j.trust) {
		if old, err := pki.ParseCertificates(caDst, f.Data); err == nil {
			newCAs, _ := pki.ParseCertificates("trust", j.trust)
			for _, c := range old {
				if !slices.ContainsFunc(newCAs, c.Equal) {
					notes = append(notes, fmt.Sprintf("%s trusted %q so far; it will no longer: clients with certificates it signed will be refused", caDst, c.Subject.CommonName))
				}
			}
		}
	}
	changes := []remoteChange{
		{path: caDst, old: files[caDst], data: j.trust, mode: 0o644, what: "CA for client certificates"},
		{path: certDst, old: files[certDst], data: srvCertPEM, mode: 0o644, what: "daemon certificate"},
		{path: keyDst, old: files[keyDst], data: srvKeyPEM, mode: 0o600, what: "daemon private key"},
		{path: rec.DaemonJSON, old: oldJSON, data: newJSON, mode: 0o644, what: "daemon configuration"},
	}
	// The unit's own -H fd:// (or TLS flags) conflict with daemon.json:
	// the drop-in starts dockerd without them, keeping its other flags.
	execStart, hasExec := daemoncfg.EffectiveExecStart(daemoncfg.FindUnitFiles(remoteUnitFS(units)))
	dropInChanged := false
	if hasExec {
		if conflicts := daemoncfg.FlagsAlsoInFile(execStart.Args, cfg.Keys()); len(conflicts) > 0 {
			_, removed := daemoncfg.SplitFlags(execStart.Args, conflicts)
			c := remoteChange{path: daemoncfg.DropInPath, old: units[daemoncfg.DropInPath], data: []byte(daemoncfg.DropIn(execStart.Args, conflicts)), mode: 0o644, what: "systemd drop-in"}
			changes = append(changes, c)
			dropInChanged = c.action() != "unchanged"
			notes = append(notes, fmt.Sprintf("%s starts dockerd with %s (%s), which conflicts with %s in daemon.json: the drop-in %s starts it without those flags, keeping the others",
				daemoncfg.ServiceName, strings.Join(removed, " "), execStart.Source, strings.Join(conflicts, ", "), daemoncfg.DropInPath))
		}
	}

	// Client material for the context.
	cm, clientReason, err := j.clientMaterial(dockerCli, rec.Context)
	if err != nil {
		return err
	}

	restart := rec.RestartCmd
	if restart == "" {
		restart = "systemctl restart docker"
	}
	changed := false
	for _, c := range changes {
		changed = changed || c.action() != "unchanged"
	}

	// The plan.
	who := res.HostName
	if res.User != "" {
		who = res.User + "@" + who
	}
	if res.Port != "" && res.Port != "22" {
		who += ":" + res.Port
	}
	fmt.Fprintf(w, "Provisioning %s (%s, host %s)\n", t.URL, who, facts.Hostname)
	if srvReason == "" {
		fmt.Fprintf(w, "  keep      the server certificate on the host: %s\n", describeCert(srvCert))
	} else {
		fmt.Fprintf(w, "  issue     a server certificate signed by %s (%s): %s\n", j.caLabel, srvReason, describeCert(srvCert))
	}
	for _, c := range changes {
		a := c.action()
		fmt.Fprintf(w, "  %-9s %s  (%s, mode %04o)", a, c.path, c.what, c.mode)
		if a == "replace" {
			fmt.Fprintf(w, ": old content kept as %s.bak-<time>", c.path)
		}
		fmt.Fprintln(w)
	}
	if changed {
		if dropInChanged && rec.RestartCmd == "" {
			fmt.Fprintf(w, "  run       systemctl daemon-reload\n")
		}
		fmt.Fprintf(w, "  run       %s, then wait for %s\n", restart, ctxHost)
	}
	if rec.ClientCert != "" {
		fmt.Fprintf(w, "  use       the client certificate %s: %s\n", rec.ClientCert, describeCert(cm.cert))
	} else if clientReason == "" {
		fmt.Fprintf(w, "  keep      the client certificate of docker context %q: %s\n", rec.Context, describeCert(cm.cert))
	} else {
		fmt.Fprintf(w, "  issue     a client certificate (%s): %s\n", clientReason, describeCert(cm.cert))
	}
	fmt.Fprintf(w, "  context   %q: host %s\n", rec.Context, ctxHost)
	for _, n := range notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	if j.dryRun {
		fmt.Fprintf(w, "Dry run: nothing was changed.\n")
		return nil
	}

	clientTLS, err := tls.X509KeyPair(cm.files[layout.ClientCertFile], cm.files[layout.ClientKeyFile])
	if err != nil {
		return err
	}
	if changed {
		var writes []remote.Write
		for _, c := range changes {
			if c.action() != "unchanged" {
				writes = append(writes, remote.Write{Path: c.path, Data: c.data, Mode: c.mode})
			}
		}
		stamp := fsutil.Now().UTC().Format("20060102T150405")
		if err := t.WriteFiles(ctx, writes, stamp); err != nil {
			return err
		}
		fmt.Fprintf(w, "Wrote %d file(s) on %s (old versions kept as .bak-%s)\n", len(writes), res.HostName, stamp)
		err := j.restartAndWait(ctx, w, t, restart, dropInChanged, ctxHost, address, clientTLS, srvCert)
		if err != nil {
			return j.rollback(ctx, w, t, changes, restart, dropInChanged, err)
		}
		fmt.Fprintf(w, "dockerd is back, serving the new certificate on %s\n", ctxHost)
	} else {
		fmt.Fprintf(w, "Nothing to change on %s: its TLS files and daemon.json are already up to date.\n", res.HostName)
	}

	if err := j.installContext(dockerCli, ctxHost, cm); err != nil {
		return err
	}
	if err := saveProvisionRecord(rec); err != nil {
		return err
	}
	if !j.quiet {
		runProvisionDoctor(ctx, dockerCli, rec.Context, ctxHost)
	}
	return dockerVersionWorks(ctx, w, rec.Context)
}

// remoteUnitFS serves the unit files read from the host to
// daemoncfg.FindUnitFiles, which applies systemd's precedence to them.
type remoteUnitFS map[string]remote.File

func (m remoteUnitFS) ReadFile(name string) ([]byte, error) {
	f, ok := m[name]
	switch {
	case !ok || !f.Exists:
		return nil, fs.ErrNotExist
	case f.Problem != "":
		return nil, errors.New(f.Problem)
	}
	return f.Data, nil
}

func (m remoteUnitFS) ReadDir(name string) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	for p, f := range m {
		if f.Exists && path.Dir(p) == name {
			out = append(out, fileEntry(path.Base(p)))
		}
	}
	if len(out) == 0 {
		return nil, fs.ErrNotExist
	}
	return out, nil
}

// fileEntry is a regular file's directory entry.
type fileEntry string

func (e fileEntry) Name() string      { return string(e) }
func (e fileEntry) IsDir() bool       { return false }
func (e fileEntry) Type() fs.FileMode { return 0 }
func (e fileEntry) Info() (fs.FileInfo, error) {
	return nil, errors.New("no file info for a remote file")
}

// reuseReason says why a certificate on hand must be re-issued ("" when it
// can stay).
func (j *provisionJob) reuseReason(c *x509.Certificate, key remote.File, keyPath string, force bool, role string) string {
	switch {
	case force:
		return "rotation requested"
	case c.CheckSignatureFrom(j.ca.Cert) != nil:
		return "the certificate on hand is not signed by this CA"
	case time.Until(c.NotAfter) < j.within:
		return fmt.Sprintf("the certificate on hand expires on %s", c.NotAfter.UTC().Format(time.DateOnly))
	case !key.Exists:
		return "its private key is missing"
	}
	k, err := pki.ParsePrivateKey(keyPath, key.Data)
	if err != nil || !pki.KeyMatches(k, c.PublicKey) {
		return "its private key does not match"
	}
	_ = role
	return ""
}

func missingSANs(c *x509.Certificate, dns []string, ips []net.IP) []string {
	var out []string
	for _, d := range dns {
		if !slices.ContainsFunc(c.DNSNames, func(x string) bool { return strings.EqualFold(x, d) }) {
			out = append(out, d)
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			out = append(out, ip.String())
		}
	}
	return out
}

// keyTypeOf names a public key's type as --key spells it.
func keyTypeOf(pub any) pki.KeyType {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve.Params().BitSize == 384 {
			return pki.KeyECDSAP384
		}
		return pki.KeyECDSAP256
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 3072:
			return pki.KeyRSA3072
		case 4096:
			return pki.KeyRSA4096
		}
		return pki.KeyRSA2048
	case ed25519.PublicKey:
		return pki.KeyEd25519
	}
	return pki.DefaultKeyType
}

// mergeDaemonTLS sets the TLS keys of daemon.json for install daemon and
// provision alike, keeping every other key and the hosts already listed
// (plus the local socket when there were none, so local commands keep
// working). Without client verification tlscacert is removed.
func mergeDaemonTLS(cfg *daemoncfg.Object, jsonPath string, hosts []string, caDst, certDst, keyDst string, noClientVerify bool) ([]string, error) {
	var notes, existing []string
	if _, err := cfg.Get(daemoncfg.KeyHosts, &existing); err != nil {
		return nil, inputError("%s: %v (expected a list of strings)", jsonPath, err)
	}
	merged := append([]string(nil), existing...)
	if len(existing) == 0 && !slices.ContainsFunc(hosts, isLocalHost) {
		merged = append(merged, defaultUnixHost)
		notes = append(notes, "added "+defaultUnixHost+" to hosts so local docker commands keep working")
	}
	for _, h := range hosts {
		if !slices.Contains(merged, h) {
			merged = append(merged, h)
		}
	}
	set := []struct {
		k string
		v any
	}{{daemoncfg.KeyHosts, merged}, {daemoncfg.KeyTLS, true}, {daemoncfg.KeyTLSVerify, !noClientVerify},
		{daemoncfg.KeyTLSCert, certDst}, {daemoncfg.KeyTLSKey, keyDst}}
	if noClientVerify {
		if _, had := cfg.Raw(daemoncfg.KeyTLSCACert); had {
			cfg.Delete(daemoncfg.KeyTLSCACert)
			notes = append(notes, "removed tlscacert from daemon.json: without client verification it is not used")
		}
	} else {
		set = append(set, struct {
			k string
			v any
		}{daemoncfg.KeyTLSCACert, caDst})
	}
	for _, kv := range set {
		if err := cfg.Set(kv.k, kv.v); err != nil {
			return nil, err
		}
	}
	return notes, nil
}

// provisionClient is the client material of the context.
type provisionClient struct {
	*clientMaterial
	cert *x509.Certificate
}

// clientMaterial keeps the context's client certificate when it is good,
// else issues one keeping its subject and key type.
func (j *provisionJob) clientMaterial(dockerCli command.Cli, name string) (*provisionClient, string, error) {
	s := dockerCli.ContextStore()
	var old *x509.Certificate
	var oldCert, oldKey []byte
	if _, err := s.GetMetadata(name); err == nil {
		oldCert, _ = s.GetTLSData(name, docker.DockerEndpoint, layout.ClientCertFile)
		oldKey, _ = s.GetTLSData(name, docker.DockerEndpoint, layout.ClientKeyFile)
		if cs, err := pki.ParseCertificates("context "+name, oldCert); err == nil {
			old = cs[0]
		}
	}
	m := &clientMaterial{}
	m.add(layout.ClientCAFile, j.trust)
	if j.rec.ClientCert != "" || j.rec.ClientKey != "" {
		// The user's own pair (docker-machine's --tls-client-cert/-key):
		// checked as install client checks it, never re-issued.
		if j.rec.ClientCert == "" || j.rec.ClientKey == "" {
			return nil, "", inputError("--client-cert and --client-key go together: pass both")
		}
		own, err := loadClientMaterial(&installClientOptions{cert: j.rec.ClientCert, key: j.rec.ClientKey, skipVerify: true})
		if err != nil {
			return nil, "", err
		}
		cs, _ := pki.ParseCertificates(j.rec.ClientCert, own.files[layout.ClientCertFile])
		if err := cs[0].CheckSignatureFrom(j.ca.Cert); err != nil && !j.trusts(cs[0]) {
			return nil, "", inputError("%s: client certificate %q is not signed by the CA the daemon trusts (%s): the daemon would reject it", j.rec.ClientCert, cs[0].Subject.CommonName, j.ca.Cert.Subject.CommonName)
		}
		m.add(layout.ClientCertFile, own.files[layout.ClientCertFile])
		m.add(layout.ClientKeyFile, own.files[layout.ClientKeyFile])
		return &provisionClient{clientMaterial: m, cert: cs[0]}, "", nil
	}
	reason := "the context has no client certificate"
	if old != nil {
		reason = j.reuseReason(old, remote.File{Exists: oldKey != nil, Data: oldKey}, "context "+name+" key.pem", j.forceClient, "client")
		if reason == "" {
			m.add(layout.ClientCertFile, oldCert)
			m.add(layout.ClientKeyFile, oldKey)
			return &provisionClient{clientMaterial: m, cert: old}, "", nil
		}
	}
	req := pki.Request{Role: pki.RoleClient, CommonName: j.rec.ClientName, KeyType: j.keyType, Days: j.days}
	if old != nil {
		req.CommonName = old.Subject.CommonName
		if len(old.Subject.Organization) > 0 {
			req.Organization = old.Subject.Organization[0]
		}
		if req.KeyType == "" {
			req.KeyType = keyTypeOf(old.PublicKey)
		}
	}
	if req.CommonName == "" {
		req.CommonName = "docker-tls-client"
	}
	iss, err := j.ca.Issue(req)
	if err != nil {
		return nil, "", asInputError(err)
	}
	keyPEM, err := iss.KeyPEM()
	if err != nil {
		return nil, "", err
	}
	m.add(layout.ClientCertFile, iss.CertPEM())
	m.add(layout.ClientKeyFile, keyPEM)
	return &provisionClient{clientMaterial: m, cert: iss.Cert}, reason, nil
}

// trusts reports whether a CA of the trust bundle signed c.
func (j *provisionJob) trusts(c *x509.Certificate) bool {
	cas, err := pki.ParseCertificates("trust bundle", j.trust)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(cas, func(ca *x509.Certificate) bool { return c.CheckSignatureFrom(ca) == nil })
}

func (j *provisionJob) installContext(dockerCli command.Cli, host string, cm *provisionClient) error {
	o := &installClientOptions{context: j.rec.Context, force: true, description: "docker-tls provision " + j.rec.URL}
	return installContext(dockerCli, o, host, cm.clientMaterial)
}

// restartAndWait restarts dockerd and waits until its TLS port serves
// exactly the new certificate to a client holding the new material.
func (j *provisionJob) restartAndWait(ctx context.Context, w io.Writer, t *remote.Target, restart string, reload bool, ctxHost, serverName string, client tls.Certificate, srv *x509.Certificate) error {
	if reload && j.rec.RestartCmd == "" {
		if out, err := t.RunOutput(ctx, "systemctl daemon-reload", "systemctl daemon-reload"); err != nil {
			return fmt.Errorf("systemctl daemon-reload failed: %s", strings.TrimSpace(string(out)))
		}
	}
	fmt.Fprintf(w, "Restarting dockerd: %s\n", restart)
	if out, err := t.RunOutput(ctx, "restart dockerd", restart); err != nil {
		var re *remote.Error
		if errors.As(err, &re) {
			return fmt.Errorf("the restart command %q failed (exit status %d):\n%s", restart, re.Code, indent(string(out)))
		}
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(j.trust)
	addr := strings.TrimPrefix(ctxHost, "tcp://")
	deadline := time.Now().Add(j.wait)
	var last error
	for {
		last = probeTLS(ctx, addr, serverName, pool, client, srv)
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dockerd did not serve the new certificate on %s within %s: %v", addr, j.wait, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func probeTLS(ctx context.Context, addr, serverName string, pool *x509.CertPool, client tls.Certificate, want *x509.Certificate) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 3 * time.Second}, Config: &tls.Config{
		RootCAs: pool, ServerName: serverName, Certificates: []tls.Certificate{client}, MinVersion: tls.VersionTLS12,
	}}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := d.DialContext(cctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	peer := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(peer) == 0 || !peer[0].Equal(want) {
		return fmt.Errorf("%s serves another certificate than the one just installed", addr)
	}
	return nil
}

// rollback restores the files as they were, restarts dockerd again and
// returns an error with the daemon's own complaint.
func (j *provisionJob) rollback(ctx context.Context, w io.Writer, t *remote.Target, changes []remoteChange, restart string, reload bool, cause error) error {
	daemonErr := j.daemonError(ctx, t)
	fmt.Fprintf(w, "dockerd did not come back with the new configuration (the error follows).\n")
	fmt.Fprintf(w, "Rolling back: restoring the previous files and daemon.json\n")
	var writes []remote.Write
	for _, c := range changes {
		switch {
		case c.action() == "unchanged":
		case c.old.Exists:
			mode := c.old.Mode
			if mode == 0 {
				mode = c.mode
			}
			writes = append(writes, remote.Write{Path: c.path, Data: c.old.Data, Mode: mode})
			fmt.Fprintf(w, "  restore   %s\n", c.path)
		default:
			writes = append(writes, remote.Write{Path: c.path, Remove: true})
			fmt.Fprintf(w, "  remove    %s\n", c.path)
		}
	}
	if err := t.WriteFiles(ctx, writes, ""); err != nil {
		return fmt.Errorf("%v\nrolling back failed too: %v", cause, err)
	}
	if reload && j.rec.RestartCmd == "" {
		_, _ = t.RunOutput(ctx, "systemctl daemon-reload", "systemctl daemon-reload")
	}
	fmt.Fprintf(w, "Restarting dockerd with the previous configuration: %s\n", restart)
	restarted := "dockerd was restarted with the previous configuration"
	if out, err := t.RunOutput(ctx, "restart dockerd", restart); err != nil {
		restarted = fmt.Sprintf("restarting dockerd with the previous configuration failed too:\n%s", indent(string(out)))
	}
	msg := fmt.Sprintf("%s: dockerd did not come back with the new TLS configuration: %v", t.URL, cause)
	if daemonErr != "" {
		msg += "\ndockerd's own error:\n" + indent(daemonErr)
	}
	//lint:ignore ST1005 a message for the user, printed as the command's last lines (wording is tested)
	return notDone(fmt.Errorf("%s\nThe previous files and daemon.json were restored; %s.", msg, restarted))
}

// daemonError fetches the end of dockerd's log: --daemon-log, or the
// journal of docker.service.
func (j *provisionJob) daemonError(ctx context.Context, t *remote.Target) string {
	cmd := "journalctl -u docker.service -n 25 --no-pager"
	if j.rec.DaemonLog != "" {
		cmd = "tail -n 25 " + remote.Quote(j.rec.DaemonLog)
	} else if j.rec.RestartCmd != "" {
		return ""
	}
	out, _ := t.RunOutput(ctx, "read dockerd's log", cmd)
	return daemonComplaint(string(out))
}

// daemonComplaint keeps the lines of dockerd's log that say what went
// wrong: logrus lines below level error are left out; when nothing is left,
// the last five lines.
func daemonComplaint(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	var keep []string
	for _, l := range lines {
		if strings.Contains(l, "level=info") || strings.Contains(l, "level=debug") || strings.Contains(l, "level=warning") || strings.HasPrefix(l, "--- dockerd restart") {
			continue
		}
		if strings.TrimSpace(l) != "" {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		keep = lines[max(0, len(lines)-5):]
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

// notDone is a provisioning that could not finish because of the remote
// daemon (not of docker-tls): exit status 1.
func notDone(err error) error {
	return cli.StatusError{Cause: err, StatusCode: exitFindings}
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "  (no output)"
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func provisionRecordPath(name string) string {
	return filepath.Join(ownDir(), "provisioned", layout.ContextID(name)[:16]+".json")
}

func saveProvisionRecord(rec *provisionRecord) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	_, err = fsutil.WriteFile(provisionRecordPath(rec.Context), append(data, '\n'), 0o600, true)
	return err
}

func loadProvisionRecords() ([]provisionRecord, error) {
	dir := filepath.Join(ownDir(), "provisioned")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []provisionRecord
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := fsutil.ReadFile(p)
		if err != nil {
			return nil, inputError("%s: %v", p, err)
		}
		var r provisionRecord
		if err := json.Unmarshal(data, &r); err != nil || r.URL == "" || r.Context == "" {
			return nil, inputError("%s: not a provision record (expected JSON with url and context): %v", p, err)
		}
		r.file = p
		out = append(out, r)
	}
	return out, nil
}

// runProvisionDoctor runs the doctor against the new context and prints
// what it finds (problems only).
func runProvisionDoctor(ctx context.Context, dockerCli command.Cli, name, host string) {
	w := dockerCli.Out()
	root, err := os.OpenRoot("/")
	if err != nil {
		return
	}
	defer root.Close()
	env := map[string]string{}
	for _, k := range []string{"DOCKER_CONFIG", "HOME", "XDG_CONFIG_HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	env["DOCKER_CONFIG"] = configDir()
	warn, _ := doctor.ParseExpiryWarn("30d")
	dopts := doctor.Options{
		FS: doctor.RootFS(root), Root: "/", Env: env, Now: time.Now(), ExpiryWarn: warn,
		Flags: doctor.ClientFlags{Context: name},
	}
	rep, err := doctor.Run(dopts)
	if err != nil {
		fmt.Fprintf(w, "doctor: %v\n", err)
		return
	}
	po := probe.Options{Timeout: 10 * time.Second}
	live, _, err := doctor.Intake(ctx, dopts, []string{host}, doctor.IntakeOptions{Daemon: true, Probe: po})
	if err != nil {
		return
	}
	doctor.AddLive(rep, live, doctor.Probe(ctx, live, po, 1))
	fmt.Fprintf(w, "\nDoctor (docker tls doctor --context %s):\n", name)
	if catalog.ExitCode(rep, catalog.SeverityWarning) == 0 {
		fmt.Fprintf(w, "  no problems found\n")
		return
	}
	_ = render.RenderTextOpts(w, rep, render.TextOptions{Quiet: true})
}

// dockerVersionWorks runs the docker CLI against the context: the
// provisioning succeeded only when it works.
func dockerVersionWorks(ctx context.Context, w io.Writer, name string) error {
	bin := os.Getenv("DOCKER_TLS_DOCKER")
	if bin == "" {
		bin = "docker"
	}
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, "--context", name, "version", "--format", "Server: {{.Server.Version}} ({{.Server.Os}}/{{.Server.Arch}})")
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DOCKER_") && !strings.HasPrefix(kv, "DOCKER_TLS_DOCKER=") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "DOCKER_CONFIG="+configDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return notDone(fmt.Errorf("docker --context %s version failed: %v\n%s", name, err, indent(string(out))))
	}
	fmt.Fprintf(w, "\ndocker --context %s version: %s\n", name, strings.TrimSpace(string(out)))
	return nil
}

// lockRecord takes the locks of a daemon's host: the local one (two runs
// on this machine) and the one on the host (runs from other machines),
// in that order; release frees both.
func lockRecord(ctx context.Context, rec provisionRecord) (func(), error) {
	t, err := remote.ParseURL(rec.URL)
	if err != nil {
		return nil, asInputError(err)
	}
	t.ConfigFile = rec.SSHConfig
	host := t.Host
	if t.Port != "" {
		host += "_" + t.Port
	}
	unlock, err := lockHost(host, commandLine())
	if err != nil {
		return nil, err
	}
	me, _ := os.Hostname()
	release, err := t.Lock(ctx, fmt.Sprintf("%q (pid %d on %s, started %s)", commandLine(), os.Getpid(), me, time.Now().UTC().Format(time.RFC3339)))
	if err != nil {
		unlock()
		var le *remote.LockedError
		var re *remote.Error
		switch {
		case errors.Is(err, remote.ErrSudoPassword):
			return nil, asInputError(err)
		case errors.As(err, &le), errors.As(err, &re):
			return nil, notDone(err)
		}
		return nil, err
	}
	return func() { release(); unlock() }, nil
}

// lockRecords takes the locks of every daemon's host (a CA rotation).
func lockRecords(ctx context.Context, recs []provisionRecord) (func(), error) {
	var held []func()
	release := func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i]()
		}
	}
	for _, r := range recs {
		rel, err := lockRecord(ctx, r)
		if err != nil {
			release()
			return nil, err
		}
		held = append(held, rel)
	}
	return release, nil
}
