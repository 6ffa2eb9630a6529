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

// lineTimeRE matches the timestamps Go's x509 errors carry ("current time
// 2026-11-30T06:51:00Z is after ..."): docker and the doctor run a moment
// apart, so the current time may differ by a second.
var lineTimeRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)

// normaliseDockerError removes what legitimately differs between the real
// docker client and the probe's reproduction: the API version in the URL
// (the CLI's default differs per release) and Go 1.20+'s "tls: failed to
// verify certificate: " prefix, which a dockerd built with older Go omits,
// and timestamps.
func normaliseDockerError(s string) string {
	s = lineTimeRE.ReplaceAllString(strings.TrimSpace(s), "TIME")
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

	start := func(t *testing.T, c *Cell, cert, key string, verify bool) (*Dockerd, string) {
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
		return StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns}), host
	}

	cases := []struct {
		name       string
		dnsOnly    bool
		plainD     bool
		dockerArgs []string // TLS flags for the real CLI
		client     probe.Client
		want       probe.Outcome
		cause      string
		// docker is the line the docker CLI prints with this cell's
		// daemon, normalised (normaliseDockerError); addr is host:port.
		docker func(c *Cell, addr string) string
	}{
		{name: "no client cert", dockerArgs: []string{"--tlsverify", "--tlscacert", g("ca.pem")},
			client: probeClientFromFiles(t, g("ca.pem"), "", ""), want: probe.OutcomeClientCertMissing,
			cause: "the server requires a client certificate (tlsverify)", docker: noClientCertLine},
		{name: "client cert from another CA", dockerArgs: []string{"--tlsverify", "--tlscacert", g("ca.pem"), "--tlscert", o("cert.pem"), "--tlskey", o("key.pem")},
			client: probeClientFromFiles(t, g("ca.pem"), o("cert.pem"), o("key.pem")), want: probe.OutcomeClientCertNotAccepted,
			cause: "but the server accepts only certificates from CN=docker-tls CA ", docker: func(c *Cell, addr string) string {
				// The docker CLI (Go's TLS client) sends a certificate only if
				// its issuer is among the CAs the server asks for, so it sends
				// none: the server's alert is the no-certificate one.
				return noClientCertLine(c, addr)
			}},
		{name: "wrong server CA", dockerArgs: []string{"--tlsverify", "--tlscacert", o("ca.pem"), "--tlscert", g("cert.pem"), "--tlskey", g("key.pem")},
			client: probeClientFromFiles(t, o("ca.pem"), g("cert.pem"), g("key.pem")), want: probe.OutcomeServerUnknownCA,
			cause: "but the client trusts only CN=docker-tls CA ", docker: func(_ *Cell, addr string) string {
				return connectErr(addr, "x509: certificate signed by unknown authority")
			}},
		{name: "IP not in SANs", dnsOnly: true, dockerArgs: []string{"--tlsverify", "--tlscacert", g("ca.pem"), "--tlscert", g("cert.pem"), "--tlskey", g("key.pem")},
			client: probeClientFromFiles(t, g("ca.pem"), g("cert.pem"), g("key.pem")), want: probe.OutcomeServerNameMismatch,
			cause: `the client connects to "127.0.0.1", but the server's certificate is valid only for docker.e2e.test`, docker: func(_ *Cell, addr string) string {
				return connectErr(addr, "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs")
			}},
		{name: "plain client to TLS port", dockerArgs: nil, client: probe.Client{Source: "DOCKER_HOST"}, want: probe.OutcomePlainClientToTLS,
			cause: "requires TLS, but the client connects with plain HTTP", docker: func(*Cell, string) string {
				return "Error response from daemon: Client sent an HTTP request to an HTTPS server."
			}},
		{name: "TLS client to plain port", plainD: true, dockerArgs: []string{"--tlsverify", "--tlscacert", g("ca.pem"), "--tlscert", g("cert.pem"), "--tlskey", g("key.pem")},
			client: probeClientFromFiles(t, g("ca.pem"), g("cert.pem"), g("key.pem")), want: probe.OutcomePlainHTTPServer,
			cause: "speaks plain HTTP", docker: func(_ *Cell, addr string) string {
				return connectErr(addr, "http: server gave HTTP response to HTTPS client")
			}},
	}
	ForEachCell(t, func(t *testing.T, c *Cell) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var host string
				switch {
				case tc.plainD:
					ns := NewNamespace(t)
					host = fmt.Sprintf("tcp://127.0.0.1:%d", FreePort(t, "127.0.0.1"))
					writeDaemonJSON(t, ns, map[string]any{"hosts": []string{host, "unix:///var/run/docker.sock"}})
					StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
				case tc.dnsOnly:
					_, host = start(t, c, filepath.Join(dnsOnly, "server-cert.pem"), filepath.Join(dnsOnly, "server-key.pem"), true)
				default:
					_, host = start(t, c, g("server-cert.pem"), g("server-key.pem"), true)
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
				dockerLine := normaliseDockerError(lastLine(stderr))
				if want := tc.docker(c, strings.TrimPrefix(host, "tcp://")); dockerLine != want {
					t.Errorf("cell %s: docker printed\n  %q\nwant\n  %q", c.Name, dockerLine, want)
				}
				compareDoctorLine(t, c, tc.name, normaliseDockerError(r.DockerError), dockerLine)
				if !strings.Contains(r.Cause, tc.cause) || r.Fix == "" {
					t.Errorf("cause %q lacks %q (fix %q)", r.Cause, tc.cause, r.Fix)
				}
			})
		}
	})
}

// doctorGaps records, by "cell/case", where the doctor's reproduction of
// docker's error line is known to differ from the line docker prints with
// that daemon, and how. The tests assert docker's own line; the doctor's
// line must equal it unless a gap is recorded here, and a recorded gap that
// is gone fails too, so this list stays true.
var doctorGaps = map[string]string{}

func compareDoctorLine(t *testing.T, c *Cell, caseName, doctorLine, dockerLine string) {
	t.Helper()
	gap, known := doctorGaps[c.Name+"/"+caseName]
	switch {
	case doctorLine == dockerLine && known:
		t.Errorf("cell %s, %s: the doctor now reproduces docker's line %q; remove the recorded gap %q", c.Name, caseName, dockerLine, gap)
	case doctorLine != dockerLine && !known:
		t.Errorf("cell %s, %s: the doctor reproduces\n  %q\nbut docker printed\n  %q", c.Name, caseName, doctorLine, dockerLine)
	case doctorLine != dockerLine:
		t.Logf("cell %s, %s: known doctor gap (%s): the doctor prints %q, docker %q", c.Name, caseName, gap, doctorLine, dockerLine)
	}
}

// TestProbeRegistryMatchesPush: a registry that requires client certificates,
// a certs.d with only ca.crt; docker push fails, and the doctor, run inside
// the namespace on the same certs.d, says why with dockerd's error, in every
// cell of the daemon matrix.
func TestProbeRegistryMatchesPush(t *testing.T) {
	Require(t)
	ForEachCell(t, func(t *testing.T, c *Cell) {
		ns := NewNetNamespace(t)
		reg, dir := startClientCertRegistry(t, c, ns)
		writeDaemonJSON(t, ns, map[string]any{"hosts": []string{"unix:///var/run/docker.sock"}})
		d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
		tarPath := filepath.Join(t.TempDir(), "tiny.tar")
		writeTinyTar(t, tarPath)
		ref := reg.Host + "/probe:1"
		if _, stderr, code := d.Docker("import", tarPath, ref); code != 0 {
			t.Fatal(stderr)
		}
		for _, step := range []struct {
			name  string
			files map[string]string
			want  probe.Outcome
			// docker is docker push's last line, normalised.
			docker func(c *Cell, host, repo string) string
		}{
			{"no certs.d", nil, probe.OutcomeServerUnknownCA, pushUnknownCALine},
			{"ca.crt only", map[string]string{"ca.crt": filepath.Join(dir, "ca.pem")}, probe.OutcomeClientCertMissing, pushNoClientCertLine},
		} {
			t.Run(step.name, func(t *testing.T) {
				for n, src := range step.files {
					copyFile(t, src, filepath.Join(reg.CertsDir(), n), 0o644)
				}
				_, stderr, code := d.NS.RunDocker(t, d.Env(), "push", ref)
				if code == 0 {
					t.Fatal("push succeeded")
				}
				_, pullErr, code := d.NS.RunDocker(t, d.Env(), "pull", ref)
				if code == 0 {
					t.Fatal("pull succeeded")
				}
				dockerLine := normalisePushError(lastLine(stderr))
				if want := step.docker(c, reg.Host, "probe"); dockerLine != want {
					t.Errorf("cell %s: docker push printed\n  %q\nwant\n  %q", c.Name, dockerLine, want)
				}
				// The doctor as the user runs it: docker's environment.
				out, _, _ := dockerTLSInNamespace(t, ns, append(d.Env(), "HOME="+t.TempDir()), "doctor", "--registry", reg.Host, "--format", "json")
				rep := parseReport(t, out)
				i, ok := rep.find(string(step.want))
				if !ok {
					t.Fatalf("cell %s: no %s finding: %+v", c.Name, step.want, rep.Findings)
				}
				// The doctor cannot know the repository pushed; it names
				// the loader it judged with.
				got := normalisePushError(strings.ReplaceAll(rep.Findings[i].DockerPush, "/v2/"+probe.RepoPlaceholder+"/", "/v2/probe/"))
				wantRules := "moby's classic certs.d loader (the daemon (Docker "
				if c.ContainerdStore {
					wantRules = "containerd's hosts loader, as dockerd with the containerd image store reads it (the daemon (Docker "
				}
				if !strings.Contains(out, wantRules) {
					t.Errorf("cell %s: the doctor does not say it read certs.d with %q:\n%s", c.Name, wantRules, out)
				}
				compareDoctorLine(t, c, "push/"+step.name, got, dockerLine)
				// docker push's and docker pull's lines, exactly as the
				// installed CLI printed them against this dockerd.
				f := rep.Findings[i]
				if got := fillImage(f.DockerPush, "probe", "1", lastLine(stderr)); maskTimes(got) != maskTimes(lastLine(stderr)) {
					t.Errorf("cell %s: the doctor quotes for docker push\n  %q\ndocker push printed\n  %q", c.Name, got, lastLine(stderr))
				}
				if got := fillImage(f.Docker, "probe", "1", lastLine(stderr)); maskTimes(got) != maskTimes(lastLine(pullErr)) {
					t.Errorf("cell %s: the doctor quotes for docker pull\n  %q\ndocker pull printed\n  %q", c.Name, got, lastLine(pullErr))
				}
			})
		}
	})
}

var digestRE = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// normalisePushError is normaliseDockerError plus blob digests, which the
// containerd image store's errors name.
func normalisePushError(s string) string {
	return digestRE.ReplaceAllString(normaliseDockerError(s), "sha256:DIGEST")
}

// pushUnknownCALine is docker push's last line, normalised, when the
// registry's CA is not trusted; repo is the repository pushed to.
func pushUnknownCALine(c *Cell, host, repo string) string {
	return pushLine(c, host, repo, "x509: certificate signed by unknown authority")
}

// pushNoClientCertLine is docker push's last line, normalised, when the
// registry wants a client certificate and certs.d has none: the alert is the
// registry's (see Cell.GoTLS121).
func pushNoClientCertLine(c *Cell, host, repo string) string {
	if c.GoTLS121 {
		return pushLine(c, host, repo, "remote error: tls: certificate required")
	}
	return pushLine(c, host, repo, "remote error: tls: bad certificate")
}

// pushLine: moby's classic store fails on its first request, the /v2/ ping;
// the containerd image store pings nothing and fails on its first blob
// HEAD, in containerd's resolver's words.
func pushLine(c *Cell, host, repo, cause string) string {
	if c.ContainerdStore {
		return fmt.Sprintf(`failed to do request: Head "https://%s/v2/%s/blobs/sha256:DIGEST": %s`, host, repo, cause)
	}
	return fmt.Sprintf(`Get "https://%s/v2/": %s`, host, cause)
}

// badCertificateLine is the docker CLI's line for a "bad certificate"
// alert: its client replaces the usual "error during connect: " with a
// --tlsverify hint, for this alert and no other.
func badCertificateLine(addr string) string {
	return fmt.Sprintf(`the server probably has client authentication (--tlsverify) enabled; check your TLS client certification settings: Get "https://%s/vX/version": remote error: tls: bad certificate`, addr)
}

// connectErr is the docker CLI's line for a failed `docker version`
// connection to addr, normalised by normaliseDockerError.
func connectErr(addr, cause string) string {
	return fmt.Sprintf(`error during connect: Get "https://%s/vX/version": %s`, addr, cause)
}

// noClientCertLine is docker's line when the client sends no certificate
// and dockerd requires one: dockerd 20.10 (Go 1.19) sends the "bad
// certificate" alert, which the CLI prefixes with its --tlsverify hint; a
// dockerd built with Go ≥ 1.21 sends "certificate required", and the CLI
// adds no hint.
func noClientCertLine(c *Cell, addr string) string {
	if c.GoTLS121 {
		return connectErr(addr, "remote error: tls: certificate required")
	}
	return badCertificateLine(addr)
}
