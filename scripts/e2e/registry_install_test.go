//go:build linux

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/pki"
	"github.com/pelletier/go-toml/v2"
)

func mustReadFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dockerTLSInNamespace runs docker-tls inside the namespace (where the test
// registry's name resolves), like dockerTLS.
func dockerTLSInNamespace(t *testing.T, ns *Namespace, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runDockerTLS(t, ns, env, args)
}

// runInNamespace runs a program inside the namespace and returns its
// combined output and exit code.
func runInNamespace(t *testing.T, ns *Namespace, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := ns.CommandContext(ctx, name, args...)
	cmd.Env = cleanEnv("DOCKER_", "CONTAINERD_", "REGISTRY_AUTH")
	out, err := cmd.CombinedOutput()
	code := 0
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("e2e: %s %s: timed out", name, strings.Join(args, " "))
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("e2e: %s %s: %v", name, strings.Join(args, " "), err)
	}
	t.Logf("e2e: [namespace] %s %s -> exit %d\n%s", filepath.Base(name), strings.Join(args, " "), code, out)
	return string(out), code
}

func logged(t *testing.T, what string, stdout, stderr string, code int) {
	t.Helper()
	t.Logf("%s -> exit %d\nstdout: %s\nstderr: %s", what, code, stdout, stderr)
}

// TestRegistryInstall proves `docker tls install-registry` against a real
// distribution registry that requires client certificates: every
// certificate is made by docker-tls itself, and each client (dockerd,
// skopeo through containers/image, containerd's ctr) fails with the real
// x509 error before the install and works after it, reading only the
// directories the command wrote; in every cell of the daemon matrix, and
// with the containerd image store through hosts.toml in /etc/docker/certs.d.
func TestRegistryInstall(t *testing.T) {
	Require(t)
	ForEachCell(t, registryInstall)
}

func registryInstall(t *testing.T, c *Cell) {
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		t.Fatalf("e2e: skopeo is required: %v", err)
	}
	ctr := c.Ctr

	// The registry's certificate, and its client CA, from docker-tls.
	mustDockerTLS(t, nil, "ca", "create")
	caPEM := filepath.Join(DockerConfigDir(t), "tls", "ca.pem")
	caCert, err := pki.ParseCertificates(caPEM, mustReadFile(t, caPEM))
	if err != nil {
		t.Fatal(err)
	}
	caName := caCert[0].Subject.CommonName
	// Subtests get their own default DOCKER_CONFIG; the CA lives in this one.
	cfgEnv := []string{"DOCKER_CONFIG=" + DockerConfigDir(t)}
	srvDir := t.TempDir()
	mustDockerTLS(t, nil, "issue", "server", "--san", DefaultRegistryHostname, "-o", srvDir)

	ns := NewNetNamespace(t)
	reg := StartRegistry(t, RegistryOpts{Cell: c, Namespace: ns,
		CertFile: filepath.Join(srvDir, "server-cert.pem"), KeyFile: filepath.Join(srvDir, "server-key.pem"),
		ClientCAs: []string{caPEM}})
	writeDaemonJSON(t, ns, map[string]any{"hosts": []string{"unix:///var/run/docker.sock"}})
	d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})

	// An image without network: docker import of a tiny tar.
	work := t.TempDir()
	tarPath := filepath.Join(work, "tiny.tar")
	writeTinyTar(t, tarPath)
	ref := reg.Host + "/x:1"
	_, stderr, code := d.Docker("import", tarPath, ref)
	requireExit(t, "docker import", code, 0, stderr)
	archive := filepath.Join(work, "x.tar")
	_, stderr, code = d.Docker("save", "-o", archive, ref)
	requireExit(t, "docker save", code, 0, stderr)

	// --fetch-ca: the registry serves only its own certificate (as most
	// do), so there is no root to install, and the command says so.
	_, stderr, code = dockerTLSInNamespace(t, ns, nil, "install-registry", reg.Host, "--fetch-ca", "--certs-dir", filepath.Join(work, "unused"))
	want := fmt.Sprintf(`--fetch-ca: %s did not send its root CA: the last certificate it presented (%q) was issued by "CN=%s", which is not in the chain; get that CA certificate from the registry's administrator and pass it with --ca FILE`, reg.Host, DefaultRegistryHostname, caName)
	if code != 2 || strings.TrimSpace(stderr) != want {
		t.Fatalf("--fetch-ca against a leaf-only registry: exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "unused")); err == nil {
		t.Fatal("--fetch-ca that was refused created files")
	}

	t.Run("fetch-ca", func(t *testing.T) {
		// A registry that serves its full chain (leaf + CA, as
		// distribution does when the certificate file holds both): the CA
		// is fetched, shown, and installed because --fingerprint matches.
		full := filepath.Join(t.TempDir(), "fullchain.pem")
		chain := append(mustReadFile(t, filepath.Join(srvDir, "server-cert.pem")), mustReadFile(t, caPEM)...)
		if err := os.WriteFile(full, chain, 0o644); err != nil {
			t.Fatal(err)
		}
		reg2 := StartRegistry(t, RegistryOpts{Cell: c, Namespace: ns, CertFile: full, KeyFile: filepath.Join(srvDir, "server-key.pem")})
		out := filepath.Join(t.TempDir(), "certs.d")
		fp := pki.Fingerprint(caCert[0])
		_, stderr, code := dockerTLSInNamespace(t, ns, cfgEnv, "install-registry", reg2.Host, "--fetch-ca", "--certs-dir", out)
		want := fmt.Sprintf("%s presented the CA %q with fingerprint %s; standard input is not a terminal, so it cannot be confirmed interactively: check the fingerprint with the registry's administrator and rerun with --fingerprint %s", reg2.Host, caName, fp, fp)
		if code != 2 || strings.TrimSpace(stderr) != want {
			t.Fatalf("non-interactive --fetch-ca: exit %d, stderr:\n%s\nwant:\n%s", code, stderr, want)
		}
		stdout, stderr, code := dockerTLSInNamespace(t, ns, cfgEnv, "install-registry", reg2.Host, "--fetch-ca", "--fingerprint", fp, "--certs-dir", out)
		requireExit(t, "install-registry --fetch-ca --fingerprint", code, 0, stderr)
		if !strings.Contains(stdout, reg2.Host+" presented 2 certificates:\n") || !strings.Contains(stdout, "     fingerprint "+fp+"\n") {
			t.Fatalf("chain not shown:\n%s", stdout)
		}
		if got := mustReadFile(t, filepath.Join(out, reg2.Host, "ca.crt")); !bytes.Equal(got, mustReadFile(t, caPEM)) {
			t.Fatalf("installed ca.crt is not the docker-tls CA:\n%s", got)
		}
	})

	t.Run("docker", func(t *testing.T) {
		_, stderr, code := d.NS.RunDocker(t, d.Env(), "push", ref)
		if got, want := normalisePushError(lastLine(stderr)), pushUnknownCALine(c, reg.Host, "x"); code == 0 || got != want {
			t.Fatalf("cell %s: push before install: exit %d, last line\n  %q\nwant\n  %q", c.Name, code, got, want)
		}

		certsD := filepath.Join(ns.EtcDocker, "certs.d") // the namespace's /etc/docker/certs.d
		args := []string{"install-registry", reg.Host, "--ca", caPEM, "--issue-client", "--certs-dir", certsD}
		stdout, stderr, code := dockerTLS(t, cfgEnv, args...)
		logged(t, "install-registry", stdout, stderr, code)
		requireExit(t, "install-registry", code, 0, stderr)
		dir := reg.CertsDir()
		for _, want := range []string{
			"  created   " + dir + "/ca.crt  (registry CA)\n",
			"  created   " + dir + "/client.cert  (client certificate)\n",
			"  created   " + dir + "/client.key  (client private key)\n",
			"  docker push " + reg.Host + "/IMAGE",
			"  docker tls doctor --registry " + reg.Host + "\n",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("install output lacks %q", want)
			}
		}
		if fi, err := os.Stat(filepath.Join(dir, "client.key")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("client.key: %v %v", fi.Mode(), err)
		}

		_, stderr, code = d.NS.RunDocker(t, d.Env(), "push", ref)
		requireExit(t, "push after install", code, 0, stderr)
		_, stderr, code = d.NS.RunDocker(t, d.Env(), "rmi", ref)
		requireExit(t, "docker rmi", code, 0, stderr)
		_, stderr, code = d.NS.RunDocker(t, d.Env(), "pull", ref)
		requireExit(t, "pull after install", code, 0, stderr)

		// The same command again changes nothing and says so.
		stdout, stderr, code = dockerTLS(t, cfgEnv, args...)
		logged(t, "install-registry again", stdout, stderr, code)
		requireExit(t, "install-registry again", code, 0, stderr)
		for _, want := range []string{
			"Keeping the client certificate in " + dir + ": it was issued by \"" + caName + "\" and is still valid (--force issues a new one)\n",
			"  unchanged " + dir + "/ca.crt  (registry CA, already up to date)\n",
			"  unchanged " + dir + "/client.key  (client private key, already up to date)\n",
			"Nothing to do: the registry TLS material for " + reg.Host + " is already installed.\n",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("second run output lacks %q", want)
			}
		}
	})

	t.Run("docker-hosts.toml", func(t *testing.T) {
		// Registry TLS for dockerd as containerd rules have it: hosts.toml
		// in /etc/docker/certs.d/<host:port>/, written by install-registry
		// --target containerd.
		reg3 := StartRegistry(t, RegistryOpts{Cell: c, Namespace: ns,
			CertFile: filepath.Join(srvDir, "server-cert.pem"), KeyFile: filepath.Join(srvDir, "server-key.pem"),
			ClientCAs: []string{caPEM}})
		ref3 := reg3.Host + "/x:1"
		_, stderr, code := d.NS.RunDocker(t, d.Env(), "tag", ref, ref3)
		requireExit(t, "docker tag", code, 0, stderr)

		// First only hosts.toml in certs.d, pointing at files elsewhere:
		// the containerd image store reads it; the classic store reads
		// only *.crt, *.cert and *.key there, so it does not trust the
		// registry.
		elsewhere := filepath.Join(t.TempDir(), "hosts")
		stdout, stderr, code := dockerTLS(t, cfgEnv, "install-registry", reg3.Host, "--target", "containerd", "--ca", caPEM, "--issue-client", "--certs-dir", elsewhere)
		logged(t, "install-registry --target containerd (elsewhere)", stdout, stderr, code)
		requireExit(t, "install-registry --target containerd", code, 0, stderr)
		copyFile(t, filepath.Join(elsewhere, reg3.Host, "hosts.toml"), filepath.Join(reg3.CertsDir(), "hosts.toml"), 0o644)
		_, stderr, code = d.NS.RunDocker(t, d.Env(), "push", ref3)
		if c.ContainerdStore {
			requireExit(t, "cell "+c.Name+": push with only hosts.toml in certs.d", code, 0, stderr)
		} else if got, want := normalisePushError(lastLine(stderr)), pushUnknownCALine(c, reg3.Host, "x"); code == 0 || got != want {
			t.Fatalf("cell %s: push with only hosts.toml in certs.d: exit %d, last line\n  %q\nwant\n  %q", c.Name, code, got, want)
		}
		// What the doctor makes of the same certs.d: docker push's verdict
		// is the spec.
		pushVerdict := "probe-ok"
		if code != 0 {
			pushVerdict = string(probe.OutcomeServerUnknownCA)
		}
		out, _, _ := dockerTLSInNamespace(t, ns, append(d.Env(), "HOME="+t.TempDir()), "doctor", "--registry", reg3.Host, "--format", "json")
		compareDoctorLine(t, c, "hosts.toml only: verdict", doctorVerdict(parseReport(t, out)), pushVerdict)
		if err := os.RemoveAll(reg3.CertsDir()); err != nil {
			t.Fatal(err)
		}

		// Then as a user runs it: straight into /etc/docker/certs.d. The
		// classic store reads the ca.crt, client.cert and client.key next
		// to hosts.toml; the containerd store reads hosts.toml.
		certsD := filepath.Join(ns.EtcDocker, "certs.d")
		stdout, stderr, code = dockerTLS(t, cfgEnv, "install-registry", reg3.Host, "--target", "containerd", "--ca", caPEM, "--issue-client", "--certs-dir", certsD)
		logged(t, "install-registry --target containerd", stdout, stderr, code)
		requireExit(t, "install-registry --target containerd", code, 0, stderr)
		if _, err := os.Stat(filepath.Join(reg3.CertsDir(), "hosts.toml")); err != nil {
			t.Fatal(err)
		}
		_, stderr, code = d.NS.RunDocker(t, d.Env(), "push", ref3)
		requireExit(t, "cell "+c.Name+": push through hosts.toml", code, 0, stderr)
		_, stderr, code = d.NS.RunDocker(t, d.Env(), "rmi", ref3)
		requireExit(t, "docker rmi", code, 0, stderr)
		_, stderr, code = d.NS.RunDocker(t, d.Env(), "pull", ref3)
		requireExit(t, "cell "+c.Name+": pull through hosts.toml", code, 0, stderr)
	})

	t.Run("containers", func(t *testing.T) {
		// skopeo (containers/image) reads /etc/containers/certs.d/<host:port>
		// by default. The namespace gets its own /etc/containers: a copy of
		// the host's (policy.json, registries.conf) bind-mounted over it, so
		// the test proves the default path without touching the host's.
		etcContainers := filepath.Join(t.TempDir(), "etc-containers")
		if out, err := exec.Command("cp", "-a", "/etc/containers", etcContainers).CombinedOutput(); err != nil {
			t.Fatalf("copying /etc/containers: %v\n%s", err, out)
		}
		if out, code := runInNamespace(t, ns, "mount", "-n", "--bind", etcContainers, "/etc/containers"); code != 0 {
			t.Fatalf("bind-mounting /etc/containers: %s", out)
		}
		// dockerd's certs.d (also a containers/image fallback) must not be
		// what makes skopeo work: hide this registry's directory there.
		hidden := reg.CertsDir() + ".hidden"
		if err := os.Rename(reg.CertsDir(), hidden); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		defer os.Rename(hidden, reg.CertsDir())

		dst := "docker://" + reg.Host + "/skopeo:1"
		out, code := runInNamespace(t, ns, skopeo, "copy", "docker-archive:"+archive, dst)
		if code == 0 || !strings.Contains(out, "x509: certificate signed by unknown authority") {
			t.Fatalf("skopeo copy before install: exit %d, want the x509 error:\n%s", code, out)
		}

		certsD := filepath.Join(etcContainers, "certs.d")
		stdout, stderr, code := dockerTLS(t, cfgEnv, "install-registry", reg.Host, "--target", "containers", "--ca", caPEM, "--issue-client", "--certs-dir", certsD)
		logged(t, "install-registry --target containers", stdout, stderr, code)
		requireExit(t, "install-registry --target containers", code, 0, stderr)
		if !strings.Contains(stdout, "  skopeo inspect docker://"+reg.Host+"/IMAGE") {
			t.Errorf("no skopeo hint in:\n%s", stdout)
		}
		out, code = runInNamespace(t, ns, skopeo, "copy", "docker-archive:"+archive, dst)
		if code != 0 {
			t.Fatalf("skopeo copy after install: exit %d\n%s", code, out)
		}
		out, code = runInNamespace(t, ns, skopeo, "copy", dst, "dir:"+filepath.Join(t.TempDir(), "pulled"))
		if code != 0 {
			t.Fatalf("skopeo copy from the registry: exit %d\n%s", code, out)
		}
	})

	t.Run("containerd", func(t *testing.T) {
		hostsDir := filepath.Join(t.TempDir(), "containerd-certs.d")
		// ctr (the cell's containerd's own hosts.toml loader, client side)
		// fetching the image dockerd pushed, through dockerd's containerd.
		fetch := func() (string, int) {
			return runInNamespace(t, ns, ctr, "--address", d.ContainerdSocket, "--namespace", "e2e-registry",
				"content", "fetch", "--hosts-dir", hostsDir, ref)
		}
		out, code := fetch()
		if code == 0 || !strings.Contains(out, "x509: certificate signed by unknown authority") {
			t.Fatalf("ctr content fetch before install: exit %d, want the x509 error:\n%s", code, out)
		}
		stdout, stderr, code := dockerTLS(t, cfgEnv, "install-registry", reg.Host, "--target", "containerd", "--ca", caPEM, "--issue-client", "--certs-dir", hostsDir)
		logged(t, "install-registry --target containerd", stdout, stderr, code)
		requireExit(t, "install-registry --target containerd", code, 0, stderr)
		dir := filepath.Join(hostsDir, reg.Host)
		data, err := os.ReadFile(filepath.Join(dir, "hosts.toml"))
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Server string `toml:"server"`
			Host   map[string]struct {
				Capabilities []string    `toml:"capabilities"`
				CA           string      `toml:"ca"`
				Client       [][2]string `toml:"client"`
			} `toml:"host"`
		}
		if err := toml.Unmarshal(data, &cfg); err != nil {
			t.Fatalf("hosts.toml: %v\n%s", err, data)
		}
		h, ok := cfg.Host["https://"+reg.Host]
		if cfg.Server != "https://"+reg.Host || !ok || h.CA != filepath.Join(dir, "ca.crt") ||
			len(h.Client) != 1 || h.Client[0] != [2]string{filepath.Join(dir, "client.cert"), filepath.Join(dir, "client.key")} ||
			strings.Join(h.Capabilities, ",") != "pull,resolve,push" {
			t.Fatalf("hosts.toml fields: %+v\n%s", cfg, data)
		}
		out, code = fetch()
		if code != 0 {
			t.Fatalf("ctr content fetch after install: exit %d\n%s", code, out)
		}
	})
}

// doctorVerdict is the doctor's live outcome for a registry: the first
// probe-* finding's ID (probe-ok when the probe succeeded).
func doctorVerdict(r doctorReport) string {
	for _, f := range r.Findings {
		if strings.HasPrefix(f.ID, "probe-") {
			return f.ID
		}
	}
	return "no probe finding"
}
