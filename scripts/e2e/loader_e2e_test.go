package e2e

import (
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/loader"
)

// TestLoaderClassesReal drives the issue-11 classes about what a loader
// loads through the real loaders — dockerd's certs.d reader (moby's classic
// loader, or containerd's hosts loader with the containerd image store) and
// containerd's hosts loader through ctr — against a real registry, in every
// cell of the daemon matrix, and checks that the pki/loader model predicts
// each outcome: the loader's error text, or whether the registry's
// certificate is trusted. For the classic-store dockerd classes the doctor
// must report an error exactly when the push fails.
func TestLoaderClassesReal(t *testing.T) {
	Require(t)
	ForEachCell(t, loaderClasses)
}

func loaderClasses(t *testing.T, c *Cell) {
	ctr := c.Ctr
	mustDockerTLS(t, nil, "ca", "create")
	caPath := filepath.Join(DockerConfigDir(t), "tls", "ca.pem")
	caPEM := mustReadFile(t, caPath)
	cfgEnv := []string{"DOCKER_CONFIG=" + DockerConfigDir(t)}
	srvDir, cliDir := t.TempDir(), t.TempDir()
	mustDockerTLS(t, nil, "issue", "server", "--san", DefaultRegistryHostname, "-o", srvDir)
	mustDockerTLS(t, cfgEnv, "issue", "client", "-o", cliDir)
	leafPEM := mustReadFile(t, filepath.Join(srvDir, "server-cert.pem"))
	srvKey := mustReadFile(t, filepath.Join(srvDir, "server-key.pem"))
	cliCert := mustReadFile(t, filepath.Join(cliDir, "cert.pem"))
	cliKey := mustReadFile(t, filepath.Join(cliDir, "key.pem"))
	caKey := mustReadFile(t, filepath.Join(DockerConfigDir(t), "tls", "ca-key.pem"))
	block, _ := pem.Decode(caPEM)
	trusted := pem.EncodeToMemory(&pem.Block{Type: "TRUSTED CERTIFICATE", Bytes: block.Bytes})
	caCerts, err := pki.ParseCertificates(caPath, caPEM)
	if err != nil {
		t.Fatal(err)
	}
	leafCerts, err := pki.ParseCertificates("server-cert.pem", leafPEM)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{loader.Fingerprint(caCerts[0].Raw): true, loader.Fingerprint(leafCerts[0].Raw): true}
	verifies := func(m *loader.TLS) bool {
		for _, c := range m.Roots() {
			if anchors[loader.Fingerprint(c.Raw)] {
				return true
			}
		}
		return false
	}

	ns := NewNetNamespace(t)
	reg := StartRegistry(t, RegistryOpts{Cell: c, Namespace: ns,
		CertFile: filepath.Join(srvDir, "server-cert.pem"), KeyFile: filepath.Join(srvDir, "server-key.pem")})
	writeDaemonJSON(t, ns, map[string]any{"hosts": []string{"unix:///var/run/docker.sock"}})
	d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
	work := t.TempDir()
	tarPath := filepath.Join(work, "tiny.tar")
	writeTinyTar(t, tarPath)
	ref := reg.Host + "/loader:1"
	_, stderr, code := d.Docker("import", tarPath, ref)
	requireExit(t, "docker import", code, 0, stderr)

	write := func(t *testing.T, dir string, files map[string][]byte) {
		t.Helper()
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for n, data := range files {
			if err := os.WriteFile(filepath.Join(dir, n), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("dockerd", func(t *testing.T) {
		ver, _, _ := d.Docker("version", "--format", "{{.Server.Version}}")
		mv := loader.Moby24
		if strings.HasPrefix(strings.TrimSpace(ver), "20.") {
			mv = loader.Moby20
		}
		dir := reg.CertsDir()
		for _, cl := range []struct {
			name  string
			files map[string][]byte
		}{
			{"empty crt beside ca", map[string][]byte{"ca.crt": caPEM, "empty.crt": nil}},
			{"pinned registry leaf", map[string][]byte{"reg.crt": leafPEM}},
			{"trusted certificate ca", map[string][]byte{"ca.crt": trusted}},
			{"der ca", map[string][]byte{"ca.crt": block.Bytes}},
			{"stray ca key", map[string][]byte{"ca.crt": caPEM, "ca.key": caKey}},
			{"domain pair", map[string][]byte{"domain.crt": leafPEM, "domain.key": srvKey}},
			{"self-signed ca as client.cert", map[string][]byte{"ca.crt": caPEM, "client.cert": caPEM, "client.key": caKey}},
		} {
			t.Run(cl.name, func(t *testing.T) {
				write(t, dir, cl.files)
				// The image store picks the loader (pki/loader SelectDockerd).
				var errText string
				var trusts bool
				if c.ContainerdStore {
					// The tree as dockerd sees it: the namespace's
					// /etc/docker/certs.d, so error texts name its paths.
					nsTree := loader.Tree{FS: loader.OSTree(filepath.Dir(dir)).FS, Root: "/etc/docker/certs.d"}
					cm := loader.ContainerdConfigureHosts(nsTree, ".", reg.Host, loader.ContainerdOptions{Version: loader.Containerd2, GOOS: "linux"})
					if cm.Err != nil {
						errText = cm.Err.Error()
					} else {
						trusts = verifies(&cm.Hosts[len(cm.Hosts)-1].TLS)
					}
				} else {
					m := loader.MobyCertsDir(loader.OSTree(dir), ".", mv)
					if m.Err != nil {
						errText = m.Err.Error()
					}
					trusts = verifies(&m.TLS)
				}
				_, stderr, code := d.NS.RunDocker(t, d.Env(), "push", ref)
				switch {
				case errText != "":
					requireFailureContaining(t, "push", code, stderr, errText)
				case trusts:
					requireExit(t, "push (the model trusts the registry)", code, 0, stderr)
				default:
					requireFailureContaining(t, "push", code, stderr, "x509: certificate signed by unknown authority")
				}
				// The doctor reports an error in this directory exactly
				// when the push fails.
				stdout, _, _ := dockerTLSInNamespace(t, ns, nil, "doctor", "--format", "json")
				var rep struct {
					Findings []struct {
						CheckID, Severity, Subject, Message string
					}
				}
				if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
					t.Fatalf("doctor json: %v\n%s", err, stdout)
				}
				var errs []string
				for _, f := range rep.Findings {
					if f.Severity == "error" && strings.Contains(f.Subject, "/certs.d/"+reg.Host) {
						errs = append(errs, f.CheckID+": "+f.Message)
					}
				}
				if !c.ContainerdStore && (code != 0) != (len(errs) > 0) {
					t.Errorf("push exit %d, but the doctor's errors for %s are %q", code, reg.Host, errs)
				}
			})
		}
		os.RemoveAll(dir)
	})

	t.Run("ctr", func(t *testing.T) {
		hostsDir := filepath.Join(t.TempDir(), "certs.d")
		dir := filepath.Join(hostsDir, reg.Host)
		out, _ := runInNamespace(t, ns, ctr, "--version")
		v := loader.ParseContainerdVersion(out)
		if v == 0 {
			t.Fatalf("ctr --version: %q", out)
		}
		server := "[host.\"https://" + reg.Host + "\"]\n"
		for _, cl := range []struct {
			name  string
			files map[string][]byte
		}{
			{"hosts.toml names ca.pem", map[string][]byte{"hosts.toml": []byte(server + "  ca = \"ca.pem\"\n"), "ca.pem": caPEM}},
			{"hosts.toml without a host table", map[string][]byte{"hosts.toml": []byte("server = \"https://" + reg.Host + "\"\nca = \"ca.pem\"\n"), "ca.pem": caPEM}},
			{"ca.crt beside hosts.toml", map[string][]byte{"hosts.toml": []byte(server + "  capabilities = [\"pull\", \"resolve\"]\n"), "ca.crt": caPEM}},
			{"skip_verify as a string", map[string][]byte{"hosts.toml": []byte(server + "  ca = \"ca.pem\"\n  skip_verify = \"false\"\n"), "ca.pem": caPEM}},
			{"empty key in a client pair", map[string][]byte{"hosts.toml": []byte(server + "  ca = \"ca.pem\"\n  client = [[\"client.pem\", \"\"]]\n"), "ca.pem": caPEM, "client.pem": append(append([]byte{}, cliCert...), cliKey...)}},
			{"fallback with an empty crt", map[string][]byte{"ca.crt": caPEM, "empty.crt": nil}},
			{"fallback with a trusted-certificate crt", map[string][]byte{"ca.crt": trusted}},
		} {
			t.Run(cl.name, func(t *testing.T) {
				write(t, dir, cl.files)
				m := loader.ContainerdConfigureHosts(loader.OSTree("/"), strings.TrimPrefix(hostsDir, "/"), reg.Host, loader.ContainerdOptions{Version: v, GOOS: "linux"})
				out, code := runInNamespace(t, ns, ctr, "--address", d.ContainerdSocket, "--namespace", "e2e-loader",
					"content", "fetch", "--hosts-dir", hostsDir, ref)
				// The first host entry for the registry is tried first.
				last := &m.Hosts[len(m.Hosts)-1]
				for i := range m.Hosts {
					if m.Hosts[i].Host == reg.Host {
						last = &m.Hosts[i]
						break
					}
				}
				switch {
				case m.Err != nil:
					if code == 0 || !strings.Contains(out, m.Err.Error()) {
						t.Fatalf("ctr: exit %d, want the model's error %q:\n%s", code, m.Err, out)
					}
				case verifies(&last.TLS):
					// The image was never pushed here: trust works when the
					// failure is the registry's "not found", not TLS.
					if strings.Contains(out, "x509:") || strings.Contains(out, "tls:") {
						t.Fatalf("ctr: the model trusts the registry, ctr fails TLS:\n%s", out)
					}
				default:
					if code == 0 || !strings.Contains(out, "x509: certificate signed by unknown authority") {
						t.Fatalf("ctr: exit %d, want the x509 error (the model trusts nothing):\n%s", code, out)
					}
				}
			})
		}
	})
}
