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

type doctorReport struct {
	Sources []struct {
		Kind, Path, Status string
	}
	Summary *struct {
		CheckID   string `json:"checkId"`
		RootCause string `json:"rootCause"`
		Fix       string `json:"fix"`
		Setup     string `json:"setup"`
	} `json:"summary"`
	Targets []struct {
		Input      string `json:"input"`
		Target     string `json:"target"`
		Kind       string `json:"kind"`
		KindReason string `json:"kindReason"`
		Setups     []struct {
			Name    string `json:"name"`
			Outcome string `json:"outcome"`
		} `json:"setups"`
	} `json:"targets"`
	Findings []struct {
		Setup    string            `json:"setup"`
		ID       string            `json:"checkId"`
		Severity string            `json:"severity"`
		Subject  string            `json:"subject"`
		Message  string            `json:"message"`
		Fix      string            `json:"fix"`
		Evidence map[string]string `json:"evidence"`
		Docker   string            `json:"dockerError"`
		// DockerPush is docker push's line, for a registry.
		DockerPush string `json:"dockerPushError"`
	}
}

func parseReport(t *testing.T, out string) doctorReport {
	t.Helper()
	var r doctorReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("doctor JSON: %v\n%s", err, out)
	}
	return r
}

func (r doctorReport) find(id string) (int, bool) {
	for i, f := range r.Findings {
		if f.ID == id {
			return i, true
		}
	}
	return -1, false
}

// TestDoctorLiveThroughDocker runs `docker tls doctor` through the real
// docker CLI against a real dockerd: with the context selected by
// --context it probes that context's endpoint with its material; with a
// broken environment it reproduces the CLI's error line and names the cause.
func TestDoctorLiveThroughDocker(t *testing.T) {
	Require(t)
	ForEachCell(t, doctorLiveThroughDocker)
}

func doctorLiveThroughDocker(t *testing.T, c *Cell) {
	installPlugin(t)
	dir := t.TempDir()
	pk := filepath.Join(dir, "pki")
	mustDockerTLS(t, nil, "init", "--san", "localhost,127.0.0.1", "--out", pk)
	p := func(n string) string { return filepath.Join(pk, n) }
	ns := NewNamespace(t)
	host := fmt.Sprintf("tcp://127.0.0.1:%d", FreePort(t, "127.0.0.1"))
	mustDockerTLS(t, nil, "install", "daemon", "--cert", p("server-cert.pem"), "--key", p("server-key.pem"), "--client-ca", p("ca.pem"),
		"--host", host, "--host", "unix:///var/run/docker.sock", "--dir", filepath.Join(dir, "daemon"),
		"--daemon-json", ns.HostPath("/etc/docker/daemon.json"), "--root", t.TempDir())
	StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
	mustDockerTLS(t, nil, "install", "client", "--context", "good", "--host", host, "--ca", p("ca.pem"), "--cert", p("cert.pem"), "--key", p("key.pem"))

	// The doctor changes nothing: the client's configuration and the PKI
	// it reads are checksummed (content, mode, mtime) around every run.
	cfgDir := DockerConfigDir(t)
	cfgSum, pkSum := checksumTree(t, cfgDir), checksumTree(t, pk)
	unchanged := func(what string) {
		t.Helper()
		requireUnchanged(t, what, cfgDir, cfgSum)
		requireUnchanged(t, what, pk, pkSum)
	}

	// Healthy: the global --context reaches the plugin, which probes that
	// context's endpoint with its TLS files.
	stdout, stderr, code := RunDocker(t, nil, "--context", "good", "tls", "doctor", "--format", "json")
	unchanged("docker --context good tls doctor")
	if code != 0 {
		t.Fatalf("doctor on a healthy context: exit %d\n%s\n%s", code, stdout, stderr)
	}
	rep := parseReport(t, stdout)
	i, ok := rep.find("probe-ok")
	if !ok || rep.Findings[i].Subject != host || rep.Findings[i].Evidence["clientCertSent"] != "CN=client" {
		t.Errorf("healthy context: %+v", rep.Findings)
	}
	for _, f := range rep.Findings {
		if f.Severity == "error" || f.Severity == "warning" {
			t.Errorf("healthy setup has %s %s: %s", f.Severity, f.ID, f.Message)
		}
	}

	// The global -H and --tls* flags reach the plugin too: the doctor probes
	// that host with those files, whatever the environment says.
	stdout, stderr, code = RunDocker(t, []string{"DOCKER_HOST=tcp://127.0.0.1:1"}, "-H", host, "--tlsverify", "--tlscacert", p("ca.pem"),
		"--tlscert", p("cert.pem"), "--tlskey", p("key.pem"), "tls", "doctor", "--format", "json")
	unchanged("docker -H … --tlsverify … tls doctor")
	if code != 0 {
		t.Fatalf("docker -H … --tlsverify … tls doctor: exit %d\n%s\n%s", code, stdout, stderr)
	}
	rep = parseReport(t, stdout)
	if i, ok := rep.find("probe-ok"); !ok || rep.Findings[i].Subject != host {
		t.Errorf("with -H and --tls* flags: %+v", rep.Findings)
	}

	// Broken: DOCKER_CERT_PATH has only the CA. The real CLI fails; the
	// doctor (standalone here, same environment) reproduces its line.
	certPath := filepath.Join(dir, "only-ca")
	copyFile(t, p("ca.pem"), filepath.Join(certPath, "ca.pem"), 0o644)
	env := []string{"DOCKER_HOST=" + host, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + certPath}
	_, dockerErr, code := RunDocker(t, env, "version")
	if code == 0 {
		t.Fatal("docker version without a client certificate succeeded")
	}
	certPathSum := checksumTree(t, certPath)
	stdout, stderr, code = dockerTLS(t, env, "doctor", "--format", "json")
	unchanged("docker-tls doctor with DOCKER_CERT_PATH")
	requireUnchanged(t, "docker-tls doctor with DOCKER_CERT_PATH", certPath, certPathSum)
	if code != 1 {
		t.Fatalf("doctor with a missing client certificate: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	rep = parseReport(t, stdout)
	i, ok = rep.find("probe-client-cert-missing")
	if !ok {
		t.Fatalf("no probe-client-cert-missing finding: %+v", rep.Findings)
	}
	f := rep.Findings[i]
	dockerLine := normaliseDockerError(lastLine(dockerErr))
	if want := noClientCertLine(c, strings.TrimPrefix(host, "tcp://")); dockerLine != want {
		t.Errorf("cell %s: docker version printed\n  %q\nwant\n  %q", c.Name, dockerLine, want)
	}
	compareDoctorLine(t, c, "DOCKER_CERT_PATH without client cert", normaliseDockerError(f.Docker), dockerLine)
	if !strings.Contains(f.Message, "the server requires a client certificate (tlsverify) and the default context has none") ||
		!strings.Contains(f.Fix, "docker tls install client") {
		t.Errorf("cause/fix: %q / %q", f.Message, f.Fix)
	}
	// The text output shows the same, for people.
	stdout, _, _ = dockerTLS(t, env, "doctor", host)
	unchanged("docker-tls doctor " + host)
	requireUnchanged(t, "docker-tls doctor "+host, certPath, certPathSum)
	if !strings.Contains(stdout, "[error] probe-client-cert-missing: with DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="+certPath+" DOCKER_HOST="+host+" docker: the server requires a client certificate") ||
		!strings.HasPrefix(stdout, "Root cause: probe-client-cert-missing") {
		t.Errorf("text output:\n%s", stdout)
	}
}

// TestDoctorRegistryInNamespace probes a registry that requires client
// certificates from inside the namespace, where /etc/docker/certs.d is the
// one dockerd reads; the doctor names the missing client pair, then, once
// install-registry has run, finds nothing wrong and push works.
func TestDoctorRegistryInNamespace(t *testing.T) {
	Require(t)
	ForEachCell(t, doctorRegistryInNamespace)
}

func doctorRegistryInNamespace(t *testing.T, c *Cell) {
	ns := NewNetNamespace(t)
	reg, dir := startClientCertRegistry(t, c, ns)
	copyFile(t, filepath.Join(dir, "ca.pem"), filepath.Join(reg.CertsDir(), "ca.crt"), 0o644)

	run := func(args ...string) (string, int) {
		out, _, code := dockerTLSInNamespace(t, ns, []string{"HOME=" + t.TempDir()}, args...)
		return out, code
	}
	certsD := filepath.Dir(reg.CertsDir())
	certsDSum := checksumTree(t, certsD)
	// Addressed as the user types it after a failed pull: bare host:port.
	// The certs.d directory for it makes it a registry.
	out, code := run("doctor", reg.Host, "--format", "json")
	requireUnchanged(t, "doctor "+reg.Host, certsD, certsDSum)
	if code != 1 {
		t.Fatalf("doctor %s with ca.crt only: exit %d\n%s", reg.Host, code, out)
	}
	rep := parseReport(t, out)
	if len(rep.Targets) != 1 || rep.Targets[0].Kind != "registry" || !strings.Contains(rep.Targets[0].KindReason, "a registry directory for "+reg.Host+" exists") {
		t.Fatalf("bare %s not taken for a registry: %+v", reg.Host, rep.Targets)
	}
	i, ok := rep.find("probe-client-cert-missing")
	if !ok || !strings.Contains(rep.Findings[i].Fix, "docker tls install-registry "+reg.Host+" --issue-client") {
		t.Fatalf("findings: %+v", rep.Findings)
	}
	if _, err := os.Stat(filepath.Join(reg.CertsDir(), "client.cert")); err == nil {
		t.Fatal("the doctor wrote a file")
	}
	mustDockerTLS(t, nil, "install-registry", reg.Host, "--ca", filepath.Join(dir, "ca.pem"), "--issue-client",
		"--ca-cert", filepath.Join(dir, "ca.pem"), "--ca-key", filepath.Join(dir, "ca-key.pem"),
		"--certs-dir", filepath.Dir(reg.CertsDir()), "--force")
	out, code = run("doctor", reg.Host, "--format", "json")
	rep = parseReport(t, out)
	if _, ok := rep.find("probe-ok"); !ok || code != 0 {
		t.Errorf("after install-registry: exit %d %+v", code, rep.Findings)
	}
}
