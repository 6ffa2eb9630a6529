package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
	"github.com/docker/cli/opts"
	"github.com/spf13/cobra"
)

type installClientOptions struct {
	ca           string
	cert         string
	key          string
	noClientCert bool
	skipVerify   bool
	certPath     string
	context      string
	host         string
	description  string
	force        bool
}

func installClientCmd(dockerCli command.Cli) *cobra.Command {
	var o installClientOptions
	cmd := &cobra.Command{
		Use:   "client [OPTIONS]",
		Short: "Install client material into a cert path or a docker context",
		Long: `Install the CA that signed the daemon's certificate and a client
certificate and key where the docker CLI reads them:

  (default)          $DOCKER_CONFIG (~/.docker) as ca.pem, cert.pem, key.pem,
                     the default DOCKER_CERT_PATH
  --cert-path DIR    DIR as ca.pem, cert.pem, key.pem
  --context NAME     a docker context with --host (docker's context store)

The three TLS modes of dockerd:
  TLS only, server not verified:   --skip-verify --no-client-cert
  client verifies the server:      --no-client-cert
  verified both ways (--tlsverify): the default`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInstallClient(cmd.Context(), dockerCli, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ca, "ca", "", "CA certificate that signed the daemon's certificate (default $DOCKER_CONFIG/tls/ca.pem)")
	f.StringVar(&o.cert, "cert", "", "Client certificate (default $DOCKER_CONFIG/tls/cert.pem)")
	f.StringVar(&o.key, "key", "", "Client private key (default $DOCKER_CONFIG/tls/key.pem)")
	f.BoolVar(&o.noClientCert, "no-client-cert", false, "Install no client certificate (daemon without --tlsverify)")
	f.BoolVar(&o.skipVerify, "skip-verify", false, "Do not verify the daemon's certificate (TLS only; insecure)")
	f.StringVar(&o.certPath, "cert-path", "", "Directory to install into (used as DOCKER_CERT_PATH)")
	f.StringVar(&o.context, "context", "", "Create or update this docker context")
	f.StringVarP(&o.host, "host", "H", "", "Daemon endpoint, tcp://HOST:2376 (required with --context)")
	f.StringVar(&o.description, "description", "", "Context description")
	f.BoolVarP(&o.force, "force", "f", false, "Replace existing material (old files are kept as backups)")
	return cmd
}

// clientMaterial is what install client puts in place, by file name.
type clientMaterial struct {
	files map[string][]byte
	order []string
}

func (m *clientMaterial) add(name string, data []byte) {
	if m.files == nil {
		m.files = map[string][]byte{}
	}
	m.files[name] = data
	m.order = append(m.order, name)
}

func loadClientMaterial(o *installClientOptions) (*clientMaterial, error) {
	def := func(v, name string) string {
		if v != "" {
			return v
		}
		return filepath.Join(ownDir(), name)
	}
	var m clientMaterial
	if !o.skipVerify || o.ca != "" {
		caPath := def(o.ca, layout.ClientCAFile)
		data, err := readCert(caPath, "CA certificate that signed the daemon's certificate")
		if err != nil {
			return nil, err
		}
		certs, _ := pki.ParseCertificates(caPath, data)
		if c := certs[0]; !c.IsCA {
			return nil, inputError("%s: found a certificate for %q that is not a CA (no basicConstraints CA:TRUE), expected the CA that signed the daemon's certificate (the daemon's own certificate does not work as a CA)", caPath, c.Subject.CommonName)
		}
		m.add(layout.ClientCAFile, data)
	}
	if o.noClientCert {
		if o.cert != "" || o.key != "" {
			return nil, inputError("--no-client-cert was given with --cert/--key: choose one")
		}
		return &m, nil
	}
	certPath, keyPath := def(o.cert, layout.ClientCertFile), def(o.key, layout.ClientKeyFile)
	certPEM, err := readCert(certPath, "client certificate")
	if err != nil {
		return nil, err
	}
	keyPEM, err := readInput(keyPath, "client private key")
	if err != nil {
		return nil, err
	}
	key, err := pki.ParsePrivateKey(keyPath, keyPEM)
	if err != nil {
		return nil, asInputError(err)
	}
	certs, _ := pki.ParseCertificates(certPath, certPEM)
	c := certs[0]
	if !pki.KeyMatches(key, c.PublicKey) {
		return nil, inputError("%s does not match %s: the key's public key (%s) is not the certificate's (%s)", keyPath, certPath, pki.DescribeKey(key.Public()), pki.DescribeKey(c.PublicKey))
	}
	if !pki.AllowsUsage(c, x509.ExtKeyUsageClientAuth) {
		return nil, inputError("%s: certificate %q does not allow client authentication (extended key usage %s, expected clientAuth); the daemon would answer \"remote error: tls: bad certificate\"", certPath, c.Subject.CommonName, strings.Join(pki.ExtKeyUsageNames(c), ","))
	}
	m.add(layout.ClientCertFile, certPEM)
	m.add(layout.ClientKeyFile, keyPEM)
	return &m, nil
}

func runInstallClient(_ context.Context, dockerCli command.Cli, o *installClientOptions) error {
	if o.context != "" && o.certPath != "" {
		return inputError("--context and --cert-path were both given: install into one of them")
	}
	if err := checkOutDir("--cert-path", o.certPath); err != nil {
		return err
	}
	if o.context != "" {
		// The rule and wording of docker context create.
		if err := store.ValidateContextName(o.context); err != nil {
			return inputError("--context: %v", err)
		}
	}
	var host string
	if o.host != "" {
		h, err := opts.ParseHost(true, o.host)
		if err != nil {
			return inputError("--host %q: %v", o.host, err)
		}
		if !strings.HasPrefix(h, "tcp://") {
			return inputError("--host %q: expected a tcp://HOST:PORT endpoint; TLS is for TCP connections", o.host)
		}
		host = h
	}
	m, err := loadClientMaterial(o)
	if err != nil {
		return err
	}
	if o.context != "" {
		if host == "" {
			return inputError("--context %s needs --host tcp://HOST:%d, the daemon's address", o.context, layout.DefaultTLSPort)
		}
		return installContext(dockerCli, o, host, m)
	}
	dir := o.certPath
	if dir == "" {
		dir = configDir()
	}
	w := dockerCli.Out()
	var notes []string
	placeholder := false
	if _, ok := m.files[layout.ClientCAFile]; !ok {
		// The docker CLI reads $DOCKER_CERT_PATH/ca.pem whenever TLS is on,
		// even with DOCKER_TLS=1 and no verification (cli/flags
		// SetDefaultOptions keeps the default CA file; context.
		// TLSDataFromFiles opens it; "ca.pem seems invalid" when it holds
		// no certificate). Keep a ca.pem that holds one; otherwise write a
		// placeholder whose key is thrown away, so it can never vouch for
		// a server.
		caDst := filepath.Join(dir, layout.ClientCAFile)
		data, err := fsutil.ReadFile(caDst)
		if certs, perr := pki.ParseCertificates(caDst, data); err == nil && perr == nil && len(certs) > 0 {
			notes = append(notes, fmt.Sprintf("kept %s: the docker CLI needs a ca.pem even when it does not verify the daemon, and this one holds a certificate", caDst))
		} else {
			ph, err := pki.NewCA(pki.Request{CommonName: placeholderCAName, Days: 3650})
			if err != nil {
				return err
			}
			placeholder = true
			rest := m.order
			m.order = nil
			m.add(layout.ClientCAFile, ph.CertPEM())
			m.order = append(m.order, rest...)
			notes = append(notes, fmt.Sprintf("%s is a placeholder: the docker CLI needs a ca.pem even with DOCKER_TLS=1, which does not verify the daemon; its key was discarded, so it trusts no server (install the daemon's CA with --ca to verify)", caDst))
		}
	}
	var plan fsutil.Plan
	for _, name := range m.order {
		mode := fs.FileMode(0o644)
		if name == layout.ClientKeyFile {
			mode = 0o600
		}
		what := clientWhat(name)
		if placeholder && name == layout.ClientCAFile {
			what = "placeholder CA for DOCKER_TLS=1"
		}
		plan.Add(filepath.Join(dir, name), m.files[name], mode, what)
	}
	fmt.Fprintf(w, "Installing client TLS material into %s\n", dir)
	if err := applyPlan(w, &plan, o.force); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	hostVal := host
	if hostVal == "" {
		hostVal = fmt.Sprintf("tcp://<daemon>:%d", layout.DefaultTLSPort)
	}
	fmt.Fprintf(w, "\nUse it in this shell:\n  export DOCKER_HOST=%s", hostVal)
	if o.skipVerify {
		fmt.Fprintf(w, " DOCKER_TLS=1")
	} else {
		fmt.Fprintf(w, " DOCKER_TLS_VERIFY=1")
	}
	if dir != configDir() {
		fmt.Fprintf(w, " DOCKER_CERT_PATH=%s", dir)
	}
	fmt.Fprintf(w, "\n  docker version\n")
	return nil
}

// placeholderCAName names the ca.pem written for DOCKER_TLS=1 without
// verification.
const placeholderCAName = "docker-tls placeholder CA (key discarded; trusts nothing)"

func clientWhat(name string) string {
	switch name {
	case layout.ClientCAFile:
		return "CA of the daemon"
	case layout.ClientCertFile:
		return "client certificate"
	}
	return "client private key"
}

func installContext(dockerCli command.Cli, o *installClientOptions, host string, m *clientMaterial) error {
	if err := refuseContextLinks(configDir(), o.context); err != nil {
		return err
	}
	s := dockerCli.ContextStore()
	w := dockerCli.Out()
	existing, err := s.GetMetadata(o.context)
	exists := err == nil
	if err != nil && !errdefsNotFound(err) {
		return fmt.Errorf("reading docker context %q: %w", o.context, err)
	}
	if exists {
		same := contextMatches(s, existing, o, host, m)
		if same {
			fmt.Fprintf(w, "Docker context %q already has this endpoint and TLS material: nothing to do.\n", o.context)
			printContextNext(w, o.context)
			return nil
		}
		if !o.force {
			return inputError("docker context %q already exists with a different endpoint or TLS material; use --force to replace it (the old TLS files are kept as a backup)", o.context)
		}
		if backup, err := backupContextTLS(s, o.context); err != nil {
			return err
		} else if backup != "" {
			fmt.Fprintf(w, "Kept the old TLS material of context %q in %s\n", o.context, backup)
		}
	}
	desc := o.description
	if desc == "" {
		desc = "docker-tls: " + host
	}
	meta := store.Metadata{
		Name:     o.context,
		Metadata: command.DockerContext{Description: desc},
		Endpoints: map[string]any{
			docker.DockerEndpoint: docker.EndpointMeta{Host: host, SkipTLSVerify: o.skipVerify},
		},
	}
	if err := s.CreateOrUpdate(meta); err != nil {
		return fmt.Errorf("writing docker context %q: %w", o.context, err)
	}
	var tlsData *store.EndpointTLSData
	if len(m.files) > 0 {
		tlsData = &store.EndpointTLSData{Files: m.files}
	}
	if err := s.ResetEndpointTLSMaterial(o.context, docker.DockerEndpoint, tlsData); err != nil {
		return fmt.Errorf("writing TLS material of docker context %q: %w", o.context, err)
	}
	verb := "Created"
	if exists {
		verb = "Updated"
	}
	fmt.Fprintf(w, "%s docker context %q: host %s", verb, o.context, host)
	if o.skipVerify {
		fmt.Fprintf(w, ", daemon certificate not verified")
	}
	fmt.Fprintln(w)
	for _, name := range m.order {
		fmt.Fprintf(w, "  %s  (%s)\n", filepath.Join(layout.ContextTLSDir(configDir(), o.context), name), clientWhat(name))
	}
	printContextNext(w, o.context)
	return nil
}

// refuseContextLinks checks the paths docker's context store writes for a
// context before it writes them: the store follows symbolic links (and
// removes the TLS directory it resolves to), so every component from
// $DOCKER_CONFIG/contexts down to the context's meta and TLS directories,
// and the files in them, must not be a link.
func refuseContextLinks(cfgDir, name string) error {
	base := filepath.Join(cfgDir, layout.ContextsDirName)
	meta, tlsDir := layout.ContextMetaDir(cfgDir, name), layout.ContextTLSDir(cfgDir, name)
	files := []string{filepath.Join(meta, "meta.json")}
	for _, f := range []string{layout.ClientCAFile, layout.ClientCertFile, layout.ClientKeyFile} {
		files = append(files, filepath.Join(tlsDir, f))
	}
	for _, leaf := range files {
		rel, err := filepath.Rel(base, leaf)
		if err != nil {
			return err
		}
		p := base
		for _, part := range append([]string{""}, strings.Split(rel, string(filepath.Separator))...) {
			p = filepath.Join(p, part)
			fi, err := os.Lstat(p)
			if errors.Is(err, fs.ErrNotExist) {
				break
			}
			if err != nil {
				return inputError("cannot use %s for docker context %q: %v", p, name, err)
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				target, _ := os.Readlink(p)
				return inputError("refusing to write docker context %q through %s: it is a symbolic link to %s; docker-tls does not write through links (remove the link)", name, p, target)
			}
		}
	}
	return nil
}

func printContextNext(w io.Writer, name string) {
	fmt.Fprintf(w, "\nUse it:\n  docker --context %s version\nor make it the default:\n  docker context use %s\n", name, name)
}

func contextMatches(s store.Store, meta store.Metadata, o *installClientOptions, host string, m *clientMaterial) bool {
	ep, ok := meta.Endpoints[docker.DockerEndpoint].(docker.EndpointMeta)
	if !ok || ep.Host != host || ep.SkipTLSVerify != o.skipVerify {
		return false
	}
	for _, name := range []string{layout.ClientCAFile, layout.ClientCertFile, layout.ClientKeyFile} {
		old, err := s.GetTLSData(o.context, docker.DockerEndpoint, name)
		if err != nil {
			old = nil
		}
		if !bytes.Equal(old, m.files[name]) {
			return false
		}
	}
	return true
}

func backupContextTLS(s store.Store, name string) (string, error) {
	var plan fsutil.Plan
	dir := filepath.Join(ownDir(), "backup", "context-"+layout.ContextID(name)[:12]+"-"+fsutil.Now().UTC().Format("20060102T150405"))
	for _, f := range []string{layout.ClientCAFile, layout.ClientCertFile, layout.ClientKeyFile} {
		data, err := s.GetTLSData(name, docker.DockerEndpoint, f)
		if err != nil || data == nil {
			continue
		}
		plan.Add(filepath.Join(dir, f), data, 0o600, "backup of "+f)
	}
	if len(plan.Files) == 0 {
		return "", nil
	}
	if _, err := plan.Apply(false); err != nil {
		return "", fmt.Errorf("keeping a backup of context %q TLS material: %w", name, err)
	}
	return dir, nil
}

func errdefsNotFound(err error) bool {
	var nf interface{ NotFound() }
	return errors.As(err, &nf)
}
