//go:build linux

package e2e

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/docker-tls/docker-tls/pki/layout"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// remoteHost is a namespace with a plain dockerd (local socket only) and an
// sshd in front of it: the machine provision secures.
type remoteHost struct {
	ns   *Namespace
	d    *RemoteDockerd
	sshd *SSHD
}

func newRemoteHost(t *testing.T) *remoteHost {
	t.Helper()
	ns := NewNamespace(t)
	writeDaemonJSON(t, ns, map[string]any{
		"hosts":     []string{"unix:///var/run/docker.sock"},
		"log-level": "info", // a key provision must keep
	})
	d := StartRemoteDockerd(t, ns)
	return &remoteHost{ns: ns, d: d, sshd: StartSSHD(t, ns)}
}

// provisionArgs are the flags every provision in these tests passes.
func (h *remoteHost) provisionArgs(context string, port int, extra ...string) []string {
	args := []string{"provision", "--ssh-config", h.sshd.ConfigFile, "--context", context,
		"-H", fmt.Sprintf("tcp://127.0.0.1:%d", port), "--restart-cmd", h.d.RestartCmd, "--daemon-log", h.d.LogFile, "--wait", "30s"}
	args = append(args, extra...)
	return append(args, "ssh://"+h.sshd.Alias)
}

// localSocketWorks checks the daemon from inside the host over its socket.
func (h *remoteHost) localSocketWorks(t *testing.T) {
	t.Helper()
	_, stderr, code := h.ns.RunDocker(t, []string{"DOCKER_HOST=unix:///var/run/docker.sock"}, "version", "--format", "{{.Server.Version}}")
	requireExit(t, "docker version over the host's own socket", code, 0, stderr)
}

func requireContextWorks(t *testing.T, name string) {
	t.Helper()
	out, stderr, code := RunDocker(t, nil, "--context", name, "info", "--format", "{{.ServerVersion}}")
	requireExit(t, "docker --context "+name+" info", code, 0, stderr)
	if strings.TrimSpace(out) == "" {
		t.Fatalf("docker --context %s info printed no server version", name)
	}
}

func readDaemonJSON(t *testing.T, ns *Namespace) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(mustReadFile(t, ns.HostPath("/etc/docker/daemon.json")), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestProvisionOverSSH(t *testing.T) {
	h := newRemoteHost(t)
	mustDockerTLS(t, nil, "ca", "create")
	port := FreePort(t, "127.0.0.1")
	args := h.provisionArgs("remote", port)

	// known_hosts is honoured: another host key there stops ssh, and
	// nothing happens.
	badCfg := filepath.Join(t.TempDir(), "ssh_config")
	badKnown := filepath.Join(filepath.Dir(badCfg), "known_hosts")
	other := filepath.Join(filepath.Dir(badCfg), "other_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	otherPub := strings.Fields(string(mustReadFile(t, other+".pub")))
	if err := os.WriteFile(badKnown, []byte(fmt.Sprintf("[127.0.0.1]:%d %s %s\n", h.sshd.Port, otherPub[0], otherPub[1])), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgText := strings.Replace(string(mustReadFile(t, h.sshd.ConfigFile)), filepath.Join(h.sshd.Dir, "known_hosts"), badKnown, 1)
	if err := os.WriteFile(badCfg, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	sum0 := checksumTree(t, h.ns.EtcDocker)
	badArgs := append([]string{"provision", "--ssh-config", badCfg}, args[3:]...)
	r := run2(t, badArgs...)
	if r.code != 1 || !strings.Contains(r.stderr, "ssh://e2e-remote: ssh failed while trying to connect: ") || !strings.Contains(r.stderr, "Host key verification failed.") {
		t.Errorf("a wrong host key: exit %d, stderr %s", r.code, r.stderr)
	}
	requireUnchanged(t, "provision with a wrong host key", h.ns.EtcDocker, sum0)

	// The plan, changing nothing.
	before := string(mustReadFile(t, h.ns.HostPath("/etc/docker/daemon.json")))
	out := mustDockerTLS(t, nil, append([]string{"provision", "--dry-run"}, args[1:]...)...)
	for _, want := range []string{"Dry run: nothing was changed.", "create    /etc/docker/server-cert.pem", "replace   /etc/docker/daemon.json", "run       " + h.d.RestartCmd} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if after := string(mustReadFile(t, h.ns.HostPath("/etc/docker/daemon.json"))); after != before {
		t.Fatalf("--dry-run changed daemon.json:\n%s", after)
	}
	if _, err := os.Stat(h.ns.HostPath("/etc/docker/server-cert.pem")); err == nil {
		t.Fatal("--dry-run wrote server-cert.pem")
	}

	pid := h.d.PID()
	out = mustDockerTLS(t, nil, args...)
	t.Logf("provision:\n%s", out)
	if !strings.Contains(out, "docker --context remote version: Server: ") {
		t.Errorf("provision did not report a working docker --context remote version:\n%s", out)
	}
	if h.d.PID() == pid {
		t.Errorf("dockerd was not restarted (pid %d)", pid)
	}
	requireContextWorks(t, "remote")
	h.localSocketWorks(t)

	cfg := readDaemonJSON(t, h.ns)
	if cfg["log-level"] != "info" || cfg["tlsverify"] != true || cfg["tlscacert"] != "/etc/docker/ca.pem" {
		t.Errorf("daemon.json not merged as expected: %v", cfg)
	}
	backups, _ := filepath.Glob(h.ns.HostPath("/etc/docker/daemon.json.bak-*"))
	if len(backups) != 1 || string(mustReadFile(t, backups[0])) != before {
		t.Errorf("expected one backup of the old daemon.json, found %v", backups)
	}
	if fi, err := os.Stat(h.ns.HostPath("/etc/docker/server-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("server-key.pem: %v, mode %v (want 0600)", err, fi)
	}

	// A re-run with nothing changed changes nothing and does not restart.
	pid = h.d.PID()
	sum := checksumTree(t, h.ns.EtcDocker)
	out = mustDockerTLS(t, nil, args...)
	if !strings.Contains(out, "Nothing to change on 127.0.0.1") || !strings.Contains(out, "already has this endpoint and TLS material: nothing to do") {
		t.Errorf("re-run did not say nothing changed:\n%s", out)
	}
	requireUnchanged(t, "re-run of provision", h.ns.EtcDocker, sum)
	// A context of the user's own is not taken over.
	if _, stderr, code := RunDocker(t, nil, "context", "create", "mine", "--docker", "host=tcp://127.0.0.1:1"); code != 0 {
		t.Fatal(stderr)
	}
	r = run2(t, h.provisionArgs("mine", port)...)
	if r.code != 2 || !strings.Contains(r.stderr, `docker context "mine" exists and was not created by 'docker tls provision': choose another --context, or remove it first (docker context rm mine)`) {
		t.Errorf("provision into a user's context: %d %s", r.code, r.stderr)
	}
	if h.d.PID() != pid {
		t.Errorf("re-run restarted dockerd (pid %d -> %d)", pid, h.d.PID())
	}
	requireContextWorks(t, "remote")
}

func TestProvisionRollsBackWhenDockerdFails(t *testing.T) {
	h := newRemoteHost(t)
	mustDockerTLS(t, nil, "ca", "create")
	good := FreePort(t, "127.0.0.1")
	mustDockerTLS(t, nil, h.provisionArgs("remote", good)...)
	requireContextWorks(t, "remote")
	// A mode of the user's own, which the rollback must restore too.
	if err := os.Chmod(h.ns.HostPath("/etc/docker/daemon.json"), 0o640); err != nil {
		t.Fatal(err)
	}
	before := contentSums(t, h.ns.EtcDocker)

	// Another program holds the port the second address wants: dockerd
	// cannot listen and exits.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	stdout, stderr, code := dockerTLS(t, nil, h.provisionArgs("second", taken)...)
	t.Logf("failed provision:\nstdout: %s\nstderr: %s", stdout, stderr)
	if code != 1 {
		t.Fatalf("provision exited %d although dockerd cannot listen (want 1)", code)
	}
	for _, want := range []string{
		"dockerd did not come back with the new TLS configuration",
		"bind: address already in use",
		"The previous files and daemon.json were restored; dockerd was restarted with the previous configuration.",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "restore   /etc/docker/daemon.json") {
		t.Errorf("rollback did not list the restored daemon.json:\n%s", stdout)
	}
	// Every file has its old content and mode again (the backups of the
	// failed attempt are the only new files).
	after := contentSums(t, h.ns.EtcDocker)
	for name, sum := range before {
		if after[name] != sum {
			t.Errorf("%s differs after the rollback", name)
		}
	}
	requireContextWorks(t, "remote")
	h.localSocketWorks(t)
	if _, _, code := RunDocker(t, nil, "context", "inspect", "second"); code == 0 {
		t.Error("the failed provision created docker context \"second\"")
	}

	// A restart command that succeeds without restarting anything: the TLS
	// port never serves the new setup, so provision rolls back after --wait.
	third := FreePort(t, "127.0.0.1")
	stdout, stderr, code = dockerTLS(t, nil, h.provisionArgs("third", third, "--restart-cmd", "true", "--wait", "3s")...)
	want := fmt.Sprintf("dockerd did not serve the new certificate on 127.0.0.1:%d within 3s", third)
	if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "The previous files and daemon.json were restored") {
		t.Errorf("restart without effect: exit %d, want %q\nstdout: %s\nstderr: %s", code, want, stdout, stderr)
	}
	after = contentSums(t, h.ns.EtcDocker)
	for name, sum := range before {
		if after[name] != sum {
			t.Errorf("%s differs after the second rollback", name)
		}
	}
	requireContextWorks(t, "remote")
}

func parseCertFile(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	data := mustReadFile(t, path)
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no certificate", path)
	}
	return out
}

func contextTLSFile(t *testing.T, name, file string) string {
	return filepath.Join(layout.ContextTLSDir(DockerConfigDir(t), name), file)
}

func sameNames(a, b *x509.Certificate) bool {
	if len(a.DNSNames) != len(b.DNSNames) || len(a.IPAddresses) != len(b.IPAddresses) {
		return false
	}
	for i := range a.DNSNames {
		if a.DNSNames[i] != b.DNSNames[i] {
			return false
		}
	}
	for i := range a.IPAddresses {
		if !a.IPAddresses[i].Equal(b.IPAddresses[i]) {
			return false
		}
	}
	return true
}

func TestRotateOverSSH(t *testing.T) {
	h := newRemoteHost(t)
	mustDockerTLS(t, nil, "ca", "create", "--key", "ecdsa-p384")
	port := FreePort(t, "127.0.0.1")
	mustDockerTLS(t, nil, h.provisionArgs("remote", port, "--key", "rsa-2048", "--client-name", "ci-bot")...)
	requireContextWorks(t, "remote")
	srvPath := h.ns.HostPath("/etc/docker/server-cert.pem")
	cliPath := contextTLSFile(t, "remote", "cert.pem")
	srv1, cli1 := parseCertFile(t, srvPath)[0], parseCertFile(t, cliPath)[0]

	// Server and client certificates: new serials, same names, subject and key type.
	out := mustDockerTLS(t, nil, "rotate")
	t.Logf("rotate:\n%s", out)
	srv2, cli2 := parseCertFile(t, srvPath)[0], parseCertFile(t, cliPath)[0]
	if srv2.SerialNumber.Cmp(srv1.SerialNumber) == 0 || cli2.SerialNumber.Cmp(cli1.SerialNumber) == 0 {
		t.Fatal("rotate did not re-issue the server and client certificates")
	}
	if !sameNames(srv1, srv2) || srv2.PublicKeyAlgorithm != x509.RSA || srv2.PublicKey.(*rsa.PublicKey).N.BitLen() != 2048 {
		t.Errorf("server certificate changed names or key type: %v %v -> %v %v (%v)", srv1.DNSNames, srv1.IPAddresses, srv2.DNSNames, srv2.IPAddresses, srv2.PublicKeyAlgorithm)
	}
	if cli2.Subject.String() != cli1.Subject.String() || cli2.Subject.CommonName != "ci-bot" || cli2.PublicKeyAlgorithm != x509.RSA {
		t.Errorf("client certificate changed subject or key type: %s -> %s (%v)", cli1.Subject, cli2.Subject, cli2.PublicKeyAlgorithm)
	}
	requireContextWorks(t, "remote")

	// --if-expiring: nothing is due, nothing changes.
	pid := h.d.PID()
	sum := checksumTree(t, h.ns.EtcDocker)
	out = mustDockerTLS(t, nil, "rotate", "--if-expiring", "30d")
	if !strings.Contains(out, "Nothing to change on 127.0.0.1") || !strings.Contains(out, "keep      the client certificate") {
		t.Errorf("rotate --if-expiring 30d did not keep everything:\n%s", out)
	}
	requireUnchanged(t, "rotate --if-expiring 30d", h.ns.EtcDocker, sum)
	if h.d.PID() != pid {
		t.Error("rotate --if-expiring 30d restarted dockerd")
	}

	// --if-expiring: certificates valid 825 days (and the 10-year CA)
	// expire within 4000 days.
	out, stderr, code := dockerTLS(t, nil, "rotate", "--if-expiring", "4000d", "remote")
	srv3, cli3 := parseCertFile(t, srvPath)[0], parseCertFile(t, cliPath)[0]
	if code != 0 || srv3.Equal(srv2) || cli3.Equal(cli2) || !strings.Contains(out, "the certificate on hand expires on ") {
		t.Errorf("rotate --if-expiring 4000d did not re-issue: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "itself expires on ") || !strings.Contains(stderr, "within 4000d: certificates it issues end with it; rotate it with 'docker tls rotate --ca'") {
		t.Errorf("no warning about the CA's own expiry:\n%s", stderr)
	}

	// The CA: the plan first, changing nothing.
	oldCA := parseCertFile(t, filepath.Join(DockerConfigDir(t), "tls", "ca.pem"))[0]
	sum = checksumTree(t, h.ns.EtcDocker)
	out = mustDockerTLS(t, nil, "rotate", "--ca", "--dry-run")
	for _, want := range []string{"1/3 trust both", "2/3 move", "3/3 retire", "Dry run: nothing was changed. Plan of step 1/3 for each daemon:", "replace   /etc/docker/ca.pem"} {
		if !strings.Contains(out, want) {
			t.Errorf("rotate --ca --dry-run lacks %q:\n%s", want, out)
		}
	}
	requireUnchanged(t, "rotate --ca --dry-run", h.ns.EtcDocker, sum)
	if _, err := os.Stat(filepath.Join(DockerConfigDir(t), "tls", "ca-next.pem")); err == nil {
		t.Error("rotate --ca --dry-run created the next CA")
	}

	// The CA: three steps, docker works after each.
	out = mustDockerTLS(t, nil, "rotate", "--ca")
	t.Logf("rotate --ca:\n%s", out)
	for _, want := range []string{"== Step 1/3: trust the old and the new CA", "== Step 2/3: move every certificate to the new CA", "== Step 3/3: retire the old CA",
		fmt.Sprintf("Note: /etc/docker/ca.pem trusted %q so far; it will no longer: clients with certificates it signed will be refused", oldCA.Subject.CommonName)} {
		if !strings.Contains(out, want) {
			t.Errorf("rotate --ca output lacks %q", want)
		}
	}
	if n := strings.Count(out, "docker --context remote version: Server: "); n != 3 {
		t.Errorf("docker --context remote version worked after %d of the 3 steps", n)
	}
	newCA := parseCertFile(t, filepath.Join(DockerConfigDir(t), "tls", "ca.pem"))[0]
	if newCA.Equal(oldCA) || newCA.PublicKey.(*ecdsa.PublicKey).Curve.Params().BitSize != 384 {
		t.Fatalf("the docker-tls CA was not replaced by a P-384 CA")
	}
	for _, p := range []string{h.ns.HostPath("/etc/docker/ca.pem"), contextTLSFile(t, "remote", "ca.pem")} {
		if cs := parseCertFile(t, p); len(cs) != 1 || !cs[0].Equal(newCA) {
			t.Errorf("%s: want only the new CA, found %d certificates", p, len(cs))
		}
	}
	for _, p := range []string{srvPath, cliPath} {
		if c := parseCertFile(t, p)[0]; c.CheckSignatureFrom(newCA) != nil {
			t.Errorf("%s is not signed by the new CA", p)
		}
	}
	if bak, _ := filepath.Glob(filepath.Join(DockerConfigDir(t), "tls", "ca-key.pem.bak-*")); len(bak) != 1 {
		t.Errorf("old CA key not kept as a backup: %v", bak)
	}
	requireContextWorks(t, "remote")
	h.localSocketWorks(t)
}

func TestRotateLocalDir(t *testing.T) {
	mustDockerTLS(t, nil, "ca", "create")
	dir := t.TempDir()
	mustDockerTLS(t, nil, "issue", "server", "--san", "docker.example.com,10.0.0.5", "--key", "ed25519", "-o", dir)
	mustDockerTLS(t, nil, "issue", "client", "-o", dir)
	mustDockerTLS(t, nil, "issue", "client", "--name", "alice", "-o", dir)
	srv1, cli1 := parseCertFile(t, filepath.Join(dir, "server-cert.pem"))[0], parseCertFile(t, filepath.Join(dir, "alice-cert.pem"))[0]
	out := mustDockerTLS(t, nil, "rotate", "--if-expiring", "30d", "--dir", dir)
	if !strings.Contains(out, "Nothing to rotate in "+dir) {
		t.Errorf("rotate --if-expiring re-issued fresh certificates:\n%s", out)
	}
	mustDockerTLS(t, nil, "rotate", "--dir", dir)
	srv2, cli2 := parseCertFile(t, filepath.Join(dir, "server-cert.pem"))[0], parseCertFile(t, filepath.Join(dir, "alice-cert.pem"))[0]
	if srv2.Equal(srv1) || cli2.Equal(cli1) {
		t.Fatal("rotate --dir did not re-issue")
	}
	if !sameNames(srv1, srv2) || srv2.PublicKeyAlgorithm != x509.Ed25519 || cli2.Subject.CommonName != "alice" {
		t.Errorf("rotate --dir changed names, key type or subject: %v %v %s", srv2.DNSNames, srv2.PublicKeyAlgorithm, cli2.Subject)
	}
	if bak, _ := filepath.Glob(filepath.Join(dir, "*.bak-*")); len(bak) != 6 {
		t.Errorf("want backups of the 6 old files, found %v", bak)
	}
}

// docker-machine create --tls-ca-cert/--tls-ca-key --tls-client-cert/--tls-client-key
// --tls-san on a systemd host whose unit passes -H fd://.
func TestProvisionOwnCAAndClientCert(t *testing.T) {
	h := newRemoteHost(t)
	units := t.TempDir()
	unit := "[Unit]\nDescription=Docker\n[Service]\nExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock\n"
	if err := os.WriteFile(filepath.Join(units, "docker.service"), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	// Only the namespace sees this unit directory (its mounts are private).
	if out, err := h.ns.Command("mount", "-n", "--bind", units, "/etc/systemd/system").CombinedOutput(); err != nil {
		t.Fatalf("bind-mounting the unit directory: %v\n%s", err, out)
	}
	p := newTestPKI(t)
	clientCert, clientKey := p.issue(t, "me", "machine-user", "clientAuth", "")
	port := FreePort(t, "127.0.0.1")
	out := mustDockerTLS(t, nil, h.provisionArgs("own", port, "--ca-cert", p.caCert, "--ca-key", p.caKey,
		"--client-cert", clientCert, "--client-key", clientKey, "--san", "docker.example.com")...)
	t.Logf("provision:\n%s", out)
	requireContextWorks(t, "own")
	srv := parseCertFile(t, h.ns.HostPath("/etc/docker/server-cert.pem"))[0]
	ca := parseCertFile(t, p.caCert)[0]
	if srv.CheckSignatureFrom(ca) != nil || !strings.Contains(strings.Join(srv.DNSNames, ","), "docker.example.com") {
		t.Errorf("server certificate not signed by --ca-cert or without --san: %v", srv.DNSNames)
	}
	if got, want := string(mustReadFile(t, contextTLSFile(t, "own", "cert.pem"))), string(mustReadFile(t, clientCert)); got != want {
		t.Error("the context does not hold --client-cert")
	}
	dropIn := string(mustReadFile(t, filepath.Join(units, "docker.service.d", "docker-tls.conf")))
	if !strings.Contains(dropIn, "ExecStart=\n") || strings.Contains(dropIn, "fd://") {
		t.Errorf("drop-in does not clear -H fd://:\n%s", dropIn)
	}
	if !strings.Contains(out, "conflicts with hosts in daemon.json") {
		t.Errorf("provision did not explain the drop-in:\n%s", out)
	}
	r := run2(t, "rotate", "--ca")
	if r.code != 2 || !strings.Contains(r.stderr, `docker context "own" uses the client certificate `+clientCert) {
		t.Errorf("rotate --ca with a user client certificate: %d %s", r.code, r.stderr)
	}
}

type result struct {
	stdout, stderr string
	code           int
}

func run2(t *testing.T, args ...string) result {
	o, e, c := dockerTLS(t, nil, args...)
	return result{o, e, c}
}

// A non-root login: sudo -n when sudo needs no password; a clear error, and
// nothing written, when it wants one.
func TestProvisionThroughSudo(t *testing.T) {
	h := newRemoteHost(t)
	user := h.sshd.AddSudoUser(t, h.ns, false)
	mustDockerTLS(t, nil, "ca", "create")
	port := FreePort(t, "127.0.0.1")
	args := h.provisionArgs("sudo", port)
	args[len(args)-1] = "ssh://" + user + "@" + h.sshd.Alias
	sum := checksumTree(t, h.ns.EtcDocker)
	stdout, stderr, code := dockerTLS(t, nil, args...)
	if code != 2 || !strings.Contains(stderr, "ssh://"+user+"@e2e-remote: the login user is not root and sudo wants a password (sudo -n said \"sudo: a password is required\"): allow this user passwordless sudo (NOPASSWD in sudoers), or connect as root (ssh://root@e2e-remote)") {
		t.Fatalf("sudo with a password: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	requireUnchanged(t, "provision refused by sudo", h.ns.EtcDocker, sum)

	h.sshd.SetSudo(t, true)
	out := mustDockerTLS(t, nil, args...)
	if !strings.Contains(out, "Provisioning ssh://"+user+"@e2e-remote ("+user+"@127.0.0.1:") {
		t.Errorf("provision did not log in as %s:\n%s", user, out)
	}
	requireContextWorks(t, "sudo")
	if fi, err := os.Stat(h.ns.HostPath("/etc/docker/server-key.pem")); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("server-key.pem not written as root through sudo: %v", err)
	}
}

// contentSums is checksumTree without times and directories: a rollback
// rewrites files (new mtime) with their old content and mode.
func contentSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, sum := range checksumTree(t, dir) {
		if i := strings.Index(sum, " mtime="); i >= 0 && strings.Contains(sum, "sha256=") {
			out[name] = sum[:i] + sum[strings.Index(sum, " sha256="):]
		}
	}
	return out
}

// An init script (no systemd, so no drop-in can help) starts dockerd with
// -H: once daemon.json has "hosts" too, dockerd refuses to start. Its own
// error is shown, and the old setup is back.
func TestProvisionRollsBackConflictingConfig(t *testing.T) {
	ns := NewNamespace(t)
	writeDaemonJSON(t, ns, map[string]any{"log-level": "info"})
	d := StartRemoteDockerd(t, ns, "-H", "unix:///var/run/docker.sock")
	h := &remoteHost{ns: ns, d: d, sshd: StartSSHD(t, ns)}
	mustDockerTLS(t, nil, "ca", "create")
	before := contentSums(t, ns.EtcDocker)
	stdout, stderr, code := dockerTLS(t, nil, h.provisionArgs("remote", FreePort(t, "127.0.0.1"))...)
	t.Logf("stdout: %s\nstderr: %s", stdout, stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"the following directives are specified both as a flag and in the configuration file: hosts",
		"The previous files and daemon.json were restored; dockerd was restarted with the previous configuration.",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error lacks %q", want)
		}
	}
	for _, want := range []string{"remove    /etc/docker/server-key.pem", "restore   /etc/docker/daemon.json"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("rollback did not list %q", want)
		}
	}
	after := contentSums(t, ns.EtcDocker)
	for name, sum := range before {
		if after[name] != sum {
			t.Errorf("%s differs after the rollback", name)
		}
	}
	for _, f := range []string{"ca.pem", "server-cert.pem", "server-key.pem"} {
		if _, err := os.Stat(filepath.Join(ns.EtcDocker, f)); !os.IsNotExist(err) {
			t.Errorf("%s was created and not removed by the rollback: %v", f, err)
		}
	}
	h.localSocketWorks(t)
}
