package e2e

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// tlsDaemon starts a real dockerd with TLS and client verification on a
// loopback port and returns its tcp:// host and the PKI directory.
func tlsDaemon(t *testing.T, c *Cell) (host, pk string) {
	t.Helper()
	dir := t.TempDir()
	pk = filepath.Join(dir, "pki")
	mustDockerTLS(t, nil, "init", "--san", "localhost,127.0.0.1", "--out", pk)
	p := func(n string) string { return filepath.Join(pk, n) }
	ns := NewNamespace(t)
	host = fmt.Sprintf("tcp://127.0.0.1:%d", FreePort(t, "127.0.0.1"))
	mustDockerTLS(t, nil, "install", "daemon", "--cert", p("server-cert.pem"), "--key", p("server-key.pem"), "--client-ca", p("ca.pem"),
		"--host", host, "--host", "unix:///var/run/docker.sock", "--dir", filepath.Join(dir, "daemon"),
		"--daemon-json", ns.HostPath("/etc/docker/daemon.json"), "--root", t.TempDir())
	StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
	return host, pk
}

// The doctor run the way a user types it after a failure: a bare target,
// no global flags, the environment as it was.
func TestDoctorIntakeAsUsersType(t *testing.T) {
	Require(t)
	ForEachCell(t, doctorIntakeAsUsersType)
}

func doctorIntakeAsUsersType(t *testing.T, c *Cell) {
	host, pk := tlsDaemon(t, c)
	bare := strings.TrimPrefix(host, "tcp://")

	// 1. Healthy through DOCKER_CERT_PATH + a flag: docker -H … --tlsverify
	// works; the doctor, given only the target, finds that setup: exit 0.
	env := []string{"DOCKER_CERT_PATH=" + pk}
	if _, stderr, code := RunDocker(t, env, "-H", host, "--tlsverify", "version"); code != 0 {
		t.Fatalf("docker -H %s --tlsverify version with DOCKER_CERT_PATH: exit %d\n%s", host, code, stderr)
	}
	out, stderr, code := dockerTLS(t, env, "doctor", host, "--format", "json")
	if code != 0 {
		t.Fatalf("healthy DOCKER_CERT_PATH + --tlsverify: exit %d\n%s\n%s", code, out, stderr)
	}
	rep := parseReport(t, out)
	if len(rep.Findings) == 0 || rep.Findings[0].ID != "probe-ok" || !strings.Contains(rep.Findings[0].Setup, "--tlsverify") {
		t.Errorf("the working TLS setup does not lead: %+v", rep.Findings)
	}
	if len(rep.Targets) != 1 || rep.Targets[0].Kind != "daemon" || len(rep.Targets[0].Setups) < 2 {
		t.Errorf("targets: %+v", rep.Targets)
	}

	// 2. Plain client environment against the TLS port, material in
	// ~/.docker (the config dir): docker fails; the doctor leads with the
	// TLS setup, names the plain one as what the CLI does now, and the
	// command it names works.
	cfg := DockerConfigDir(t)
	for _, n := range []string{"ca.pem", "cert.pem", "key.pem"} {
		copyFile(t, filepath.Join(pk, n), filepath.Join(cfg, n), 0o600)
	}
	env = []string{"DOCKER_HOST=" + host}
	_, dockerErr, code := RunDocker(t, env, "version")
	if code == 0 {
		t.Fatal("plain docker version against the TLS port succeeded")
	}
	out, _, code = dockerTLS(t, env, "doctor", bare, "--format", "json")
	rep = parseReport(t, out)
	// The port is not 2376 and dockerd demands a client certificate and
	// picks http/1.1: the intake asks again with the material it found.
	if len(rep.Targets) != 1 || rep.Targets[0].Kind != "daemon" || !strings.Contains(rep.Targets[0].KindReason, "asked again with the client certificate of docker -H "+host+" --tlsverify: https://"+bare+"/_ping answered with Api-Version ") {
		t.Errorf("kind not asked with the material in ~/.docker: %+v", rep.Targets)
	}
	if len(rep.Findings) < 2 || !strings.Contains(rep.Findings[0].Setup, "--tlsverify") || rep.Findings[0].ID != "probe-ok" {
		t.Fatalf("the TLS setup does not lead: %+v (targets %+v)", rep.Findings, rep.Targets)
	}
	var plain *struct{ id, docker, fix string }
	for _, f := range rep.Findings[1:] {
		if f.ID == "probe-plain-client-to-tls" {
			plain = &struct{ id, docker, fix string }{f.ID, f.Docker, f.Fix}
			// What `docker version` as typed does, and it fails: a
			// warning (exit 0, the TLS setup works) that leads the summary.
			if f.Severity != "warning" || !strings.HasPrefix(f.Message, "with DOCKER_HOST="+host+" docker: ") ||
				!strings.HasSuffix(f.Message, "connects with plain HTTP (the default context has no TLS settings)") {
				t.Errorf("the plain setup's line: %s %q", f.Severity, f.Message)
			}
		}
	}
	if plain == nil {
		t.Fatalf("no line on what the plain setup does: %+v", rep.Findings)
	}
	// docker's line exactly as the installed CLI printed it.
	if got, want := maskTimes(plain.docker), maskTimes(lastLine(dockerErr)); got != want {
		t.Errorf("doctor quotes %q, docker printed %q", got, want)
	}
	if code != 0 {
		t.Errorf("a working TLS setup exists: exit %d", code)
	}
	// Apply it: the leading setup's command line, and, for docker typed
	// without flags (DOCKER_HOST names the target), the printed export.
	if _, stderr, code := RunDocker(t, env, "-H", host, "--tlsverify", "version"); code != 0 {
		t.Errorf("docker -H %s --tlsverify (the setup the doctor leads with) fails: %s", host, stderr)
	}
	_, export, ok := strings.Cut(plain.fix, "; for docker without flags: export ")
	if !ok || !strings.HasPrefix(plain.fix, "nothing to do when you type --tlsverify: docker -H "+host+" --tlsverify works") {
		t.Fatalf("the fix does not say what makes docker without flags work: %q", plain.fix)
	}
	if _, stderr, code := RunDocker(t, append(env, strings.Fields(export)...), "version"); code != 0 {
		t.Errorf("docker version after export %s (the printed fix): %s", export, stderr)
	}
	if rep.Summary == nil || rep.Summary.CheckID != "probe-plain-client-to-tls" || rep.Summary.Fix != plain.fix {
		t.Errorf("the failing docker without flags is not the summary: %+v", rep.Summary)
	}
	// Text: the report opens with it and names the setups.
	text, _, _ := dockerTLS(t, env, "doctor", bare)
	if first, _, _ := strings.Cut(text, "\n"); !strings.HasPrefix(first, "Root cause: probe-plain-client-to-tls") || !strings.Contains(first, "Fix: "+plain.fix) {
		t.Errorf("text report's first line: %s", first)
	}
	if !strings.Contains(text, "with docker -H "+host+" --tlsverify") {
		t.Errorf("text report does not name the setup:\n%s", text)
	}
}

// A working plain-HTTP registry on localhost (dockerd treats loopback
// registries as insecure) gives no error, addressed as localhost:PORT.
func TestDoctorPlainLocalhostRegistry(t *testing.T) {
	Require(t)
	ForEachCell(t, doctorPlainLocalhostRegistry)
}

func doctorPlainLocalhostRegistry(t *testing.T, c *Cell) {
	ns := NewNetNamespace(t)
	reg := StartRegistry(t, RegistryOpts{Cell: c, Namespace: ns, Plain: true})
	target := net.JoinHostPort("localhost", strconv.Itoa(reg.Port))
	out, _, code := dockerTLSInNamespace(t, ns, []string{"HOME=" + t.TempDir()}, "doctor", target, "--format", "json")
	rep := parseReport(t, out)
	if code != 0 {
		t.Fatalf("plain localhost registry: exit %d\n%s", code, out)
	}
	if len(rep.Targets) != 1 || rep.Targets[0].Kind != "registry" || !strings.Contains(rep.Targets[0].KindReason, "Docker-Distribution-Api-Version") {
		t.Errorf("not identified as a registry: %+v", rep.Targets)
	}
	for _, f := range rep.Findings {
		if f.Severity == "error" {
			t.Errorf("error for a working localhost registry: %s %s", f.ID, f.Message)
		}
	}
}

// TestDoctorNothingListening: `docker -H 127.0.0.1:PORT version` fails
// because nothing listens there; the doctor, given the same bare
// host:port, reports the connect-refused outcome (not target-not-docker),
// quotes the line the installed docker printed in this test, gives a fix
// for a daemon or a registry, and exits 1 as for other live failures.
func TestDoctorNothingListening(t *testing.T) {
	Require(t)
	installPlugin(t)
	target := net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t, "127.0.0.1")))
	env := []string{"HOME=" + t.TempDir()}
	_, dockerErr, code := RunDocker(t, env, "-H", target, "version")
	if code == 0 {
		t.Fatalf("docker -H %s version succeeded with nothing listening", target)
	}
	out, stderr, code := dockerTLS(t, env, "doctor", target, "--format", "json")
	if code != 1 {
		t.Errorf("exit %d, want 1 (a live failure)\n%s", code, stderr)
	}
	rep := parseReport(t, out)
	if _, ok := rep.find("target-not-docker"); ok {
		t.Errorf("target-not-docker for a port nobody listens on: %+v", rep.Findings)
	}
	if len(rep.Targets) != 1 || rep.Targets[0].Kind != "daemon" || !strings.Contains(rep.Targets[0].KindReason, "connection refused; nothing could be asked") {
		t.Errorf("targets: %+v", rep.Targets)
	}
	if len(rep.Findings) == 0 || rep.Findings[0].ID != "probe-connect-refused" || rep.Findings[0].Severity != "error" {
		t.Fatalf("connect-refused does not lead: %+v", rep.Findings)
	}
	f := rep.Findings[0]
	if got, want := f.Docker, lastLine(dockerErr); got != want {
		t.Errorf("doctor quotes %q, docker printed %q", got, want)
	}
	if !strings.Contains(f.Message, "nothing listens on "+target+" (connection refused)") ||
		!strings.Contains(f.Fix, "is the daemon or registry running and listening there?") || !strings.Contains(f.Fix, "tcp://"+target) {
		t.Errorf("message %q\nfix %q", f.Message, f.Fix)
	}
	if rep.Summary == nil || rep.Summary.CheckID != "probe-connect-refused" {
		t.Errorf("summary: %+v", rep.Summary)
	}
}
