package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitLayoutAndModes(t *testing.T) {
	cfg := newConfig(t)
	out := mustRun(t, cfg, "init", "--san", "docker.example.com,10.0.0.5")
	dir := filepath.Join(cfg, "tls")
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("tls dir: %v %v", fi, err)
	}
	for name, mode := range map[string]os.FileMode{"ca.pem": 0o644, "ca-key.pem": 0o600, "server-cert.pem": 0o644, "server-key.pem": 0o600, "cert.pem": 0o644, "key.pem": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want mode %04o", name, fi, err, mode)
		}
		if !strings.Contains(out, "created   "+filepath.Join(dir, name)) {
			t.Errorf("output does not report %s", name)
		}
	}
	if !strings.Contains(out, "docker tls install client --context tls-docker.example.com --host tcp://docker.example.com:2376") {
		t.Errorf("init does not print the client next step:\n%s", out)
	}
	// Re-running reuses the CA and refuses to replace different certificates.
	r := run(t, cfg, "init", "--san", "docker.example.com")
	if r.code != 2 || !strings.Contains(r.stdout, "Using the existing CA in "+dir) ||
		!strings.Contains(r.stderr, "nothing was written; 2 files are in the way:") || !strings.Contains(r.stderr, "use --force to replace them") {
		t.Errorf("second init: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	out = mustRun(t, cfg, "init", "--san", "docker.example.com", "--force")
	if !strings.Contains(out, "replaced  "+filepath.Join(dir, "server-cert.pem")) || !strings.Contains(out, "old file kept as "+filepath.Join(dir, "server-cert.pem.bak-")) {
		t.Errorf("forced init:\n%s", out)
	}
}

func TestBadInputMessages(t *testing.T) {
	cfg := newConfig(t)
	dir := t.TempDir()
	mustRun(t, cfg, "init", "--san", "localhost", "--out", dir)
	other := t.TempDir()
	mustRun(t, cfg, "init", "--san", "localhost", "--out", other)
	p := func(n string) string { return filepath.Join(dir, n) }
	der := filepath.Join(dir, "ca.der")
	if out, err := exec.Command("openssl", "x509", "-in", p("ca.pem"), "-outform", "der", "-out", der).CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v %s", err, out)
	}
	enc := filepath.Join(dir, "enc-key.pem")
	if out, err := exec.Command("openssl", "pkey", "-in", p("key.pem"), "-aes256", "-passout", "pass:x", "-out", enc).CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v %s", err, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"init"}, "--san is required: give every DNS name and IP address clients use to reach the daemon, for example --san docker.example.com,10.0.0.5"},
		{[]string{"init", "--san", "tcp://h:2376"}, `--san: invalid SAN "tcp://h:2376": expected a DNS name or IP address, not a URL, host:port or path`},
		{[]string{"init", "--san", "h", "--key", "dsa"}, `--key: invalid key type "dsa": expected one of ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096, ed25519`},
		{[]string{"issue", "client"}, "no CA found at " + filepath.Join(cfg, "tls", "ca.pem") + ": create one with 'docker tls ca create', or pass your own with --ca-cert and --ca-key"},
		{[]string{"issue", "client", "--ca-cert", p("ca.pem")}, "--ca-cert " + p("ca.pem") + " was given without --ca-key: pass both, or neither to use the docker-tls CA"},
		{[]string{"issue", "client", "--ca-cert", p("ca.pem"), "--ca-key", filepath.Join(other, "ca-key.pem")}, "CA key " + filepath.Join(other, "ca-key.pem") + " does not match CA certificate " + p("ca.pem")},
		{[]string{"issue", "client", "--ca-cert", p("ca-key.pem"), "--ca-key", p("ca.pem")}, p("ca-key.pem") + ": found a private key, expected a PEM certificate (-----BEGIN CERTIFICATE-----) (are the certificate and key files swapped?)"},
		{[]string{"issue", "client", "--ca-cert", der, "--ca-key", p("ca-key.pem")}, der + ": found a DER-encoded certificate, expected a PEM certificate (-----BEGIN CERTIFICATE-----) (convert it with: openssl x509 -inform der -in " + der + " -out " + der + ".pem)"},
		{[]string{"issue", "client", "--ca-cert", p("cert.pem"), "--ca-key", p("key.pem")}, p("cert.pem") + ` is not a CA certificate (subject "CN=client" has no basicConstraints CA:TRUE): it cannot sign certificates`},
		{[]string{"issue", "client", "--ca-cert", p("missing.pem"), "--ca-key", p("ca-key.pem")}, p("missing.pem") + ": no such file (expected the CA certificate)"},
		{[]string{"issue", "server", "--ca-cert", p("ca.pem"), "--ca-key", p("ca-key.pem")}, "--san is required"},
		{[]string{"install", "client", "--cert-path", t.TempDir(), "--ca", p("ca.pem"), "--cert", p("cert.pem"), "--key", enc}, enc + ": found an encrypted private key, expected an unencrypted PEM private key: Docker does not support encrypted keys"},
		{[]string{"install", "client", "--cert-path", t.TempDir(), "--ca", p("ca.pem"), "--cert", p("cert.pem"), "--key", filepath.Join(other, "key.pem")}, filepath.Join(other, "key.pem") + " does not match " + p("cert.pem")},
		{[]string{"install", "client", "--cert-path", t.TempDir(), "--ca", p("server-cert.pem"), "--cert", p("cert.pem"), "--key", p("key.pem")}, p("server-cert.pem") + `: found a certificate for "localhost" that is not a CA (no basicConstraints CA:TRUE), expected the CA that signed the daemon's certificate`},
		{[]string{"install", "client", "--cert-path", t.TempDir(), "--ca", p("ca.pem"), "--cert", p("server-cert.pem"), "--key", p("server-key.pem")}, p("server-cert.pem") + `: certificate "localhost" does not allow client authentication (extended key usage serverAuth, expected clientAuth)`},
		{[]string{"install", "client", "--context", "prod", "--ca", p("ca.pem"), "--cert", p("cert.pem"), "--key", p("key.pem")}, "--context prod needs --host tcp://HOST:2376, the daemon's address"},
		{[]string{"install", "client", "--context", "prod", "--host", "unix:///var/run/docker.sock"}, `--host "unix:///var/run/docker.sock": expected a tcp://HOST:PORT endpoint; TLS is for TCP connections`},
		{[]string{"install", "daemon", "--dir", t.TempDir(), "--cert", p("cert.pem"), "--key", p("key.pem"), "--client-ca", p("ca.pem")}, p("cert.pem") + `: certificate "client" does not allow server authentication (extended key usage clientAuth, expected serverAuth)`},
		{[]string{"install", "daemon", "--dir", t.TempDir(), "--cert", p("server-key.pem"), "--key", p("server-cert.pem")}, p("server-key.pem") + ": found a private key, expected a PEM certificate"},
		{[]string{"inspect"}, "docker: 'docker tls inspect' requires at least 1 argument"},
	} {
		r := run(t, cfg, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("docker-tls %s: exit %d, stderr:\n%s\nwant exit 2 and %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
		}
		if strings.Contains(r.stdout+r.stderr, "PRIVATE KEY-----") {
			t.Errorf("docker-tls %s printed key material", strings.Join(tc.args, " "))
		}
	}
}

func TestBringYourOwnCA(t *testing.T) {
	cfg := newConfig(t)
	caDir := t.TempDir()
	// A corporate CA made with openssl, signing the server; the docker-tls CA signs clients.
	key, crt := filepath.Join(caDir, "corp-key.pem"), filepath.Join(caDir, "corp.pem")
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "30",
		"-subj", "/CN=Corp Root", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign").CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v %s", err, out)
	}
	out := mustRun(t, cfg, "issue", "server", "--san", "docker.corp,10.1.2.3", "--ca-cert", crt, "--ca-key", key, "--out", caDir)
	if !strings.Contains(out, "signed by "+crt) {
		t.Errorf("issue server:\n%s", out)
	}
	v, err := exec.Command("openssl", "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", crt, filepath.Join(caDir, "server-cert.pem")).CombinedOutput()
	if err != nil {
		t.Errorf("openssl verify: %v %s", err, v)
	}
	// Validity is clamped to the 30-day CA, and said so.
	if !strings.Contains(out, "Note: validity shortened to end with the CA on") {
		t.Errorf("no clamp note:\n%s", out)
	}
	mustRun(t, cfg, "ca", "create")
	mustRun(t, cfg, "issue", "client", "--name", "ci-runner")
	r := run(t, cfg, "ca", "create")
	if r.code != 2 || !strings.Contains(r.stderr, filepath.Join(cfg, "tls", "ca.pem")+" (CA certificate): exists with different content") {
		t.Errorf("ca create over an existing CA: %d %s", r.code, r.stderr)
	}
}

func TestInstallDaemonMergesAndDetectsUnitConflict(t *testing.T) {
	cfg := newConfig(t)
	pk := t.TempDir()
	mustRun(t, cfg, "init", "--san", "docker.example.com", "--out", pk)
	root := t.TempDir()
	unitDir := filepath.Join(root, "lib/systemd/system")
	os.MkdirAll(unitDir, 0o755)
	os.WriteFile(filepath.Join(unitDir, "docker.service"), []byte("[Service]\nExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock\n"), 0o644)
	etc := filepath.Join(root, "etc/docker")
	os.MkdirAll(etc, 0o755)
	os.WriteFile(filepath.Join(etc, "daemon.json"), []byte(`{"log-driver": "journald", "tlscacert": "/old/ca.pem", "features": {"buildkit": true}}`), 0o644)
	args := []string{"install", "daemon", "--dir", etc, "--root", root, "--cert", filepath.Join(pk, "server-cert.pem"), "--key", filepath.Join(pk, "server-key.pem"), "--client-ca", filepath.Join(pk, "ca.pem")}

	r := run(t, cfg, append(args, "--dry-run")...)
	if r.code != 0 || !strings.Contains(r.stdout, "Dry run: nothing is written.") || !strings.Contains(r.stdout, "replace   "+filepath.Join(etc, "daemon.json")) && !strings.Contains(r.stdout, "conflict  "+filepath.Join(etc, "daemon.json")) {
		t.Errorf("dry run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(etc, "server-cert.pem")); !os.IsNotExist(err) {
		t.Error("dry run wrote files")
	}
	// Merging into daemon.json is the command's purpose: no --force.
	out := mustRun(t, cfg, args...)
	data, _ := os.ReadFile(filepath.Join(etc, "daemon.json"))
	want := `{
  "log-driver": "journald",
  "tlscacert": "` + filepath.Join(etc, "ca.pem") + `",
  "features": {
    "buildkit": true
  },
  "hosts": [
    "unix:///var/run/docker.sock",
    "tcp://0.0.0.0:2376"
  ],
  "tls": true,
  "tlsverify": true,
  "tlscert": "` + filepath.Join(etc, "server-cert.pem") + `",
  "tlskey": "` + filepath.Join(etc, "server-key.pem") + `"
}
`
	if string(data) != want {
		t.Errorf("daemon.json:\n%s\nwant:\n%s", data, want)
	}
	for _, s := range []string{
		"Warning: docker.service starts dockerd with -H fd:// on the command line (/lib/systemd/system/docker.service), and daemon.json now sets hosts too:",
		`printf '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --containerd=/run/containerd/containerd.sock\n' | sudo tee /etc/systemd/system/docker.service.d/docker-tls.conf`,
		"old file kept as " + filepath.Join(etc, "daemon.json.bak-"),
	} {
		if !strings.Contains(out, s) {
			t.Errorf("install daemon output lacks %q:\n%s", s, out)
		}
	}
	// --write-dropin writes it, and then the conflict is gone.
	mustRun(t, cfg, append(args, "--write-dropin")...)
	dropIn, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/docker.service.d/docker-tls.conf"))
	if err != nil || string(dropIn) != "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --containerd=/run/containerd/containerd.sock\n" {
		t.Errorf("drop-in: %q %v", dropIn, err)
	}
	out = mustRun(t, cfg, args...)
	if strings.Contains(out, "Warning:") || !strings.Contains(out, "unchanged "+filepath.Join(etc, "daemon.json")) {
		t.Errorf("after the drop-in:\n%s", out)
	}
	// Server-only mode writes "tlsverify": false explicitly and drops tlscacert.
	out = mustRun(t, cfg, "install", "daemon", "--dir", etc, "--root", root, "--cert", filepath.Join(pk, "server-cert.pem"), "--key", filepath.Join(pk, "server-key.pem"), "--no-client-verify", "--force")
	var m map[string]any
	data, _ = os.ReadFile(filepath.Join(etc, "daemon.json"))
	json.Unmarshal(data, &m)
	if m["tlsverify"] != false || m["tls"] != true || m["tlscacert"] != nil {
		t.Errorf("server-only daemon.json: %s", data)
	}
	if !strings.Contains(out, "Note: removed tlscacert from daemon.json") {
		t.Errorf("server-only output:\n%s", out)
	}
}

func TestInspect(t *testing.T) {
	cfg := newConfig(t)
	dir := t.TempDir()
	mustRun(t, cfg, "init", "--san", "docker.example.com,10.0.0.5", "--out", dir, "--key", "rsa-2048")
	p := func(n string) string { return filepath.Join(dir, n) }
	out := mustRun(t, cfg, "inspect", p("server-cert.pem"), p("server-key.pem"), p("key.pem"), p("cert.pem"))
	for _, s := range []string{
		p("server-cert.pem") + ": a certificate (PEM)",
		"SANs:          DNS:docker.example.com, IP:10.0.0.5",
		"Issuer:        CN=docker-tls CA ",
		"Key usage:     digitalSignature, keyEncipherment",
		"Ext key usage: serverAuth",
		"Public key:    RSA 2048",
		"Fingerprint:   SHA256:",
		"SPKI pin:      sha256/",
		p("server-key.pem") + ": a private key (PEM)\n  Private key:   RSA 2048\n  Belongs to:    " + p("server-cert.pem"),
		p("key.pem") + ": a private key (PEM)\n  Private key:   RSA 2048\n  Belongs to:    " + p("cert.pem"),
	} {
		if !strings.Contains(out, s) {
			t.Errorf("inspect output lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "PRIVATE KEY") {
		t.Error("inspect printed key material")
	}
	var files []fileInfo
	if err := json.Unmarshal([]byte(mustRun(t, cfg, "inspect", "--format", "json", p("ca.pem"), p("ca-key.pem"))), &files); err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || !files[0].Certificates[0].IsCA || files[0].Certificates[0].MaxPathLen == nil || *files[0].Certificates[0].MaxPathLen != 0 ||
		len(files[1].Keys) != 1 || files[1].Keys[0].Matches[0] != p("ca.pem") {
		t.Errorf("json: %+v", files)
	}
	r := run(t, cfg, "inspect", p("nope.pem"), p("ca.pem"))
	if r.code != 2 || r.stderr != p("nope.pem")+": no such file (expected the certificate or key file)\n" || !strings.Contains(r.stdout, "CN=docker-tls CA ") {
		t.Errorf("missing file: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
