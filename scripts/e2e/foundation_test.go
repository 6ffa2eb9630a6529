//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPluginIntegration checks that the real docker CLI finds, lists and
// runs the plugin, and rejects what it should.
func TestPluginIntegration(t *testing.T) {
	Require(t)
	installPlugin(t)
	stdout, stderr, code := RunDocker(t, nil, "help")
	requireExit(t, "docker help", code, 0, stderr)
	if !strings.Contains(stdout, "tls*") || !strings.Contains(stdout, "Set up and diagnose TLS for Docker daemons and registries") {
		t.Errorf("docker help does not list the tls plugin:\n%s", stdout)
	}
	stdout, stderr, code = RunDocker(t, nil, "tls", "version")
	requireExit(t, "docker tls version", code, 0, stderr)
	if !strings.HasPrefix(stdout, "docker-tls ") {
		t.Errorf("docker tls version printed %q", stdout)
	}
	_, stderr, code = RunDocker(t, nil, "tls", "frobnicate")
	if code != 2 || !strings.Contains(stderr, "docker: unknown command: docker tls frobnicate") {
		t.Errorf("unknown subcommand: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = RunDocker(t, nil, "tls", "init", "--san", "x.example", "stray")
	if code != 2 || !strings.Contains(stderr, "docker: 'docker tls init' accepts no arguments") {
		t.Errorf("stray argument: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = RunDocker(t, nil, "tls", "init", "--bogus")
	if code != 2 || !strings.Contains(stderr, "unknown flag: --bogus") {
		t.Errorf("unknown flag: exit %d, stderr %q", code, stderr)
	}
	// Standalone, the same commands work without docker.
	stdout = mustDockerTLS(t, nil, "version")
	if !strings.HasPrefix(stdout, "docker-tls ") {
		t.Errorf("standalone version printed %q", stdout)
	}
	_, stderr, code = dockerTLS(t, nil, "frobnicate")
	if code != 2 || !strings.Contains(stderr, "unknown command: docker tls frobnicate") {
		t.Errorf("standalone unknown subcommand: exit %d, stderr %q", code, stderr)
	}
	// Metadata is what docker reads on every `docker help`.
	stdout = mustDockerTLS(t, nil, "docker-cli-plugin-metadata")
	var meta map[string]any
	if err := json.Unmarshal([]byte(stdout), &meta); err != nil || meta["Vendor"] != "docker-tls" || meta["SchemaVersion"] != "0.1.0" || meta["Version"] == "" {
		t.Errorf("metadata %q: %v", stdout, err)
	}
}

// tlsMode is one of the Docker docs' three ways to run dockerd with TLS.
type tlsMode struct {
	name string
	// daemon flags for `docker tls install daemon`
	daemon []string
	// client flags for `docker tls install client`
	client []string
	// tlsverify is the value daemon.json must end up with.
	tlsverify bool
}

// TestThreeTLSModes issues everything with the plugin (through the real
// docker CLI), installs it for a real dockerd and a docker context, and
// checks that `docker --context … version` succeeds in each mode while the
// same client without its certificate (or trust) fails with the real error,
// in every cell of the daemon matrix.
func TestThreeTLSModes(t *testing.T) {
	Require(t)
	installPlugin(t)
	pkiDir := filepath.Join(t.TempDir(), "pki")
	stdout, stderr, code := RunDocker(t, nil, "tls", "init", "--san", "localhost,127.0.0.1,docker.e2e.test", "--out", pkiDir)
	requireExit(t, "docker tls init", code, 0, stderr)
	for _, want := range []string{"created   " + filepath.Join(pkiDir, "ca.pem"), "docker tls install daemon --cert " + filepath.Join(pkiDir, "server-cert.pem"), "docker tls install client --context"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("init output lacks %q:\n%s", want, stdout)
		}
	}
	f := func(n string) string { return filepath.Join(pkiDir, n) }
	// A second, unrelated CA for the negative cases.
	otherDir := filepath.Join(t.TempDir(), "other")
	mustDockerTLS(t, nil, "init", "--san", "localhost,127.0.0.1", "--out", otherDir)

	modes := []tlsMode{
		{name: "tls-only", daemon: []string{"--no-client-verify"}, client: []string{"--skip-verify", "--no-client-cert"}},
		{name: "verify-server", daemon: []string{"--no-client-verify"}, client: []string{"--ca", f("ca.pem"), "--no-client-cert"}},
		{name: "tlsverify", daemon: []string{"--client-ca", f("ca.pem")}, client: []string{"--ca", f("ca.pem"), "--cert", f("cert.pem"), "--key", f("key.pem")}, tlsverify: true},
	}
	ForEachCell(t, func(t *testing.T, c *Cell) {
		for _, m := range modes {
			t.Run(m.name, func(t *testing.T) { threeTLSModesCase(t, c, m, f, otherDir) })
		}
	})
}

func threeTLSModesCase(t *testing.T, c *Cell, m tlsMode, f func(string) string, otherDir string) {
	ns := NewNamespace(t)
	port := FreePort(t, "127.0.0.1")
	host := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	daemonDir := filepath.Join(t.TempDir(), "daemon")
	args := append([]string{"install", "daemon", "--cert", f("server-cert.pem"), "--key", f("server-key.pem"),
		"--host", host, "--dir", daemonDir, "--daemon-json", ns.HostPath("/etc/docker/daemon.json"), "--root", t.TempDir()}, m.daemon...)
	out := mustDockerTLS(t, nil, args...)
	if !strings.Contains(out, "Note: added unix:///var/run/docker.sock to hosts") {
		t.Errorf("install daemon did not say it kept the local socket:\n%s", out)
	}
	var cfg map[string]any
	data, _ := os.ReadFile(ns.HostPath("/etc/docker/daemon.json"))
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if v, ok := cfg["tlsverify"].(bool); !ok || v != m.tlsverify {
		t.Errorf("daemon.json tlsverify = %v, want explicit %v:\n%s", cfg["tlsverify"], m.tlsverify, data)
	}
	if fi, err := os.Stat(filepath.Join(daemonDir, "server-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("server key mode: %v %v", fi, err)
	}
	d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})

	ctx := "e2e-" + m.name
	cargs := append([]string{"install", "client", "--context", ctx, "--host", host}, m.client...)
	out = mustDockerTLS(t, nil, cargs...)
	if !strings.Contains(out, "docker --context "+ctx+" version") {
		t.Errorf("install client output lacks the next command:\n%s", out)
	}
	stdout, stderr, code := RunDocker(t, nil, "--context", ctx, "version", "--format", "{{.Server.Version}}")
	requireExit(t, "docker --context "+ctx+" version", code, 0, stderr)
	if strings.TrimSpace(stdout) == "" {
		t.Error("no server version")
	}
	// Installing the same material again changes nothing.
	out = mustDockerTLS(t, nil, cargs...)
	if !strings.Contains(out, "already has this endpoint and TLS material: nothing to do") {
		t.Errorf("second install client:\n%s", out)
	}

	// The failures the mode exists to prevent.
	switch m.name {
	case "tls-only":
		_, stderr, code = RunDocker(t, nil, "-H", host, "version")
		requireFailureContaining(t, "plain client", code, stderr, "Client sent an HTTP request to an HTTPS server.")
	case "verify-server":
		mustDockerTLS(t, nil, "install", "client", "--context", "wrong-ca", "--host", host, "--ca", filepath.Join(otherDir, "ca.pem"), "--no-client-cert")
		_, stderr, code = RunDocker(t, nil, "--context", "wrong-ca", "version")
		requireFailureContaining(t, "client trusting another CA", code, stderr, "x509: certificate signed by unknown authority")
	case "tlsverify":
		mustDockerTLS(t, nil, "install", "client", "--context", "no-cert", "--host", host, "--ca", f("ca.pem"), "--no-client-cert")
		_, stderr, code = RunDocker(t, nil, "--context", "no-cert", "version")
		requireNoClientCertError(t, c, code, stderr, host)
		mustDockerTLS(t, nil, "install", "client", "--context", "other-ca", "--host", host, "--ca", f("ca.pem"),
			"--cert", filepath.Join(otherDir, "cert.pem"), "--key", filepath.Join(otherDir, "key.pem"))
		_, stderr, code = RunDocker(t, nil, "--context", "other-ca", "version")
		requireFailureContaining(t, "client cert from another CA", code, stderr, "remote error: tls:")
		// The DOCKER_CERT_PATH route works too.
		certPath := filepath.Join(t.TempDir(), "certs")
		out := mustDockerTLS(t, nil, "install", "client", "--cert-path", certPath, "--host", host, "--ca", f("ca.pem"), "--cert", f("cert.pem"), "--key", f("key.pem"))
		if !strings.Contains(out, "export DOCKER_HOST="+host+" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="+certPath) {
			t.Errorf("install client --cert-path output:\n%s", out)
		}
		_, stderr, code = d.NS.RunDocker(t, []string{"DOCKER_HOST=" + host, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + certPath}, "version")
		requireExit(t, "docker version with DOCKER_CERT_PATH", code, 0, stderr)
	}
}

// requireNoClientCertError checks docker's line when the client sends no
// certificate to a dockerd that requires one (see noClientCertLine).
func requireNoClientCertError(t *testing.T, c *Cell, code int, stderr, host string) {
	t.Helper()
	if code == 0 {
		t.Fatalf("cell %s: docker without a client certificate succeeded", c.Name)
	}
	got := normaliseDockerError(lastLine(stderr))
	if want := noClientCertLine(c, strings.TrimPrefix(host, "tcp://")); got != want {
		t.Fatalf("cell %s: docker without a client certificate printed\n  %q\nwant\n  %q", c.Name, got, want)
	}
}
