package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker-tls/docker-tls/pki/registry"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

type installRegistryOptions struct {
	targets     []string
	certsDir    string
	rootless    bool
	rootlessSet bool
	goos        string
	ca          string
	fetchCA     bool
	fingerprint string
	timeout     time.Duration
	clientCert  string
	clientKey   string
	issueClient bool
	clientName  string
	signer      caFlags
	issue       issueFlags
	dryRun      bool
	force       bool

	// confirm asks the user; nil means: prompt on a terminal, refuse otherwise.
	confirm func(prompt string) (bool, error)
	// now pins the clock (tests).
	now time.Time
}

func installRegistryCmd(dockerCli command.Cli) *cobra.Command {
	return newInstallRegistryCmd(dockerCli, &installRegistryOptions{})
}

func newInstallRegistryCmd(dockerCli command.Cli, o *installRegistryOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "install-registry REGISTRY [OPTIONS]",
		Short: "Install a registry's CA and a client certificate for Docker, containerd and podman",
		Long: `Install the CA that signed a registry's certificate (ca.crt) and a client
certificate (client.cert, client.key) where registry clients look for them:

  docker       /etc/docker/certs.d/REGISTRY/ (rootless dockerd:
               $XDG_CONFIG_HOME/docker/certs.d/REGISTRY/)
  containers   /etc/containers/certs.d/REGISTRY/ (podman, CRI-O, skopeo…)
  containerd   /etc/containerd/certs.d/REGISTRY/hosts.toml, with ca and client
               pointing at the installed files; an existing hosts.toml is merged

REGISTRY is the registry exactly as written in image references: myreg:5000
for myreg:5000/image, myreg for myreg/image. Docker does not fall back from
one to the other, so myreg:443 is not the directory used for myreg/image.

The registry's CA comes from --ca FILE, or from the registry itself with
--fetch-ca: the presented chain is shown and its root is installed only after
you confirm it, interactively or with --fingerprint. The client certificate
comes from --client-cert/--client-key, or is issued with --issue-client by the
docker-tls CA (or --ca-cert/--ca-key); the registry must accept that CA for
client certificates (distribution: http.tls.clientcas).

Running the command again with the same material changes nothing. Different
existing files are only replaced with --force, and kept as backups.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.rootlessSet = cmd.Flags().Changed("rootless")
			return runInstallRegistry(cmd.Context(), dockerCli, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.targets, "target", []string{string(registry.TargetDocker)}, "Where to install: docker, containers, containerd (repeat or comma-separate)")
	f.StringVar(&o.certsDir, "certs-dir", "", "Install below this directory instead of each target's certs.d root")
	f.BoolVar(&o.rootless, "rootless", false, "Install for rootless dockerd ($XDG_CONFIG_HOME/docker/certs.d; detected when not given)")
	f.StringVar(&o.goos, "os", runtime.GOOS, "Name directories for this OS: windows strips the colon (myreg5000)")
	f.StringVar(&o.ca, "ca", "", "CA certificate that signed the registry's certificate")
	f.BoolVar(&o.fetchCA, "fetch-ca", false, "Get the CA from the registry's TLS handshake (confirm it, or pass --fingerprint)")
	f.StringVar(&o.fingerprint, "fingerprint", "", "SHA-256 fingerprint the CA fetched with --fetch-ca must have (SHA256:AB:CD:…)")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "Connection timeout for --fetch-ca")
	f.StringVar(&o.clientCert, "client-cert", "", "Client certificate to present to the registry")
	f.StringVar(&o.clientKey, "client-key", "", "Private key of --client-cert")
	f.BoolVar(&o.issueClient, "issue-client", false, "Issue a client certificate (with the docker-tls CA, or --ca-cert/--ca-key)")
	f.StringVar(&o.clientName, "client-name", "docker-tls registry client", "Common name of the certificate --issue-client issues")
	o.signer.add(f)
	o.issue.add(f, pki.DefaultLeafDays)
	f.BoolVar(&o.dryRun, "dry-run", false, "Show what would be written and write nothing")
	f.BoolVarP(&o.force, "force", "f", false, "Replace existing different files (old files are kept as backups)")
	return cmd
}

func (o *installRegistryOptions) clock() time.Time {
	if o.now.IsZero() {
		return time.Now()
	}
	return o.now
}

func runInstallRegistry(ctx context.Context, dockerCli command.Cli, arg string, o *installRegistryOptions) error {
	w, ew := dockerCli.Out(), dockerCli.Err()
	host, hostNotes, err := layout.ParseRegistryHost(arg)
	if err != nil {
		return inputError("%v", err)
	}
	targets, err := registry.ParseTargets(o.targets)
	if err != nil {
		return inputError("%v", err)
	}
	switch o.goos {
	case "linux", "windows", "darwin":
	default:
		return inputError("--os %q: expected linux, windows or darwin", o.goos)
	}
	switch {
	case o.ca != "" && o.fetchCA:
		return inputError("--ca and --fetch-ca were both given: use one")
	case o.fingerprint != "" && !o.fetchCA:
		return inputError("--fingerprint checks the CA fetched with --fetch-ca: add --fetch-ca")
	case o.issueClient && (o.clientCert != "" || o.clientKey != ""):
		return inputError("--issue-client and --client-cert/--client-key were both given: use one")
	case o.clientCert != "" && o.clientKey == "":
		return inputError("--client-cert %s was given without --client-key: pass both", o.clientCert)
	case o.clientKey != "" && o.clientCert == "":
		return inputError("--client-key %s was given without --client-cert: pass both", o.clientKey)
	case !o.issueClient && (o.signer.cert != "" || o.signer.key != ""):
		return inputError("--ca-cert/--ca-key select the CA that signs the certificate of --issue-client: add --issue-client (the registry's own CA is --ca)")
	case o.ca == "" && !o.fetchCA && o.clientCert == "" && !o.issueClient:
		return inputError("nothing to install: pass the registry's CA (--ca FILE or --fetch-ca) and/or a client certificate (--client-cert and --client-key, or --issue-client)")
	}
	if o.timeout <= 0 {
		return inputError("--timeout %s: expected a positive duration", o.timeout)
	}
	if o.certsDir != "" {
		abs, err := filepath.Abs(o.certsDir)
		if err != nil {
			return inputError("--certs-dir %s: %v", o.certsDir, err)
		}
		o.certsDir = abs
	}
	now := o.clock()
	for _, n := range hostNotes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}

	req := registry.Request{Host: host, Targets: targets, GOOS: o.goos, CertsDir: o.certsDir, Getenv: os.Getenv}
	if runtime.GOOS != "linux" { // Desktop's per-user certs.d: macOS and Windows only (layout.RegistryCertsFor)
		ctxName, h := cliEndpoint(dockerCli)
		req.Desktop = layout.IsDesktop(runtime.GOOS, ctxName, h)
	}
	if rc := layout.RegistryCertsFor(runtime.GOOS, os.Getenv, req.Desktop); rc.CopiedIntoVM && o.certsDir == "" && slicesContains(targets, registry.TargetDocker) {
		fmt.Fprintf(w, "Note: Docker Desktop: installing into %s, which Desktop copies into its VM when it starts (restart Docker Desktop afterwards)\n", rc.Dir)
		if rc.CAInTrustStore {
			fmt.Fprintf(w, "Note: Docker Desktop also trusts CAs from the %s: add the registry's CA there too if pulls still fail with \"certificate signed by unknown authority\"\n", trustStoreName(runtime.GOOS))
		}
	}
	if slicesContains(targets, registry.TargetDocker) && o.certsDir == "" {
		if o.rootlessSet {
			req.Rootless = o.rootless
		} else if on, why := registry.DetectRootless(os.Getenv, os.Geteuid(), exists); on {
			req.Rootless = true
			fmt.Fprintf(w, "Note: rootless Docker detected (%s): installing into %s (pass --rootless=false for %s)\n", why, layout.RootlessCertsDir(os.Getenv), layout.DockerCertsDir)
		}
	}

	var warnings []string
	switch {
	case o.ca != "":
		data, err := readCert(o.ca, "CA certificate that signed the registry's certificate")
		if err != nil {
			return err
		}
		pemData, _, warn, err := registry.CheckCA(o.ca, data, now)
		if err != nil {
			return asInputError(err)
		}
		req.CA, warnings = pemData, append(warnings, warn...)
	case o.fetchCA:
		root, err := fetchRegistryCA(ctx, dockerCli, host, o, now)
		if err != nil {
			return err
		}
		if root != nil {
			req.CA = pki.EncodeCert(root)
		}
	}

	var issuedBy *pki.CA
	var signerPath string
	switch {
	case o.clientCert != "":
		certData, err := readCert(o.clientCert, "client certificate")
		if err != nil {
			return err
		}
		keyData, err := readInput(o.clientKey, "client private key")
		if err != nil {
			return err
		}
		pair, warn, err := registry.CheckClientPair(o.clientCert, certData, o.clientKey, keyData, now)
		if err != nil {
			return asInputError(err)
		}
		req.ClientCert, req.ClientKey = pair.CertPEM, pair.KeyPEM
		warnings = append(warnings, warn...)
	case o.issueClient:
		kt, err := o.issue.parse()
		if err != nil {
			return err
		}
		ca, certPath, _, err := o.signer.load()
		if err != nil {
			return err
		}
		issuedBy, signerPath = ca, certPath
		locs, _ := req.Locations()
		dirs := make([]string, len(locs))
		for i, l := range locs {
			dirs[i] = l.Dir
		}
		if c, k, dir, ok := registry.FindClientPair(dirs, ca.Cert, now); ok && !o.force {
			fmt.Fprintf(w, "Keeping the client certificate in %s: it was issued by %q and is still valid (--force issues a new one)\n", dir, ca.Cert.Subject.CommonName)
			req.ClientCert, req.ClientKey = c, k
		} else {
			iss, err := ca.Issue(pki.Request{Role: pki.RoleClient, CommonName: o.clientName, KeyType: kt, Days: o.issue.days, Now: o.now})
			if err != nil {
				return asInputError(err)
			}
			keyPEM, err := iss.KeyPEM()
			if err != nil {
				return err
			}
			req.ClientCert, req.ClientKey = iss.CertPEM(), keyPEM
			verb := "Issuing" // as init and issue say it
			if o.dryRun {
				verb = "Dry run: would issue"
			}
			fmt.Fprintf(w, "%s a client certificate for %q signed by %q, valid until %s\n", verb, o.clientName, ca.Cert.Subject.CommonName, iss.Cert.NotAfter.UTC().Format(time.DateOnly))
			for _, n := range iss.Notes {
				fmt.Fprintf(w, "Note: %s\n", n)
			}
		}
	}

	if req.CA == nil && req.ClientCert == nil {
		// --fetch-ca in a dry run without confirmation, and nothing else.
		return nil
	}
	in, err := registry.Build(req)
	if err != nil {
		return inputError("%v", err)
	}
	for _, wn := range append(warnings, in.Warnings...) {
		fmt.Fprintf(ew, "Warning: %s\n", wn)
	}
	for _, n := range in.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}

	if o.dryRun {
		printDryRun(w, in.Preview(o.force))
		return nil
	}

	fmt.Fprintf(w, "Installing registry TLS material for %s\n", host)
	res, err := in.Apply(o.force)
	changed := false
	for i, r := range res {
		what := in.Files[i].What
		switch r.Outcome {
		case fsutil.Created:
			changed = true
			fmt.Fprintf(w, "  created   %s  (%s)\n", r.Path, what)
		case fsutil.Unchanged:
			fmt.Fprintf(w, "  unchanged %s  (%s, already up to date)\n", r.Path, what)
		case fsutil.Replaced:
			changed = true
			fmt.Fprintf(w, "  replaced  %s  (%s; old file kept as %s)\n", r.Path, what, r.Backup)
		}
	}
	if err != nil {
		if errors.Is(err, fsutil.ErrExists) {
			return asInputError(err)
		}
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%w\n(run it as root, for example with sudo, or install into another directory with --certs-dir)", err)
		}
		return err
	}
	if !changed {
		fmt.Fprintf(w, "Nothing to do: the registry TLS material for %s is already installed.\n", host)
	}
	printRegistryNext(w, in, o, issuedBy, signerPath)
	return nil
}

// fetchRegistryCA shows the chain the registry presents and returns its
// root once confirmed (nil in a dry run without confirmation).
func fetchRegistryCA(ctx context.Context, dockerCli command.Cli, host layout.RegistryHost, o *installRegistryOptions, now time.Time) (*x509.Certificate, error) {
	w, ew := dockerCli.Out(), dockerCli.Err()
	if ctx == nil {
		ctx = context.Background()
	}
	chain, err := registry.FetchChain(ctx, host, o.timeout)
	if err != nil {
		return nil, inputError("--fetch-ca: %v", err)
	}
	fmt.Fprintf(w, "%s presented %d %s:\n", registry.Address(host), len(chain), plural("certificate", len(chain)))
	for _, l := range registry.DescribeChain(chain, now) {
		fmt.Fprintf(w, "  %s\n", l)
	}
	root, warn, err := registry.RootOf(host, chain, now)
	if err != nil {
		return nil, inputError("--fetch-ca: %v", err)
	}
	for _, wn := range warn {
		fmt.Fprintf(ew, "Warning: %s\n", wn)
	}
	if o.fingerprint != "" {
		if err := registry.MatchFingerprint(o.fingerprint, host, root, chain); err != nil {
			return nil, inputError("%v", err)
		}
		fmt.Fprintf(w, "The CA %q matches --fingerprint %s.\n", root.Subject.CommonName, pki.Fingerprint(root))
		return root, nil
	}
	if o.dryRun {
		fmt.Fprintf(w, "Dry run: the CA %q would be installed after you confirm it (or pass --fingerprint %s).\n", root.Subject.CommonName, pki.Fingerprint(root))
		return nil, nil
	}
	confirm := o.confirm
	if confirm == nil && dockerCli.In().IsTerminal() {
		confirm = func(prompt string) (bool, error) {
			fmt.Fprint(w, prompt)
			line, err := bufio.NewReader(dockerCli.In()).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return false, err
			}
			a := strings.ToLower(strings.TrimSpace(line))
			return a == "y" || a == "yes", nil
		}
	}
	if confirm == nil {
		return nil, inputError("%v", registry.NotConfirmedError(host, root))
	}
	ok, err := confirm(registry.ConfirmPrompt(host, root))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, inputError("the CA %q (%s) was not confirmed: nothing was installed", root.Subject.CommonName, pki.Fingerprint(root))
	}
	return root, nil
}

func printRegistryNext(w io.Writer, in *registry.Install, o *installRegistryOptions, issuedBy *pki.CA, signerPath string) {
	h := in.Host.String()
	if issuedBy != nil {
		fmt.Fprintf(w, "\nThe registry must accept client certificates signed by %q (%s): list that file in its http.tls.clientcas (distribution) or equivalent.\n", issuedBy.Cert.Subject.CommonName, signerPath)
	}
	if in.ContainerdConfigNote != "" {
		fmt.Fprintf(w, "\nNote: %s.\n", in.ContainerdConfigNote)
	}
	fmt.Fprintf(w, "\nNext:\n")
	for _, l := range in.Locations {
		if o.goos == "windows" && runtime.GOOS != "windows" {
			fmt.Fprintf(w, "  copy %s to %s\\%s on the Windows host\n", l.Dir, layout.WindowsDockerCertsDir, filepath.Base(l.Dir))
			continue
		}
		switch l.Target {
		case registry.TargetDocker:
			fmt.Fprintf(w, "  docker push %s/IMAGE    (dockerd reads certs.d on every push and pull: no restart needed)\n", h)
		case registry.TargetContainers:
			fmt.Fprintf(w, "  skopeo inspect docker://%s/IMAGE    (or podman pull %s/IMAGE)\n", h, h)
		case registry.TargetContainerd:
			fmt.Fprintf(w, "  ctr images pull --hosts-dir %s %s/IMAGE    (or nerdctl pull %s/IMAGE)\n", l.Root, h, h)
		}
	}
	fmt.Fprintf(w, "  docker tls doctor --registry %s\n", h)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func slicesContains(ts []registry.Target, t registry.Target) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// trustStoreName names the OS trust store Docker Desktop reads CAs from.
func trustStoreName(goos string) string {
	if goos == "windows" {
		return "Windows certificate store (certmgr: Trusted Root Certification Authorities)"
	}
	return "macOS keychain (security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ca.crt)"
}
