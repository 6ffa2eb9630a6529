//go:build linux

package e2e

import (
	"net"
	"os"
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
		dir := issueServerPKI(t, "registry.example.test")
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

// TestInsecureClientCertRegistry: a registry that demands a client
// certificate, listed (by a CIDR of its address) in daemon.json
// "insecure-registries", with the client pair in certs.d. moby's classic
// store reads no certs.d for an insecure registry (registry.newTLSConfig),
// so the push fails; the containerd image store reads certs.d and only
// skips verification (daemon/hosts.go mergeLegacyConfig), so it succeeds.
// The doctor, run as the user runs it, reaches docker's verdict in each
// cell and says why.
func TestInsecureClientCertRegistry(t *testing.T) {
	Require(t)
	ForEachCell(t, func(t *testing.T, c *Cell) {
		ns := NewNetNamespace(t)
		reg, dir := startClientCertRegistry(t, c, ns)
		cidr := "fd00:e2e::/64" // NamespaceIP's network, as dockerd prints it
		writeDaemonJSON(t, ns, map[string]any{"hosts": []string{"unix:///var/run/docker.sock"}, "insecure-registries": []string{cidr}})
		d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
		mustDockerTLS(t, nil, "issue", "client", "--out", dir, "--ca-cert", filepath.Join(dir, "ca.pem"), "--ca-key", filepath.Join(dir, "ca-key.pem"))
		for src, dst := range map[string]string{"ca.pem": "ca.crt", "cert.pem": "client.cert", "key.pem": "client.key"} {
			copyFile(t, filepath.Join(dir, src), filepath.Join(reg.CertsDir(), dst), 0o600)
		}
		tarPath := filepath.Join(t.TempDir(), "tiny.tar")
		writeTinyTar(t, tarPath)
		ref := reg.Host + "/tiny:1"
		if _, stderr, code := d.Docker("import", tarPath, ref); code != 0 {
			t.Fatal(stderr)
		}
		_, stderr, code := d.NS.RunDocker(t, d.Env(), "push", ref)
		_, pullErr, pullCode := d.NS.RunDocker(t, d.Env(), "pull", ref)
		if (pullCode == 0) != (code == 0) {
			t.Errorf("cell %s: docker push exit %d, docker pull exit %d: %s", c.Name, code, pullCode, pullErr)
		}
		want := "probe-ok"
		if c.ContainerdStore {
			if code != 0 {
				t.Fatalf("cell %s: push to an insecure registry with certs.d (containerd store) failed: %s", c.Name, stderr)
			}
		} else {
			if code == 0 {
				t.Fatalf("cell %s: push to an insecure client-cert registry succeeded with the classic store", c.Name)
			}
			want = "probe-client-cert-missing"
		}
		out, _, _ := dockerTLSInNamespace(t, ns, append(d.Env(), "HOME="+t.TempDir()), "doctor", reg.Host, "--format", "json")
		rep := parseReport(t, out)
		if got := doctorVerdict(rep); got != want {
			t.Fatalf("cell %s: doctor verdict %s, docker push's is %s:\n%s", c.Name, got, want, out)
		}
		i, _ := rep.find(want)
		if f := rep.Findings[i]; !strings.Contains(f.Message, "insecure") || !strings.Contains(f.Message, cidr) {
			t.Errorf("cell %s: %s does not say that dockerd treats the registry as insecure by %s: %s", c.Name, want, cidr, f.Message)
		}
		if code != 0 {
			// docker push's last error is the http endpoint's (the
			// registry's answer to plain HTTP, in the words of the
			// daemon's distribution client: 20.10's differ).
			dockerLine := normalisePushError(lastLine(stderr))
			wantLine := `unknown: Client sent an HTTP request to an HTTPS server.`
			if c.Name == "dockerd-20.10" {
				wantLine = `error parsing HTTP 400 response body: invalid character 'C' looking for beginning of value: "Client sent an HTTP request to an HTTPS server.\n"`
			}
			if dockerLine != wantLine {
				t.Errorf("cell %s: docker push printed\n  %q\nwant\n  %q", c.Name, dockerLine, wantLine)
			}
			got := normalisePushError(rep.Findings[i].DockerPush)
			compareDoctorLine(t, c, "insecure client-cert push", got, dockerLine)
			// docker push's line exactly as the installed CLI printed it.
			// docker pull reports the https endpoint's transport error
			// (a reset or the registry's alert: a race), which the
			// doctor does not quote.
			if f := rep.Findings[i]; maskTimes(f.DockerPush) != maskTimes(lastLine(stderr)) || f.Docker != "" {
				t.Errorf("cell %s: the doctor quotes\n  pull %q\n  push %q\ndocker printed\n  pull %q\n  push %q", c.Name, f.Docker, f.DockerPush, lastLine(pullErr), lastLine(stderr))
			}
			t.Logf("cell %s: docker pull printed %q", c.Name, lastLine(pullErr))
		}
	})
}

// TestClientCertRegistryHTTP1: a real registry that demands a client
// certificate with HTTP/2 turned off picks http/1.1 by ALPN, as dockerd
// does. Without client material the doctor can only guess (a daemon) and
// says that it guessed from ALPN; with the material in DOCKER_CERT_PATH
// it asks /_ping and /v2/ over a connection with that certificate and
// finds the registry. A real dockerd asked the same way stays a daemon.
func TestClientCertRegistryHTTP1(t *testing.T) {
	Require(t)
	ForEachCell(t, func(t *testing.T, c *Cell) {
		ns := NewNetNamespace(t)
		dir := issueServerPKI(t, DefaultRegistryHostname)
		mustDockerTLS(t, nil, "issue", "client", "--out", dir, "--ca-cert", filepath.Join(dir, "ca.pem"), "--ca-key", filepath.Join(dir, "ca-key.pem"))
		reg := StartRegistry(t, RegistryOpts{Cell: c, Namespace: ns, CertFile: filepath.Join(dir, "server-cert.pem"), KeyFile: filepath.Join(dir, "server-key.pem"),
			ClientCAs: []string{filepath.Join(dir, "ca.pem")}, NoHTTP2: true})

		out, _, _ := dockerTLSInNamespace(t, ns, []string{"HOME=" + t.TempDir()}, "doctor", reg.Host, "--format", "json")
		rep := parseReport(t, out)
		if len(rep.Targets) != 1 || rep.Targets[0].Kind != "daemon" || !strings.Contains(rep.Targets[0].KindReason, "the kind is guessed from ALPN: it picked http/1.1 by ALPN, as dockerd does") {
			t.Errorf("cell %s: without material: %+v", c.Name, rep.Targets)
		}
		out, _, _ = dockerTLSInNamespace(t, ns, []string{"HOME=" + t.TempDir(), "DOCKER_CERT_PATH=" + dir}, "doctor", reg.Host, "--format", "json")
		rep = parseReport(t, out)
		if len(rep.Targets) != 1 || rep.Targets[0].Kind != "registry" ||
			!strings.Contains(rep.Targets[0].KindReason, "asked again with the client certificate of DOCKER_CERT_PATH="+dir+" docker -H tcp://"+reg.Host+" --tlsverify: https://"+reg.Host+"/v2/ answered with Docker-Distribution-Api-Version registry/2.0") {
			t.Errorf("cell %s: with material in DOCKER_CERT_PATH: %+v", c.Name, rep.Targets)
		}
		if got := doctorVerdict(rep); got != "probe-server-unknown-authority" {
			t.Errorf("cell %s: verdict %s (no certs.d yet: dockerd does not trust the registry's CA):\n%s", c.Name, got, out)
		}
	})
}

// e2eHtpasswd is the bcrypt line for user e2e, password e2e-pass (cost 5).
const e2eHtpasswd = "e2e:$2a$05$abcdefghijklmnopqrstuu9cFtKdSHK9O08avHZ8bdCAlChSRoLgS\n"

// TestRegistryAuthAnswerWorded: a real registry that asks for basic-auth
// credentials answers GET /v2/ with 401 and distribution's JSON error
// list. The doctor's live result quotes it as dockerd's registry client
// words it ("unauthorized: authentication required") and says to log in;
// docker push fails until `docker login`, then works.
func TestRegistryAuthAnswerWorded(t *testing.T) {
	Require(t)
	ForEachCell(t, func(t *testing.T, c *Cell) {
		ns := NewNetNamespace(t)
		dir := issueServerPKI(t, DefaultRegistryHostname)
		hp := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(hp, []byte(e2eHtpasswd), 0o644); err != nil {
			t.Fatal(err)
		}
		reg := StartRegistry(t, RegistryOpts{Cell: c, Namespace: ns, CertFile: filepath.Join(dir, "server-cert.pem"), KeyFile: filepath.Join(dir, "server-key.pem"), Htpasswd: hp})
		copyFile(t, filepath.Join(dir, "ca.pem"), filepath.Join(reg.CertsDir(), "ca.crt"), 0o644)
		writeDaemonJSON(t, ns, map[string]any{"hosts": []string{"unix:///var/run/docker.sock"}})
		d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
		tarPath := filepath.Join(t.TempDir(), "tiny.tar")
		writeTinyTar(t, tarPath)
		ref := reg.Host + "/tiny:1"
		if _, stderr, code := d.Docker("import", tarPath, ref); code != 0 {
			t.Fatal(stderr)
		}
		_, pushErr, code := d.Docker("push", ref)
		if code == 0 {
			t.Fatalf("cell %s: push without credentials succeeded", c.Name)
		}
		t.Logf("cell %s: docker push without login: %s", c.Name, lastLine(pushErr))
		out, _, dcode := dockerTLSInNamespace(t, ns, append(d.Env(), "HOME="+t.TempDir()), "doctor", reg.Host, "--format", "json")
		rep := parseReport(t, out)
		i, ok := rep.find("probe-ok")
		if !ok || dcode != 0 {
			t.Fatalf("cell %s: doctor exit %d, no probe-ok:\n%s", c.Name, dcode, out)
		}
		f := rep.Findings[i]
		// distribution answers {"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}:
		// a bare code for its client (the oracle proves the wording).
		want := `GET /v2/ answered HTTP 401, which dockerd's registry client words as "unauthorized": the registry asks for credentials (Basic): without them docker push prints ` + strconv.Quote(lastLine(pushErr))
		if !strings.Contains(f.Message, want) ||
			!strings.HasPrefix(f.Fix, "docker login "+reg.Host+" before pushing") {
			t.Errorf("cell %s: %q\nwant %q\nfix %q", c.Name, f.Message, want, f.Fix)
		}
		if _, stderr, code := d.Docker("login", reg.Host, "-u", "e2e", "-p", "e2e-pass"); code != 0 {
			t.Fatalf("cell %s: docker login: %s", c.Name, stderr)
		}
		if _, stderr, code := d.Docker("push", ref); code != 0 {
			t.Errorf("cell %s: push after docker login (the doctor's fix) fails: %s", c.Name, stderr)
		}
	})
}
