//go:build linux

package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	pluginOnce sync.Once
	pluginPath string
	pluginErr  error
)

// pluginBinary is the docker-tls binary under test: $DOCKER_TLS_BIN (the
// Makefile passes bin/docker-tls), else built once from ../../plugin.
func pluginBinary(t testing.TB) string {
	t.Helper()
	pluginOnce.Do(func() {
		if p := os.Getenv("DOCKER_TLS_BIN"); p != "" {
			pluginPath, pluginErr = filepath.Abs(p)
			return
		}
		_, here, _, _ := runtime.Caller(0)
		dir, err := os.MkdirTemp("", "e2e-plugin-")
		if err != nil {
			pluginErr = err
			return
		}
		pluginPath = filepath.Join(dir, "docker-tls")
		cmd := exec.Command("go", "build", "-o", pluginPath, "./plugin")
		cmd.Dir = filepath.Join(filepath.Dir(here), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			pluginErr = errors.New("building the plugin: " + err.Error() + "\n" + string(out))
		}
	})
	if pluginErr != nil {
		t.Fatalf("e2e: %v", pluginErr)
	}
	if _, err := os.Stat(pluginPath); err != nil {
		t.Fatalf("e2e: docker-tls binary: %v", err)
	}
	return pluginPath
}

// installPlugin puts docker-tls into the test's DOCKER_CONFIG/cli-plugins so
// the real docker CLI runs it as `docker tls`.
func installPlugin(t testing.TB) {
	t.Helper()
	dir := filepath.Join(DockerConfigDir(t), "cli-plugins")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "docker-tls")
	if _, err := os.Lstat(dst); err == nil {
		return
	}
	if err := os.Symlink(pluginBinary(t), dst); err != nil {
		t.Fatal(err)
	}
}

// dockerTLS runs docker-tls standalone with the test's DOCKER_CONFIG and no
// inherited DOCKER_* variables; env entries win.
func dockerTLS(t testing.TB, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runDockerTLS(t, nil, env, args)
}

// runDockerTLS runs docker-tls on the host (ns nil) or inside ns.
func runDockerTLS(t testing.TB, ns *Namespace, env []string, args []string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	where := "[host]"
	cmd := exec.CommandContext(ctx, pluginBinary(t), args...)
	if ns != nil {
		where = "[namespace]"
		cmd = ns.CommandContext(ctx, pluginBinary(t), args...)
	}
	cmd.Env = dockerEnv(t, env)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("e2e: docker-tls %s: timed out", strings.Join(args, " "))
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("e2e: docker-tls %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("e2e: %s docker-tls %s -> exit %d", where, strings.Join(args, " "), code)
	return o.String(), e.String(), code
}

// mustDockerTLS runs docker-tls and fails the test unless it exits 0.
func mustDockerTLS(t testing.TB, env []string, args ...string) string {
	t.Helper()
	stdout, stderr, code := dockerTLS(t, env, args...)
	if code != 0 {
		t.Fatalf("docker-tls %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// issueServerPKI issues, with the plugin, a CA and a server certificate
// for san in a new directory (ca.pem, ca-key.pem, server-cert.pem,
// server-key.pem) and returns it.
func issueServerPKI(t *testing.T, san string) string {
	t.Helper()
	dir := t.TempDir()
	mustDockerTLS(t, nil, "ca", "create", "--out", dir)
	mustDockerTLS(t, nil, "issue", "server", "--san", san, "--out", dir,
		"--ca-cert", filepath.Join(dir, "ca.pem"), "--ca-key", filepath.Join(dir, "ca-key.pem"))
	return dir
}

// startClientCertRegistry issues, with the plugin, a CA and a server
// certificate for DefaultRegistryHostname in a new directory, and starts a
// registry in ns that requires client certificates signed by that CA. It
// returns the registry and the directory (ca.pem, ca-key.pem,
// server-cert.pem, server-key.pem).
func startClientCertRegistry(t *testing.T, c *Cell, ns *Namespace) (*Registry, string) {
	t.Helper()
	dir := issueServerPKI(t, DefaultRegistryHostname)
	reg := StartRegistry(t, RegistryOpts{Cell: c, Namespace: ns, CertFile: filepath.Join(dir, "server-cert.pem"), KeyFile: filepath.Join(dir, "server-key.pem"),
		ClientCAs: []string{filepath.Join(dir, "ca.pem")}})
	return reg, dir
}
