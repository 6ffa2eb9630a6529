//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/doctor/probe"
)

var apiVersionRE = regexp.MustCompile(`/v1\.\d+/`)

// normaliseDockerError removes what legitimately differs between the real
// docker client and the probe's reproduction: the API version in the URL
// (the CLI's default differs per release) and Go 1.20+'s "tls: failed to
// verify certificate: " prefix, which a dockerd built with older Go omits.
func normaliseDockerError(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 && !strings.Contains(s[i:], "Get \"") {
		s = strings.TrimSpace(s[:i])
	}
	s = apiVersionRE.ReplaceAllString(s, "/vX/")
	s = strings.ReplaceAll(s, "tls: failed to verify certificate: ", "")
	s = strings.ReplaceAll(s, "readLoopPeekFailLocked: ", "")
	return s
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func probeClientFromFiles(t *testing.T, ca, cert, key string) probe.Client {
	c := probe.Client{TLS: true, Source: "the test's client files"}
	if ca != "" {
		b, err := os.ReadFile(ca)
		if err != nil {
			t.Fatal(err)
		}
		c.CA, c.CAFile = b, ca
	}
	if cert != "" {
		cb, err := os.ReadFile(cert)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := os.ReadFile(key)
		if err != nil {
			t.Fatal(err)
		}
		c.Pairs = []probe.Pair{{CertFile: cert, KeyFile: key, Cert: cb, Key: kb}}
	}
	return c
}

// TestProbeReproducesDockerErrors breaks a real dockerd's TLS setup in the
// ways users do, runs the real docker CLI and the probe side by side, and
// checks that the probe reproduces the CLI's error and names the cause.
func TestProbeReproducesDockerErrors(t *testing.T) {
	Require(t)
	dir := t.TempDir()
	good, other, dnsOnly := filepath.Join(dir, "good"), filepath.Join(dir, "other"), filepath.Join(dir, "dns")
	mustDockerTLS(t, nil, "init", "--san", "localhost,127.0.0.1", "--out", good)
	mustDockerTLS(t, nil, "init", "--san", "localhost,127.0.0.1", "--out", other)
	mustDockerTLS(t, nil, "issue", "server", "--san", "docker.e2e.test", "--out", dnsOnly,
		"--ca-cert", filepath.Join(good, "ca.pem"), "--ca-key", filepath.Join(good, "ca-key.pem"))
	g := func(n string) string { return filepath.Join(good, n) }
	o := func(n string) string { return filepath.Join(other, n) }

	start := func(t *testing.T, cert, key string, verify bool) (*Dockerd, string) {
		ns := NewNamespace(t)
		port := FreePort(t, "127.0.0.1")
		host := fmt.Sprintf("tcp://127.0.0.1:%d", port)
		args := []string{"install", "daemon", "--cert", cert, "--key", key, "--host", host, "--host", "unix:///var/run/docker.sock",
			"--dir", filepath.Join(t.TempDir(), "daemon"), "--daemon-json", ns.HostPath("/etc/docker/daemon.json"), "--root", t.TempDir()}
		if verify {
			args = append(args, "--client-ca", g("ca.pem"))
		} else {
			args = append(args, "--no-client-verify")
		}
		mustDockerTLS(t, nil, args...)
		return StartDockerd(t, DockerdOpts{Namespace: ns}), host
	}

	cases := []struct {
		name       string
		dnsOnly    bool
		plainD     bool
		dockerArgs []string // TLS flags for the real CLI
		client     probe.Client
		want       probe.Outcome
		cause      string
	}{
		{name: "no client cert", dockerArgs: []string{"--tlsverify", "--tlscacert", g("ca.pem")},
			client: probeClientFromFiles(t, g("ca.pem"), "", ""), want: probe.OutcomeClientCertMissing,
			cause: "the server requires a client certificate (tlsverify)"},
		{name: "client cert from another CA", dockerArgs: []string{"--tlsverify", "--tlscacert", g("ca.pem"), "--tlscert", o("cert.pem"), "--tlskey", o("key.pem")},
			client: probeClientFromFiles(t, g("ca.pem"), o("cert.pem"), o("key.pem")), want: probe.OutcomeClientCertNotAccepted,
			cause: "but the server accepts only certificates from CN=docker-tls CA "},
		{name: "wrong server CA", dockerArgs: []string{"--tlsverify", "--tlscacert", o("ca.pem"), "--tlscert", g("cert.pem"), "--tlskey", g("key.pem")},
			client: probeClientFromFiles(t, o("ca.pem"), g("cert.pem"), g("key.pem")), want: probe.OutcomeServerUnknownCA,
			cause: "but the client trusts only CN=docker-tls CA "},
		{name: "IP not in SANs", dnsOnly: true, dockerArgs: []string{"--tlsverify", "--tlscacert", g("ca.pem"), "--tlscert", g("cert.pem"), "--tlskey", g("key.pem")},
			client: probeClientFromFiles(t, g("ca.pem"), g("cert.pem"), g("key.pem")), want: probe.OutcomeServerNameMismatch,
			cause: `the client connects to "127.0.0.1", but the server's certificate is valid only for docker.e2e.test`},
		{name: "plain client to TLS port", dockerArgs: nil, client: probe.Client{Source: "DOCKER_HOST"}, want: probe.OutcomePlainClientToTLS,
			cause: "requires TLS, but the client connects with plain HTTP"},
		{name: "TLS client to plain port", plainD: true, dockerArgs: []string{"--tlsverify", "--tlscacert", g("ca.pem"), "--tlscert", g("cert.pem"), "--tlskey", g("key.pem")},
			client: probeClientFromFiles(t, g("ca.pem"), g("cert.pem"), g("key.pem")), want: probe.OutcomePlainHTTPServer,
			cause: "speaks plain HTTP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var host string
			switch {
			case tc.plainD:
				ns := NewNamespace(t)
				host = fmt.Sprintf("tcp://127.0.0.1:%d", FreePort(t, "127.0.0.1"))
				writeDaemonJSON(t, ns, map[string]any{"hosts": []string{host, "unix:///var/run/docker.sock"}})
				StartDockerd(t, DockerdOpts{Namespace: ns})
			case tc.dnsOnly:
				_, host = start(t, filepath.Join(dnsOnly, "server-cert.pem"), filepath.Join(dnsOnly, "server-key.pem"), true)
			default:
				_, host = start(t, g("server-cert.pem"), g("server-key.pem"), true)
			}
			_, stderr, code := RunDocker(t, nil, append(append([]string{"-H", host}, tc.dockerArgs...), "version")...)
			if code == 0 {
				t.Fatalf("docker version succeeded; the case is not broken")
			}
			target, err := probe.ParseTarget(host, false)
			if err != nil {
				t.Fatal(err)
			}
			r := probe.Probe(context.Background(), target, tc.client, probe.Options{Timeout: 5 * time.Second})
			if r.Outcome != tc.want {
				t.Errorf("outcome %s, want %s (cause: %s)", r.Outcome, tc.want, r.Cause)
			}
			got, want := normaliseDockerError(r.DockerError), normaliseDockerError(lastLine(stderr))
			if got != want {
				t.Errorf("the probe reproduces\n  %q\nbut docker printed\n  %q", got, want)
			}
			if !strings.Contains(r.Cause, tc.cause) || r.Fix == "" {
				t.Errorf("cause %q lacks %q (fix %q)", r.Cause, tc.cause, r.Fix)
			}
		})
	}
}

// TestProbeRegistryMatchesPush: a registry that requires client certificates,
// a certs.d with only ca.crt; docker push fails, and the probe of the same
// certs.d says why, with dockerd's error.
func TestProbeRegistryMatchesPush(t *testing.T) {
	Require(t)
	ns := NewNamespace(t)
	reg, dir := startClientCertRegistry(t, ns)
	writeDaemonJSON(t, ns, map[string]any{"hosts": []string{"unix:///var/run/docker.sock"}})
	d := StartDockerd(t, DockerdOpts{Namespace: ns})
	tarPath := filepath.Join(t.TempDir(), "tiny.tar")
	writeTinyTar(t, tarPath)
	ref := reg.Host + "/probe:1"
	if _, stderr, code := d.Docker("import", tarPath, ref); code != 0 {
		t.Fatal(stderr)
	}
	resolver := probe.Options{Timeout: 5 * time.Second, Resolver: func(context.Context, string) ([]string, error) { return []string{"::1"}, nil }}
	target, err := probe.ParseTarget(reg.Host, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name  string
		files map[string]string
		want  probe.Outcome
	}{
		{"no certs.d", nil, probe.OutcomeServerUnknownCA},
		{"ca.crt only", map[string]string{"ca.crt": filepath.Join(dir, "ca.pem")}, probe.OutcomeClientCertMissing},
	} {
		t.Run(step.name, func(t *testing.T) {
			for n, src := range step.files {
				copyFile(t, src, filepath.Join(reg.CertsDir(), n), 0o644)
			}
			_, stderr, code := d.Docker("push", ref)
			if code == 0 {
				t.Fatal("push succeeded")
			}
			c, err := probe.ClientFromCertsDir(reg.CertsDir())
			if err != nil {
				t.Fatal(err)
			}
			r := probe.Probe(context.Background(), target, c, resolver)
			if r.Outcome != step.want {
				t.Errorf("outcome %s, want %s: %s", r.Outcome, step.want, r.Cause)
			}
			got := normaliseDockerError(strings.TrimPrefix(r.DockerError, "Error response from daemon: "))
			want := normaliseDockerError(lastLine(stderr))
			if got != want {
				t.Errorf("the probe reproduces\n  %q\nbut docker push printed\n  %q", got, want)
			}
		})
	}
}
