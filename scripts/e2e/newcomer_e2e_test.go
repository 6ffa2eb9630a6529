//go:build linux

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestModeOneThroughEnvironment follows `install client --skip-verify
// --no-client-cert` (TLS only, daemon not verified) into the default
// DOCKER_CONFIG and into a --cert-path, runs the printed `export …` line's
// variables with the real docker CLI, and expects `docker version` to reach
// a real dockerd that runs with "tlsverify": false. The docker CLI opens
// $DOCKER_CERT_PATH/ca.pem whenever TLS is on, so the install must leave one.
func TestModeOneThroughEnvironment(t *testing.T) {
	Require(t)
	ForEachCell(t, modeOneThroughEnvironment)
}

func modeOneThroughEnvironment(t *testing.T, c *Cell) {
	installPlugin(t)
	pkiDir := filepath.Join(t.TempDir(), "pki")
	mustDockerTLS(t, nil, "init", "--san", "localhost,127.0.0.1", "--out", pkiDir)
	ns := NewNamespace(t)
	host := fmt.Sprintf("tcp://127.0.0.1:%d", FreePort(t, "127.0.0.1"))
	mustDockerTLS(t, nil, "install", "daemon", "--no-client-verify", "--cert", filepath.Join(pkiDir, "server-cert.pem"),
		"--key", filepath.Join(pkiDir, "server-key.pem"), "--host", host, "--dir", filepath.Join(t.TempDir(), "daemon"),
		"--daemon-json", ns.HostPath("/etc/docker/daemon.json"), "--root", t.TempDir())
	StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})

	for _, dest := range []string{"default", "cert-path"} {
		t.Run(dest, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "docker-config")
			args := []string{"install", "client", "--skip-verify", "--no-client-cert", "--host", host}
			if dest == "cert-path" {
				args = append(args, "--cert-path", filepath.Join(t.TempDir(), "certs"))
			}
			stdout, stderr, code := dockerTLS(t, []string{"DOCKER_CONFIG=" + cfg}, args...)
			requireExit(t, "install client", code, 0, stderr)
			env := exportedEnv(t, stdout)
			if !strings.Contains(strings.Join(env, " "), "DOCKER_TLS=1") {
				t.Fatalf("install client does not print DOCKER_TLS=1:\n%s", stdout)
			}
			env = append(env, "DOCKER_CONFIG="+cfg)
			stdout, stderr, code = RunDocker(t, env, "version", "--format", "{{.Server.Version}}")
			requireExit(t, "docker version with "+strings.Join(env, " "), code, 0, stderr)
			if strings.TrimSpace(stdout) == "" {
				t.Error("no server version")
			}
			// The ca.pem written for the CLI trusts nothing: asking the same
			// client to verify the daemon fails.
			verify := append([]string{"DOCKER_TLS_VERIFY=1"}, env...)
			_, stderr, code = RunDocker(t, verify, "version")
			requireFailureContaining(t, "verifying with the placeholder ca.pem", code, stderr, "x509: certificate signed by unknown authority")
		})
	}
}

// exportedEnv returns the variables of the `export …` line a command printed.
func exportedEnv(t *testing.T, out string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "export "); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("no export line in:\n%s", out)
	return nil
}

// TestVersionThroughDocker: `docker tls --version` prints the version and
// exits 0, like `docker --version`.
func TestVersionThroughDocker(t *testing.T) {
	Require(t)
	installPlugin(t)
	stdout, stderr, code := RunDocker(t, nil, "tls", "--version")
	requireExit(t, "docker tls --version", code, 0, stderr)
	if !strings.HasPrefix(stdout, "docker-tls ") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("docker tls --version printed %q", stdout)
	}
}

// TestCompletionThroughDocker: docker's own completion reaches the
// plugin's values and file completion.
func TestCompletionThroughDocker(t *testing.T) {
	Require(t)
	installPlugin(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "tls", "init", "--key", ""}, "ecdsa-p256\necdsa-p384\nrsa-2048\nrsa-3072\nrsa-4096\ned25519\n:4\n"},
		{[]string{"__complete", "tls", "doctor", "--format", ""}, "text\njson\nsarif\njunit\n:4\n"},
		{[]string{"__complete", "tls", "inspect", ""}, ":0\n"},
	} {
		stdout, stderr, code := RunDocker(t, nil, c.args...)
		requireExit(t, "docker "+strings.Join(c.args, " "), code, 0, stderr)
		if stdout != c.want {
			t.Errorf("docker %s printed %q, want %q", strings.Join(c.args, " "), stdout, c.want)
		}
	}
}
