//go:build linux

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tlsServerNeedingClientCert serves HTTPS on 127.0.0.1 with a fresh
// self-signed certificate and requires a client certificate, as dockerd
// with tlsverify does. It returns the address and the CA (its certificate)
// as PEM.
func tlsServerNeedingClientCert(t *testing.T) (string, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hooks-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:  http.NotFoundHandler(),
		ErrorLog: nil,
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    x509.NewCertPool(),
		},
	}
	go srv.ServeTLS(l, "", "")
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// dockerOnTerminal runs the real docker CLI under a pseudo-terminal
// (script(1) from util-linux): the CLI runs plugin hooks only when its
// output is a terminal. It returns what the terminal showed.
func dockerOnTerminal(t *testing.T, env []string, args ...string) string {
	t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatalf("e2e: script(1) is needed for a pseudo-terminal (util-linux): %v", err)
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, "-qfec", Tool(t, "docker")+" "+strings.Join(quoted, " "), "/dev/null")
	cmd.Env = dockerEnv(t, append([]string{"TERM=xterm"}, env...))
	out, _ := cmd.CombinedOutput() // docker's exit status is not the point
	if ctx.Err() != nil {
		t.Fatalf("e2e: docker %s under script timed out:\n%s", strings.Join(args, " "), out)
	}
	s := strings.ReplaceAll(string(out), "\r\n", "\n")
	t.Logf("e2e: [pty] docker %s:\n%s", strings.Join(args, " "), s)
	return s
}

// TestHooksHintOnTLSFailure runs the real docker client (28.2 here) with
// docker-tls installed as a plugin and hooks enabled by `docker tls hooks
// enable`: a docker version failing with a TLS error shows the hint with
// the doctor command for that host; a docker version that succeeds, or
// fails without a TLS error, shows none.
func TestHooksHintOnTLSFailure(t *testing.T) {
	if os.Getenv("E2E") == "0" {
		t.Skip("e2e: skipped because E2E=0")
	}
	Tool(t, "docker")
	installPlugin(t)
	cfg := DockerConfigDir(t)
	if out := mustDockerTLS(t, nil, "hooks", "enable"); !strings.Contains(out, "wrote "+filepath.Join(cfg, "config.json")) {
		t.Fatalf("hooks enable: %s", out)
	}
	addr, caPEM := tlsServerNeedingClientCert(t)
	certDir := t.TempDir()
	// Only the CA: the client sends no certificate, and the server wants one.
	if err := os.WriteFile(filepath.Join(certDir, "ca.pem"), caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"DOCKER_HOST=tcp://" + addr, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + certDir}

	out := dockerOnTerminal(t, env, "version")
	hint := fmt.Sprintf("run `docker tls doctor %s` to find the cause and the fix", addr)
	if !strings.Contains(out, "What's next:") || !strings.Contains(out, hint) {
		t.Errorf("no hint %q after a TLS failure:\n%s", hint, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, hint) && !strings.HasPrefix(strings.TrimSpace(l), "TLS error (") {
			t.Errorf("hint line %q", l)
		}
	}

	// Success: the client part of docker version needs no daemon.
	out = dockerOnTerminal(t, nil, "version", "--format", "{{.Client.Version}}")
	if strings.Contains(out, "docker tls doctor") || strings.Contains(out, "What's next") {
		t.Errorf("hint after a command that succeeded:\n%s", out)
	}
	// Failure that is not TLS: nothing listens there.
	out = dockerOnTerminal(t, []string{"DOCKER_HOST=tcp://127.0.0.1:" + fmt.Sprint(FreePort(t, "127.0.0.1"))}, "version")
	if strings.Contains(out, "docker tls doctor") {
		t.Errorf("hint after a non-TLS failure:\n%s", out)
	}

	// Disabled: no hint.
	mustDockerTLS(t, nil, "hooks", "disable")
	if out := dockerOnTerminal(t, env, "version"); strings.Contains(out, "docker tls doctor") {
		t.Errorf("hint with hooks disabled:\n%s", out)
	}
	// DOCKER_CLI_HOOKS=1 with the plugin's hook list works without
	// features.hooks (enable leaves features, so remove it by hand).
	os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"plugins":{"tls":{"hooks":"version"}}}`), 0o600)
	if out := dockerOnTerminal(t, append(env, "DOCKER_CLI_HOOKS=1"), "version"); !strings.Contains(out, hint) {
		t.Errorf("no hint with DOCKER_CLI_HOOKS=1:\n%s", out)
	}
}
