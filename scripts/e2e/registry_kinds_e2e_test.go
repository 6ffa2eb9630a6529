//go:build linux

package e2e

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLoopbackRegistriesInsecure: dockerd treats a registry on 127.0.0.0/8
// as insecure (moby registry/config.go loadInsecureRegistries; the
// containerd image store: containerd's ConfigureHosts for localhost). A
// plain-HTTP localhost:PORT registry and a TLS one whose certificate names
// neither localhost nor 127.0.0.1 both take a push, and the doctor, run
// as the user runs it after the push (bare localhost:PORT, docker's
// environment), reports no error for either, in every cell.
func TestLoopbackRegistriesInsecure(t *testing.T) {
	Require(t)
	ForEachCell(t, func(t *testing.T, c *Cell) {
		ns := NewNetNamespace(t)
		dir := t.TempDir()
		mustDockerTLS(t, nil, "ca", "create", "--out", dir)
		mustDockerTLS(t, nil, "issue", "server", "--san", "registry.example.test", "--out", dir,
			"--ca-cert", filepath.Join(dir, "ca.pem"), "--ca-key", filepath.Join(dir, "ca-key.pem"))
		plain := StartRegistry(t, RegistryOpts{Cell: c, Namespace: ns, Plain: true, Hostname: "plain.e2e.test"})
		tlsReg := StartRegistry(t, RegistryOpts{Cell: c, Namespace: ns, Loopback: true, Hostname: "loop.e2e.test",
			CertFile: filepath.Join(dir, "server-cert.pem"), KeyFile: filepath.Join(dir, "server-key.pem")})
		writeDaemonJSON(t, ns, map[string]any{"hosts": []string{"unix:///var/run/docker.sock"}})
		d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
		tarPath := filepath.Join(t.TempDir(), "tiny.tar")
		writeTinyTar(t, tarPath)
		if _, stderr, code := d.Docker("import", tarPath, "tiny:1"); code != 0 {
			t.Fatal(stderr)
		}
		for _, reg := range []struct {
			name string
			port int
		}{{"plain HTTP", plain.Port}, {"TLS, certificate without the address", tlsReg.Port}} {
			t.Run(reg.name, func(t *testing.T) {
				host := net.JoinHostPort("localhost", strconv.Itoa(reg.port))
				ref := host + "/tiny:1"
				if _, stderr, code := d.NS.RunDocker(t, d.Env(), "tag", "tiny:1", ref); code != 0 {
					t.Fatal(stderr)
				}
				if _, stderr, code := d.NS.RunDocker(t, d.Env(), "push", ref); code != 0 {
					t.Fatalf("cell %s: docker push %s failed: %s", c.Name, ref, stderr)
				}
				out, stderr, code := dockerTLSInNamespace(t, ns, append(d.Env(), "HOME="+t.TempDir()), "doctor", host, "--format", "json")
				rep := parseReport(t, out)
				if len(rep.Targets) != 1 || rep.Targets[0].Kind != "registry" {
					t.Errorf("cell %s: %s not identified as a registry: %+v", c.Name, host, rep.Targets)
				}
				for _, f := range rep.Findings {
					if f.Severity == "error" {
						t.Errorf("cell %s: error for a registry docker pushes to: %s %s", c.Name, f.ID, f.Message)
					}
				}
				if code != 0 {
					t.Errorf("cell %s: doctor %s: exit %d\n%s%s", c.Name, host, code, out, stderr)
				}
				if !strings.Contains(out, "insecure") {
					t.Errorf("cell %s: the doctor does not say that dockerd treats %s as insecure:\n%s", c.Name, host, out)
				}
			})
		}
	})
}

// TestClientCertRegistryIdentified: a registry that demands a client
// certificate, addressed as bare host:port before any certs.d directory
// exists, is identified as a registry (not a daemon: it negotiates HTTP/2,
// which dockerd never does), and the doctor reports what docker push meets
// first without a certs.d directory: the registry's CA is not trusted. A
// dockerd that demands a client certificate, asked the same way, stays a
// daemon (TestDoctorIntakeAsUsersType).
func TestClientCertRegistryIdentified(t *testing.T) {
	Require(t)
	ForEachCell(t, func(t *testing.T, c *Cell) {
		ns := NewNetNamespace(t)
		reg, _ := startClientCertRegistry(t, c, ns)
		out, _, _ := dockerTLSInNamespace(t, ns, []string{"HOME=" + t.TempDir()}, "doctor", reg.Host, "--format", "json")
		rep := parseReport(t, out)
		if len(rep.Targets) != 1 || rep.Targets[0].Kind != "registry" {
			t.Fatalf("cell %s: %s not identified as a registry: %+v", c.Name, reg.Host, rep.Targets)
		}
		if !strings.Contains(rep.Targets[0].KindReason, "HTTP/2") {
			t.Errorf("cell %s: kind reason %q", c.Name, rep.Targets[0].KindReason)
		}
		if _, ok := rep.find("probe-server-unknown-authority"); !ok {
			t.Errorf("cell %s: no probe-server-unknown-authority finding: %+v", c.Name, rep.Findings)
		}
	})
}
