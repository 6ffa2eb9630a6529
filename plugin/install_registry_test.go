package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker/cli/cli"
	"github.com/docker/cli/cli/command"
)

// regFixture is a CA with a registry and a client certificate, written to
// files the way a user hands them to install-registry.
type regFixture struct {
	dir                                  string
	ca, caKey, server, serverKey, client string
	clientKey, otherKey                  string
	caCert                               *pki.Issued
	srv                                  *pki.Issued
}

func newRegFixture(t *testing.T) *regFixture {
	t.Helper()
	f := &regFixture{dir: t.TempDir()}
	caIss, err := pki.NewCA(pki.Request{CommonName: "Registry CA"})
	if err != nil {
		t.Fatal(err)
	}
	ca := &pki.CA{Cert: caIss.Cert, Key: caIss.Key}
	srv, err := ca.Issue(pki.Request{Role: pki.RoleServer, CommonName: "myreg", DNSNames: []string{"myreg"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := ca.Issue(pki.Request{Role: pki.RoleClient, CommonName: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := ca.Issue(pki.Request{Role: pki.RoleClient, CommonName: "other"})
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(f.dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := func(i *pki.Issued) []byte {
		k, err := i.KeyPEM()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	f.caCert, f.srv = caIss, srv
	f.ca = write("ca.pem", caIss.CertPEM())
	f.caKey = write("ca-key.pem", key(caIss))
	f.server = write("server.pem", srv.CertPEM())
	f.serverKey = write("server-key.pem", key(srv))
	f.client = write("client.pem", cl.CertPEM())
	f.clientKey = write("client-key.pem", key(cl))
	f.otherKey = write("other-key.pem", key(other))
	return f
}

type runResult struct {
	out, err string
	e        error
}

// runRegistryCmd runs install-registry with stdin (not a terminal) and an
// optional confirm hook standing in for the terminal prompt.
func runRegistryCmd(t *testing.T, confirm func(string) (bool, error), args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	dockerCli, err := command.NewDockerCli(command.WithInputStream(io.NopCloser(strings.NewReader(""))), command.WithOutputStream(&out), command.WithErrorStream(&errb))
	if err != nil {
		t.Fatal(err)
	}
	cmd := newInstallRegistryCmd(dockerCli, &installRegistryOptions{confirm: confirm})
	setUsageErrors(cmd)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	e := cmd.Execute()
	return runResult{out: out.String(), err: errb.String(), e: e}
}

// wantInputError checks the exact message and exit code 2.
func wantInputError(t *testing.T, r runResult, want string) {
	t.Helper()
	var se cli.StatusError
	if !errors.As(r.e, &se) || se.StatusCode != exitUsage {
		t.Fatalf("error %v (%T), want exit %d\nstdout: %s", r.e, r.e, exitUsage, r.out)
	}
	if r.e.Error() != want {
		t.Fatalf("error:\n%s\nwant:\n%s", r.e, want)
	}
}

func wantOK(t *testing.T, r runResult) {
	t.Helper()
	if r.e != nil {
		t.Fatalf("error: %v\nstdout: %s\nstderr: %s", r.e, r.out, r.err)
	}
}

func wantContains(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Fatalf("output lacks %q:\n%s", w, s)
		}
	}
}

func noFiles(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Lstat(dir); err == nil {
		var files []string
		filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { files = append(files, p); return nil })
		t.Fatalf("%s was written: %q", dir, files)
	}
}

func TestInstallRegistryInputs(t *testing.T) {
	f := newRegFixture(t)
	out := filepath.Join(t.TempDir(), "certs.d")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"CA is a server certificate", []string{"myreg:5000", "--ca", f.server}, f.server + `: found a server certificate for "myreg" (extended key usage serverAuth, not a CA), expected the CA certificate that signed the registry's certificate`},
		{"mismatched client pair", []string{"myreg:5000", "--client-cert", f.client, "--client-key", f.otherKey}, f.otherKey + " does not match " + f.client + ": the key's public key (ECDSA P-256) is not the certificate's (ECDSA P-256)"},
		{"server certificate as client", []string{"myreg:5000", "--client-cert", f.server, "--client-key", f.serverKey}, f.server + `: certificate "myreg" does not allow client authentication (extended key usage serverAuth, expected clientAuth); the registry would answer "remote error: tls: bad certificate"`},
		{"bad port", []string{"myreg:99999", "--ca", f.ca}, `invalid registry host "myreg:99999": port "99999" is not a number from 1 to 65535`},
		{"path", []string{"myreg:5000/team/app", "--ca", f.ca}, `invalid registry host "myreg:5000/team/app": it has a path ("/team/app"); expected host[:port] without a repository or path`},
		{"empty", []string{"", "--ca", f.ca}, `empty registry host: expected host[:port], for example myreg:5000`},
		{"ca and fetch-ca", []string{"myreg:5000", "--ca", f.ca, "--fetch-ca"}, `--ca and --fetch-ca were both given: use one`},
		{"fingerprint alone", []string{"myreg:5000", "--ca", f.ca, "--fingerprint", "SHA256:00"}, `--fingerprint checks the CA fetched with --fetch-ca: add --fetch-ca`},
		{"signing CA without issue-client", []string{"myreg:5000", "--ca-cert", f.ca, "--ca-key", f.caKey}, `--ca-cert/--ca-key select the CA that signs the certificate of --issue-client: add --issue-client (the registry's own CA is --ca)`},
		{"client cert without key", []string{"myreg:5000", "--client-cert", f.client}, `--client-cert ` + f.client + ` was given without --client-key: pass both`},
		{"nothing", []string{"myreg:5000"}, `nothing to install: pass the registry's CA (--ca FILE or --fetch-ca) and/or a client certificate (--client-cert and --client-key, or --issue-client)`},
		{"unknown target", []string{"myreg:5000", "--ca", f.ca, "--target", "docker,podman"}, `--target "podman": use --target containers (podman, CRI-O, skopeo and buildah read /etc/containers/certs.d)`},
		{"bad os", []string{"myreg:5000", "--ca", f.ca, "--os", "plan9"}, `--os "plan9": expected linux, windows or darwin`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantInputError(t, runRegistryCmd(t, nil, append(c.args, "--certs-dir", out)...), c.want)
			noFiles(t, out)
		})
	}
}

func TestInstallRegistryRuns(t *testing.T) {
	f := newRegFixture(t)
	root := filepath.Join(t.TempDir(), "certs.d")
	dir := filepath.Join(root, "myreg:5000")
	base := []string{"--ca", f.ca, "--client-cert", f.client, "--client-key", f.clientKey, "--certs-dir", root}

	// --dry-run writes nothing.
	r := runRegistryCmd(t, nil, append([]string{"https://myreg:5000/v2/", "--dry-run"}, base...)...)
	wantOK(t, r)
	wantContains(t, r.out,
		`Note: using "myreg:5000" from "https://myreg:5000/v2/": certs.d directories are named by host[:port] only`+"\n",
		"Dry run: nothing is written.\n",
		"  create    "+dir+"/ca.crt  (registry CA, mode 0644)\n",
		"  create    "+dir+"/client.key  (client private key, mode 0600)\n")
	noFiles(t, root)

	// The real run, then the same again.
	r = runRegistryCmd(t, nil, append([]string{"https://myreg:5000/v2/"}, base...)...)
	wantOK(t, r)
	wantContains(t, r.out,
		"Installing registry TLS material for myreg:5000\n",
		"  created   "+dir+"/ca.crt  (registry CA)\n",
		"  created   "+dir+"/client.cert  (client certificate)\n",
		"  created   "+dir+"/client.key  (client private key)\n",
		"\nNext:\n  docker push myreg:5000/IMAGE    (dockerd reads certs.d on every push and pull: no restart needed)\n  docker tls doctor --registry myreg:5000\n")
	if fi, err := os.Stat(filepath.Join(dir, "client.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("client.key mode: %v", err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	r = runRegistryCmd(t, nil, append([]string{"myreg:5000"}, base...)...)
	wantOK(t, r)
	wantContains(t, r.out,
		"  unchanged "+dir+"/ca.crt  (registry CA, already up to date)\n",
		"  unchanged "+dir+"/client.key  (client private key, already up to date)\n",
		"Nothing to do: the registry TLS material for myreg:5000 is already installed.\n")

	// Different material without --force: refused, nothing written.
	g := newRegFixture(t)
	r = runRegistryCmd(t, nil, "myreg:5000", "--ca", g.ca, "--client-cert", g.client, "--client-key", g.clientKey, "--certs-dir", root)
	wantInputError(t, r, "nothing was written; 3 files are in the way:\n"+
		"  "+dir+"/ca.crt (registry CA): exists with different content\n"+
		"  "+dir+"/client.cert (client certificate): exists with different content\n"+
		"  "+dir+"/client.key (client private key): exists with different content\n"+
		"use --force to replace them (old files are kept as .bak-<time> backups): file exists with different content")
	if after, _ := os.ReadFile(filepath.Join(dir, "ca.crt")); !bytes.Equal(after, before) {
		t.Fatal("refused run changed ca.crt")
	}
	r = runRegistryCmd(t, nil, "myreg:5000", "--ca", g.ca, "--certs-dir", root, "--force")
	wantOK(t, r)
	wantContains(t, r.out, "  replaced  "+dir+"/ca.crt  (registry CA; old file kept as "+dir+"/ca.crt.bak-")
}

func TestInstallRegistryNaming(t *testing.T) {
	f := newRegFixture(t)
	root := t.TempDir()
	r := runRegistryCmd(t, nil, "myreg:443", "--ca", f.ca, "--certs-dir", root)
	wantOK(t, r)
	if r.err != "Warning: myreg:443 names the directory myreg:443, which is only used for images named myreg:443/…; for images named myreg/… (port 443 left out, as usual) install for myreg instead\n" {
		t.Fatalf("stderr %q", r.err)
	}
	r = runRegistryCmd(t, nil, "myreg:5000", "--ca", f.ca, "--certs-dir", root, "--os", "windows", "--target", "docker,containerd")
	wantOK(t, r)
	if _, err := os.Stat(filepath.Join(root, "myreg5000", "ca.crt")); err != nil {
		t.Fatalf("windows directory name: %v", err)
	}
	wantContains(t, r.out, "  copy "+filepath.Join(root, "myreg5000")+` to C:\ProgramData\docker\certs.d\myreg5000 on the Windows host`)
	hosts, err := os.ReadFile(filepath.Join(root, "myreg5000", "hosts.toml"))
	if err != nil || !strings.Contains(string(hosts), "  ca = \"ca.crt\"\n") {
		t.Fatalf("windows hosts.toml (relative paths): %v\n%s", err, hosts)
	}
}

func TestInstallRegistryIssueClient(t *testing.T) {
	f := newRegFixture(t)
	root := t.TempDir()
	args := []string{"myreg:5000", "--issue-client", "--ca-cert", f.ca, "--ca-key", f.caKey, "--certs-dir", root, "--target", "docker,containers"}
	// A dry run says what it would do, not what it did.
	dry := runRegistryCmd(t, nil, append(args, "--dry-run")...)
	wantOK(t, dry)
	if !strings.Contains(dry.out, `Dry run: would issue a client certificate for "docker-tls registry client" signed by "Registry CA"`) || strings.Contains(dry.out, "Issued") || strings.Contains(dry.out, "Issuing") {
		t.Errorf("dry run:\n%s", dry.out)
	}
	r := runRegistryCmd(t, nil, args...)
	wantOK(t, r)
	wantContains(t, r.out, `Issuing a client certificate for "docker-tls registry client" signed by "Registry CA"`,
		`The registry must accept client certificates signed by "Registry CA" (`+f.ca+`)`)
	data, err := os.ReadFile(filepath.Join(root, "myreg:5000", "client.cert"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pki.ParseCertificates("client.cert", data)
	if err != nil || certs[0].CheckSignatureFrom(f.caCert.Cert) != nil || !pki.AllowsUsage(certs[0], 2 /* x509.ExtKeyUsageClientAuth */) {
		t.Fatalf("issued client certificate: %v", err)
	}
	r = runRegistryCmd(t, nil, args...)
	wantOK(t, r)
	wantContains(t, r.out, "Keeping the client certificate in "+filepath.Join(root, "myreg:5000"), "Nothing to do")
}

// registryServer is a loopback TLS server presenting the registry
// certificate and its CA.
func registryServer(t *testing.T, f *regFixture) string {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{f.srv.Cert.Raw, f.caCert.Cert.Raw}, PrivateKey: f.srv.Key}}}
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); time.Sleep(10 * time.Millisecond); c.Close() }()
		}
	}()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func TestInstallRegistryFetchCA(t *testing.T) {
	f := newRegFixture(t)
	host := registryServer(t, f)
	caFP := pki.Fingerprint(f.caCert.Cert)
	root := filepath.Join(t.TempDir(), "certs.d")

	r := runRegistryCmd(t, nil, host, "--fetch-ca", "--certs-dir", root)
	wantInputError(t, r, host+` presented the CA "Registry CA" with fingerprint `+caFP+`; standard input is not a terminal, so it cannot be confirmed interactively: check the fingerprint with the registry's administrator and rerun with --fingerprint `+caFP)
	wantContains(t, r.out, host+" presented 2 certificates:\n  1. subject     CN=myreg\n", "  2. subject     CN=Registry CA (CA, self-signed)\n", "     fingerprint "+caFP+"\n")
	noFiles(t, root)

	wrong := "SHA256:" + strings.Repeat("0A:", 31) + "0A"
	r = runRegistryCmd(t, nil, host, "--fetch-ca", "--fingerprint", wrong, "--certs-dir", root)
	wantInputError(t, r, `--fingerprint `+wrong+` does not match the CA `+host+` presented ("Registry CA", `+caFP+`): nothing was installed; the connection may be intercepted, or the registry's CA has changed`)
	noFiles(t, root)

	var asked string
	r = runRegistryCmd(t, func(p string) (bool, error) { asked = p; return false, nil }, host, "--fetch-ca", "--certs-dir", root)
	wantInputError(t, r, `the CA "Registry CA" (`+caFP+`) was not confirmed: nothing was installed`)
	if asked != `Install "Registry CA" (`+caFP+`) as the CA for `+host+`? [y/N] ` {
		t.Fatalf("prompt %q", asked)
	}
	noFiles(t, root)

	r = runRegistryCmd(t, func(string) (bool, error) { return true, nil }, host, "--fetch-ca", "--certs-dir", root)
	wantOK(t, r)
	r = runRegistryCmd(t, nil, host, "--fetch-ca", "--fingerprint", strings.ToLower(caFP), "--certs-dir", root)
	wantOK(t, r)
	wantContains(t, r.out, `The CA "Registry CA" matches --fingerprint `+caFP+".\n", "Nothing to do")
	got, _ := os.ReadFile(filepath.Join(root, host, "ca.crt"))
	if !bytes.Equal(got, f.caCert.CertPEM()) {
		t.Fatalf("ca.crt is not the registry's CA:\n%s", got)
	}
}
