//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/pki"
)

// Fixes that work: for each way a daemon setup breaks, the user's docker
// fails; `docker tls doctor` run bare (the environment as it was, no
// flags) leads with the root cause, quotes docker's line as the installed
// CLI printed it, and the fix it prints, applied as printed, makes
// `docker version` succeed. The dockerd runs with flags only, so the
// doctor learns its files from the running process.
func TestDoctorFixesWork(t *testing.T) {
	Require(t)
	ForEachCell(t, doctorFixesWork)
}

type fixCase struct {
	name string
	// prepare breaks the setup: pk is the daemon's PKI (init output),
	// other another CA's, cl the client's DOCKER_CERT_PATH.
	prepare func(t *testing.T, pk, other, cl string)
	plain   bool   // the daemon listens without TLS
	cause   string // the finding that leads
	live    string // the live finding right after it
	// apply runs the printed fix; env is the client's environment, which
	// it may change (an unset variable).
	apply   func(t *testing.T, ns *Namespace, fix string, env []string) []string
	restart bool
}

func doctorFixesWork(t *testing.T, c *Cell) {
	cmdBefore := func(sep string) func(t *testing.T, ns *Namespace, fix string, env []string) []string {
		return func(t *testing.T, ns *Namespace, fix string, env []string) []string {
			cmd, _, ok := strings.Cut(fix, sep)
			if !ok {
				t.Fatalf("fix %q lacks %q", fix, sep)
			}
			runFix(t, ns, cmd)
			return env
		}
	}
	copyTo := func(t *testing.T, src, dst string) { copyFile(t, src, dst, 0o600) }
	cases := []fixCase{
		{name: "expired server cert", cause: "cert-expired", live: "probe-server-expired", restart: true,
			prepare: func(t *testing.T, pk, other, cl string) {
				ca, err := pki.LoadCA("ca.pem", mustRead(t, filepath.Join(pk, "ca.pem")), "ca-key.pem", mustRead(t, filepath.Join(pk, "ca-key.pem")))
				if err != nil {
					t.Fatal(err)
				}
				dns, ips, _ := pki.ParseSANs([]string{"localhost", "127.0.0.1"})
				old, err := ca.Issue(pki.Request{Role: pki.RoleServer, DNSNames: dns, IPs: ips, Now: time.Now().AddDate(0, 0, -10), Days: 2})
				if err != nil {
					t.Fatal(err)
				}
				key, _ := old.KeyPEM()
				writeFile(t, filepath.Join(pk, "server-cert.pem"), old.CertPEM())
				writeFile(t, filepath.Join(pk, "server-key.pem"), key)
				for _, n := range []string{"ca.pem", "cert.pem", "key.pem"} {
					copyTo(t, filepath.Join(pk, n), filepath.Join(cl, n))
				}
			},
			apply: cmdBefore(", then restart dockerd")},
		{name: "server CA not trusted", cause: "ca-mismatch-server", live: "probe-server-unknown-authority",
			prepare: func(t *testing.T, pk, other, cl string) {
				copyTo(t, filepath.Join(other, "ca.pem"), filepath.Join(cl, "ca.pem"))
				copyTo(t, filepath.Join(pk, "cert.pem"), filepath.Join(cl, "cert.pem"))
				copyTo(t, filepath.Join(pk, "key.pem"), filepath.Join(cl, "key.pem"))
			},
			apply: cmdBefore(" (the daemon's CA)")},
		{name: "client cert from another CA", cause: "ca-mismatch-client", live: "probe-client-cert-not-accepted",
			prepare: func(t *testing.T, pk, other, cl string) {
				copyTo(t, filepath.Join(pk, "ca.pem"), filepath.Join(cl, "ca.pem"))
				copyTo(t, filepath.Join(other, "cert.pem"), filepath.Join(cl, "cert.pem"))
				copyTo(t, filepath.Join(other, "key.pem"), filepath.Join(cl, "key.pem"))
			},
			apply: func(t *testing.T, ns *Namespace, fix string, env []string) []string { runFix(t, ns, fix); return env }},
		{name: "no client cert", cause: "tls-file-missing", live: "probe-client-cert-missing",
			prepare: func(t *testing.T, pk, other, cl string) {
				copyTo(t, filepath.Join(pk, "ca.pem"), filepath.Join(cl, "ca.pem"))
			},
			apply: func(t *testing.T, ns *Namespace, fix string, env []string) []string { runFix(t, ns, fix); return env }},
		// The server sends its leaf without the intermediate that signed
		// it; the client trusts the root. Without AIA in the leaf the
		// probe sees only an unknown authority; with it, a chain the
		// server left incomplete. The doctor reads the running dockerd's
		// files and finds the intermediate next to its certificate, or,
		// when it is nowhere around, fetches it from where the leaf says
		// it is published.
		{name: "leaf without intermediate", cause: "missing-intermediate", live: "probe-server-unknown-authority", restart: true,
			prepare: func(t *testing.T, pk, other, cl string) { serveLeafAlone(t, pk, cl, true, false) },
			apply:   cmdBefore(", then restart dockerd")},
		{name: "leaf without intermediate, AIA", cause: "missing-intermediate", live: "probe-server-chain-incomplete", restart: true,
			prepare: func(t *testing.T, pk, other, cl string) { serveLeafAlone(t, pk, cl, true, true) },
			apply:   cmdBefore(", then restart dockerd")},
		{name: "leaf without intermediate, AIA only", cause: "missing-intermediate", live: "probe-server-chain-incomplete", restart: true,
			prepare: func(t *testing.T, pk, other, cl string) { serveLeafAlone(t, pk, cl, false, true) },
			apply:   cmdBefore(", then restart dockerd")},
		// The server certificate names localhost only; the client uses
		// 127.0.0.1.
		{name: "IP not in SANs", cause: "host-not-in-sans", live: "probe-server-name-mismatch", restart: true,
			prepare: func(t *testing.T, pk, other, cl string) {
				mustDockerTLS(t, nil, "issue", "server", "--san", "localhost", "--ca-cert", filepath.Join(pk, "ca.pem"), "--ca-key", filepath.Join(pk, "ca-key.pem"), "--out", pk, "--force")
				for _, n := range []string{"ca.pem", "cert.pem", "key.pem"} {
					copyTo(t, filepath.Join(pk, n), filepath.Join(cl, n))
				}
			},
			apply: cmdBefore(", then restart dockerd")},
		{name: "TLS client to plain port", plain: true, cause: "probe-plain-http-server",
			prepare: func(t *testing.T, pk, other, cl string) {
				for _, n := range []string{"ca.pem", "cert.pem", "key.pem"} {
					copyTo(t, filepath.Join(pk, n), filepath.Join(cl, n))
				}
			},
			apply: func(t *testing.T, ns *Namespace, fix string, env []string) []string {
				if !strings.Contains(fix, "unset DOCKER_TLS_VERIFY") {
					t.Fatalf("fix %q does not say to unset DOCKER_TLS_VERIFY", fix)
				}
				var out []string
				for _, kv := range env {
					if !strings.HasPrefix(kv, "DOCKER_TLS_VERIFY=") {
						out = append(out, kv)
					}
				}
				return out
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { fixCaseRun(t, c, tc) })
	}
}

func fixCaseRun(t *testing.T, c *Cell, tc fixCase) {
	dir := t.TempDir()
	pk, other, cl := filepath.Join(dir, "pki"), filepath.Join(dir, "other"), filepath.Join(dir, "client")
	mustDockerTLS(t, nil, "init", "--san", "localhost,127.0.0.1", "--out", pk)
	mustDockerTLS(t, nil, "init", "--san", "localhost,127.0.0.1", "--out", other)
	if err := os.Mkdir(cl, 0o700); err != nil {
		t.Fatal(err)
	}
	tc.prepare(t, pk, other, cl)
	p := func(n string) string { return filepath.Join(pk, n) }
	ns := NewNamespace(t)
	writeFile(t, ns.HostPath("/etc/docker/daemon.json"), []byte("{\"log-level\": \"info\"}\n"))
	target := fmt.Sprintf("tcp://127.0.0.1:%d", FreePort(t, "127.0.0.1"))
	args := []string{"-H", target}
	if !tc.plain {
		args = append(args, "--tlsverify", "--tlscacert", p("ca.pem"), "--tlscert", p("server-cert.pem"), "--tlskey", p("server-key.pem"))
	}
	d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns, Args: args})

	env := []string{"DOCKER_HOST=" + target, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + cl}
	_, dockerErr, code := ns.RunDocker(t, env, "version")
	if code == 0 {
		t.Fatal("docker version succeeded; the case is not broken")
	}
	// The doctor as the user types it after the failure: the target,
	// bare, with the environment docker had.
	out, stderr, code := dockerTLSInNamespace(t, ns, env, "doctor", target, "--format", "json")
	if code != 1 {
		t.Fatalf("doctor: exit %d\n%s\n%s", code, out, stderr)
	}
	rep := parseReport(t, out)
	if len(rep.Findings) == 0 || rep.Findings[0].ID != tc.cause || rep.Summary == nil || rep.Summary.CheckID != tc.cause {
		t.Fatalf("the root cause %s does not lead: summary %+v\n%+v", tc.cause, rep.Summary, rep.Findings)
	}
	liveIdx := 0
	if tc.live != "" {
		if len(rep.Findings) < 2 || rep.Findings[1].ID != tc.live || !strings.HasSuffix(rep.Findings[1].Message, "(explained by "+tc.cause+", above)") {
			t.Fatalf("the live finding %s does not follow its cause: %+v", tc.live, rep.Findings)
		}
		liveIdx = 1
	}
	// docker's line, exactly as the installed CLI printed it above (same
	// port, same API version).
	if got, want := maskTimes(rep.Findings[liveIdx].Docker), maskTimes(lastLine(dockerErr)); got != want {
		t.Errorf("doctor quotes\n  %q\ndocker printed\n  %q", got, want)
	}
	fix := rep.Summary.Fix
	// The text report, as the user reads it, opens with the cause and its
	// fix and quotes docker's line.
	text, _, _ := dockerTLSInNamespace(t, ns, env, "doctor", target)
	if first, _, _ := strings.Cut(text, "\n"); !strings.HasPrefix(first, "Root cause: "+tc.cause) || !strings.Contains(text, fix) || !strings.Contains(maskTimes(text), maskTimes(lastLine(dockerErr))) {
		t.Errorf("the text report does not open with %s and its fix %q, or lacks docker's line %q:\n%s", tc.cause, fix, lastLine(dockerErr), text)
	}
	t.Logf("printed fix: %s", fix)
	env = tc.apply(t, ns, fix, env)
	if tc.restart {
		d.Stop()
		StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns, Args: args})
	}
	if _, stderr, code := ns.RunDocker(t, env, "version"); code != 0 {
		t.Fatalf("docker version after the printed fix %q: exit %d\n%s", fix, code, stderr)
	}
}

var timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)

// maskTimes masks what two runs of the same failure may print
// differently: the timestamps (Go's x509 error names the current time),
// and Go's HTTP transport's race on a TLS alert that arrives after the
// handshake, reported from the request or, when its read loop sees it
// first, prefixed "readLoopPeekFailLocked: " (docker itself prints either
// form for the same setup; the doctor quotes the usual one).
func maskTimes(s string) string {
	return strings.Replace(timeRE.ReplaceAllString(s, "TIME"), "readLoopPeekFailLocked: ", "", 1)
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDoctorPlainClientNoMaterial: plain client to a TLS port, with no TLS
// material anywhere: the cause leads, docker's line is quoted, the daemon
// (which runs with --tlsverify) is not reported as admitting any client,
// and the printed export, with a directory holding a client pair from the
// daemon's CA (the part only the user can supply), makes docker work.
func TestDoctorPlainClientNoMaterial(t *testing.T) {
	Require(t)
	ForEachCell(t, func(t *testing.T, c *Cell) {
		dir := t.TempDir()
		pk, cl := filepath.Join(dir, "pki"), filepath.Join(dir, "client")
		mustDockerTLS(t, nil, "init", "--san", "localhost,127.0.0.1", "--out", pk)
		p := func(n string) string { return filepath.Join(pk, n) }
		ns := NewNamespace(t)
		writeFile(t, ns.HostPath("/etc/docker/daemon.json"), []byte("{}\n"))
		target := fmt.Sprintf("tcp://127.0.0.1:%d", FreePort(t, "127.0.0.1"))
		StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns,
			Args: []string{"-H", target, "--tlsverify", "--tlscacert", p("ca.pem"), "--tlscert", p("server-cert.pem"), "--tlskey", p("server-key.pem")}})
		env := []string{"DOCKER_HOST=" + target, "HOME=" + t.TempDir()}
		_, dockerErr, code := ns.RunDocker(t, env, "version")
		if code == 0 {
			t.Fatal("plain docker version against the TLS port succeeded")
		}
		out, stderr, code := dockerTLSInNamespace(t, ns, env, "doctor", target, "--format", "json")
		if code != 1 {
			t.Fatalf("doctor: exit %d\n%s\n%s", code, out, stderr)
		}
		rep := parseReport(t, out)
		if len(rep.Findings) == 0 || rep.Findings[0].ID != "probe-plain-client-to-tls" || rep.Summary == nil || rep.Summary.CheckID != "probe-plain-client-to-tls" {
			t.Fatalf("the cause does not lead: summary %+v\n%+v", rep.Summary, rep.Findings)
		}
		if _, ok := rep.find("daemon-no-client-auth"); ok {
			t.Errorf("a daemon running with --tlsverify is reported as admitting any client: %+v", rep.Findings)
		}
		if got, want := maskTimes(rep.Findings[0].Docker), maskTimes(lastLine(dockerErr)); got != want {
			t.Errorf("doctor quotes %q, docker printed %q", got, want)
		}
		const export = "export DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=<dir with ca.pem, cert.pem, key.pem>"
		if !strings.HasPrefix(rep.Summary.Fix, export) {
			t.Fatalf("fix %q", rep.Summary.Fix)
		}
		// The directory: a client pair from the daemon's CA, and the CA.
		mustDockerTLS(t, nil, "issue", "client", "--ca-cert", p("ca.pem"), "--ca-key", p("ca-key.pem"), "--out", cl)
		copyFile(t, p("ca.pem"), filepath.Join(cl, "ca.pem"), 0o644)
		if _, stderr, code := ns.RunDocker(t, append(env, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH="+cl), "version"); code != 0 {
			t.Fatalf("docker version after the printed export: %s", stderr)
		}
	})
}
