//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A dockerd started by hand with flags only (its daemon.json sets neither
// hosts nor TLS, no unit), whose certificate covers localhost but not
// 127.0.0.1, which the client uses. The user's docker fails; the doctor,
// run bare, reads the running process, names its real files, leads with
// the cause, quotes docker's line, and its printed fix, applied, makes
// docker version work.
func TestDoctorReadsRunningDockerd(t *testing.T) {
	Require(t)
	ForEachCell(t, doctorReadsRunningDockerd)
}

func doctorReadsRunningDockerd(t *testing.T, c *Cell) {
	dir := t.TempDir()
	pk := filepath.Join(dir, "pki")
	mustDockerTLS(t, nil, "init", "--san", "localhost", "--out", pk)
	p := func(n string) string { return filepath.Join(pk, n) }
	ns := NewNamespace(t)
	cfg := ns.HostPath("/etc/docker/daemon.json")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("{\"log-level\": \"info\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t, "127.0.0.1")
	target := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	args := []string{"-H", target, "--tlsverify", "--tlscacert", p("ca.pem"), "--tlscert", p("server-cert.pem"), "--tlskey", p("server-key.pem")}
	d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns, Args: args})

	// The user's client: DOCKER_HOST and the material init wrote.
	env := []string{"DOCKER_HOST=" + target, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + pk}
	_, dockerErr, code := ns.RunDocker(t, env, "version")
	if code == 0 {
		t.Fatal("docker version succeeded against a certificate without 127.0.0.1")
	}

	// As the user types it after the failure: the target, bare.
	out, stderr, code := dockerTLSInNamespace(t, ns, env, "doctor", target, "--format", "json")
	if code != 1 {
		t.Fatalf("doctor: exit %d\n%s\n%s", code, out, stderr)
	}
	rep := parseReport(t, out)
	src := false
	for _, s := range rep.Sources {
		if s.Kind == "running dockerd" && s.Path == fmt.Sprintf("/proc/%d/cmdline", d.PID()) {
			src = true
		}
		if strings.HasPrefix(s.Path, "/root/.docker/") {
			t.Errorf("the doctor reads dockerd's default files although the process names others: %+v", s)
		}
	}
	if !src {
		t.Errorf("the running dockerd (pid %d) is not among the sources: %+v", d.PID(), rep.Sources)
	}
	for _, f := range rep.Findings {
		if f.ID == "tls-file-missing" {
			t.Errorf("a TLS file is reported missing although dockerd runs with it: %+v", f)
		}
	}
	// The cause comes first: the running dockerd's certificate, named.
	if len(rep.Findings) < 2 || rep.Findings[0].ID != "host-not-in-sans" || rep.Findings[1].ID != "probe-server-name-mismatch" {
		t.Fatalf("the cause does not lead: %+v", rep.Findings)
	}
	cause := rep.Findings[0]
	if !strings.Contains(cause.Message, p("server-cert.pem")) {
		t.Errorf("the cause does not name the running dockerd's certificate: %+v", cause)
	}
	named := false
	for _, f := range rep.Findings {
		named = named || f.ID == "host-not-in-sans" && strings.Contains(f.Message, fmt.Sprintf("the running dockerd (pid %d)", d.PID()))
	}
	if !named {
		t.Errorf("no finding names the running dockerd: %+v", rep.Findings)
	}
	if !strings.HasSuffix(rep.Findings[1].Message, "(explained by host-not-in-sans, above)") {
		t.Errorf("the live finding does not point at its cause: %q", rep.Findings[1].Message)
	}
	// docker's own line, quoted exactly as the installed CLI printed it.
	if got, want := maskTimes(rep.Findings[1].Docker), maskTimes(lastLine(dockerErr)); got != want {
		t.Errorf("doctor quotes %q, docker printed %q", got, want)
	}
	if rep.Summary == nil || rep.Summary.CheckID != "host-not-in-sans" || rep.Summary.Fix != cause.Fix {
		t.Fatalf("summary: %+v", rep.Summary)
	}

	// Apply the printed fix as a user would: the command, then restart
	// dockerd (here: the same command line again).
	fix := cause.Fix
	cmdText, _, ok := strings.Cut(fix, ", then restart dockerd")
	if !ok {
		t.Fatalf("fix does not end with the restart: %q", fix)
	}
	want := fmt.Sprintf("docker tls issue server --san localhost,127.0.0.1 --ca-cert %s --ca-key %s --out %s --force", p("ca.pem"), p("ca-key.pem"), pk)
	if cmdText != want {
		t.Errorf("fix:\n got %s\nwant %s", cmdText, want)
	}
	runFix(t, ns, cmdText)
	d.Stop()
	StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns, Args: args})
	if _, stderr, code := ns.RunDocker(t, env, "version"); code != 0 {
		t.Fatalf("docker version after the doctor's fix: exit %d\n%s", code, stderr)
	}
}

// runFix runs a fix the doctor printed through sh inside ns, with
// "docker tls" meaning this build of the plugin.
func runFix(t *testing.T, ns *Namespace, fix string) {
	t.Helper()
	sh := strings.ReplaceAll(fix, "docker tls ", pluginBinary(t)+" ")
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := ns.CommandContext(ctx, "sh", "-c", sh)
	cmd.Env = cleanEnv("DOCKER_")
	out, err := cmd.CombinedOutput()
	t.Logf("e2e: [namespace] fix: %s\n%s", fix, out)
	if err != nil {
		t.Fatalf("the printed fix fails: %v\n%s", err, out)
	}
}
