//go:build linux

package e2e

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/pki/loader"
)

// cellDockerdVersion is `dockerd --version`'s number ("20.10.24+dfsg1").
func cellDockerdVersion(t *testing.T, c *Cell) string {
	t.Helper()
	out, err := exec.Command(c.Dockerd, "--version").Output()
	if err != nil {
		t.Fatalf("cell %s: dockerd --version: %v", c.Name, err)
	}
	f := strings.Fields(strings.TrimPrefix(string(out), "Docker version "))
	if len(f) == 0 {
		t.Fatalf("cell %s: dockerd --version printed %q", c.Name, out)
	}
	return strings.TrimSuffix(f[0], ",")
}

// badMirrors are registry-mirrors entries dockerd refuses, one per rule.
var badMirrors = []string{"mirror.example:5000", "10.0.0.1:5000", "ftp://mirror.example", "https://mirror.example/?a=1", "https://u:secret@mirror.example"}

// TestRegistryMirrorsReal proves pki/loader's registry-mirrors model
// against each cell's dockerd: the refusal dockerd prints for each bad
// entry (flag, and daemon.json where dockerd can check a file without
// starting: --validate, Docker 23+), and /info's RegistryConfig.Mirrors of
// a running dockerd for a list with duplicates and an http:// mirror.
func TestRegistryMirrorsReal(t *testing.T) {
	Require(t)
	ForEachCell(t, func(t *testing.T, c *Cell) {
		version := cellDockerdVersion(t, c)
		ns := NewNamespace(t)
		for _, bad := range badMirrors {
			_, merr := loader.LoadMirrors(version, []string{bad})
			if merr == nil {
				t.Fatalf("cell %s: the model accepts %q", c.Name, bad)
			}
			out, _ := ns.Command(c.Dockerd, "--registry-mirror="+bad).CombinedOutput()
			want := `invalid argument "` + bad + `" for "--registry-mirror" flag: ` + merr.Error()
			if !strings.Contains(string(out), want) {
				t.Errorf("cell %s: dockerd --registry-mirror=%s printed\n%s\nthe model says\n%s", c.Name, bad, out, want)
			}
			if strings.HasPrefix(version, "20.") {
				continue // no --validate: 20.10 checks daemon.json's mirrors only when the daemon starts
			}
			cfg := filepath.Join(t.TempDir(), "daemon.json")
			data, _ := json.Marshal(map[string]any{"registry-mirrors": []string{bad}})
			if err := os.WriteFile(cfg, data, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := ns.Command(c.Dockerd, "--validate", "--config-file", cfg).CombinedOutput()
			if err == nil || !strings.Contains(string(out), merr.Error()) {
				t.Errorf("cell %s: dockerd --validate with registry-mirrors [%q]: %v\n%s\nthe model says %s", c.Name, bad, err, out, merr)
			}
			t.Logf("cell %s: daemon.json %q: %s", c.Name, bad, strings.TrimSpace(string(out)))
		}

		entries := []string{"https://mirror.example:5000", "http://10.0.0.1:5001", "https://mirror.example:5000/", "HTTPS://Upper.Example", "http://10.0.0.1:5001"}
		ms, err := loader.LoadMirrors(version, entries)
		if err != nil {
			t.Fatalf("cell %s: the model refuses %q: %v", c.Name, entries, err)
		}
		var want []string
		for _, m := range ms {
			want = append(want, m.URL)
		}
		writeDaemonJSON(t, ns, map[string]any{"hosts": []string{"unix:///var/run/docker.sock"}, "registry-mirrors": entries})
		d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
		out, stderr, code := d.Docker("info", "--format", "{{json .RegistryConfig.Mirrors}}")
		if code != 0 {
			t.Fatalf("cell %s: docker info: %s", c.Name, stderr)
		}
		var got []string
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("cell %s: docker info printed %q: %v", c.Name, out, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("cell %s: /info RegistryConfig.Mirrors %q, the model %q", c.Name, got, want)
		}
	})
}

// TestRegistryMirrorsDoctor: dockerd pulls Docker Hub's images through its
// registry-mirrors. A TLS mirror whose CA sits in its own certs.d
// directory serves the pull with the classic store; with the containerd
// image store dockerd reaches the mirror with docker.io's configuration,
// so the same pull fails (no network to Docker Hub in the namespace). The
// doctor, given the mirror as the user types it, takes it for a registry
// (registry-mirrors say so) and reaches each store's verdict. Then an
// http:// mirror on 127.0.0.1 joins the list: the doctor probes it in plain
// HTTP (no error), and with the containerd store the insecure mirror turns
// verification off for the TLS mirror too (one shared transport): the
// pull works there, and the doctor says why.
func TestRegistryMirrorsDoctor(t *testing.T) {
	Require(t)
	ForEachCell(t, func(t *testing.T, c *Cell) {
		ns := NewNetNamespace(t)
		dir := issueServerPKI(t, "mirror.e2e.test")
		reg := StartRegistry(t, RegistryOpts{Cell: c, Namespace: ns, Hostname: "mirror.e2e.test",
			CertFile: filepath.Join(dir, "server-cert.pem"), KeyFile: filepath.Join(dir, "server-key.pem")})
		copyFile(t, filepath.Join(dir, "ca.pem"), filepath.Join(reg.CertsDir(), "ca.crt"), 0o644)
		plain := StartRegistry(t, RegistryOpts{Cell: c, Namespace: ns, Plain: true, Hostname: "plainmirror.e2e.test"})
		plainHost := net.JoinHostPort("127.0.0.1", strconv.Itoa(plain.Port))

		run := func(mirrors []string) (pullOK bool, pullErr string, d *Dockerd) {
			writeDaemonJSON(t, ns, map[string]any{"hosts": []string{"unix:///var/run/docker.sock"}, "registry-mirrors": mirrors})
			d = StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
			tarPath := filepath.Join(t.TempDir(), "tiny.tar")
			writeTinyTar(t, tarPath)
			ref := reg.Host + "/library/tiny:1"
			if _, stderr, code := d.Docker("import", tarPath, ref); code != 0 {
				t.Fatal(stderr)
			}
			if _, stderr, code := d.Docker("push", ref); code != 0 {
				t.Fatalf("cell %s: push to the mirror itself: %s", c.Name, stderr)
			}
			if _, stderr, code := d.Docker("rmi", ref); code != 0 {
				t.Fatal(stderr)
			}
			_, stderr, code := d.Docker("pull", "tiny:1")
			return code == 0, stderr, d
		}
		doctor := func(d *Dockerd, target string) (doctorReport, string, int) {
			out, stderr, code := dockerTLSInNamespace(t, ns, append(d.Env(), "HOME="+t.TempDir()), "doctor", target, "--format", "json")
			rep := parseReport(t, out)
			// (a certs.d directory for it comes first in the intake's order)
			if len(rep.Targets) != 1 || rep.Targets[0].Kind != "registry" || !strings.Contains(rep.Targets[0].KindReason, "registry-mirrors lists") && !strings.Contains(rep.Targets[0].KindReason, "a registry directory for") {
				t.Errorf("cell %s: %s not taken for a mirror: %+v\n%s", c.Name, target, rep.Targets, stderr)
			}
			return rep, out, code
		}

		// 1. The TLS mirror alone.
		ok, pullErr, d := run([]string{"https://" + reg.Host})
		if ok == c.ContainerdStore {
			t.Fatalf("cell %s: docker pull tiny:1 through the TLS mirror: ok=%v (%s); the model says the mirror's certs.d is read only by the classic store", c.Name, ok, pullErr)
		}
		rep, out, _ := doctor(d, reg.Host)
		want := "probe-ok"
		if c.ContainerdStore {
			want = "probe-server-unknown-authority"
		}
		if got := doctorVerdict(rep); got != want {
			t.Fatalf("cell %s: doctor verdict %s, docker pull's is %s:\n%s", c.Name, got, want, out)
		}
		if c.ContainerdStore {
			i, _ := rep.find(want)
			f := rep.Findings[i]
			if !strings.Contains(f.Message, "docker.io's configuration") || !strings.Contains(f.Message, "a failing mirror does not fail docker pull") || f.Docker != "" {
				t.Errorf("cell %s: the finding does not say why: %+v", c.Name, f)
			}
			// Apply the fix: the CA in docker.io's directory; the pull then works.
			dst := ns.HostPath("/etc/docker/certs.d/docker.io/ca.crt")
			if !strings.HasPrefix(f.Fix, "put the CA that signed the mirror's certificate (") || !strings.Contains(f.Fix, " in /etc/docker/certs.d/docker.io/ca.crt") {
				t.Fatalf("cell %s: fix %q", c.Name, f.Fix)
			}
			copyFile(t, filepath.Join(dir, "ca.pem"), dst, 0o644)
			if _, stderr, code := d.Docker("pull", "tiny:1"); code != 0 {
				t.Errorf("cell %s: after the fix, docker pull tiny:1 still fails: %s", c.Name, stderr)
			}
			rep, out, _ = doctor(d, reg.Host)
			if got := doctorVerdict(rep); got != "probe-ok" {
				t.Errorf("cell %s: after the fix the doctor says %s:\n%s", c.Name, got, out)
			}
			if err := os.Remove(dst); err != nil {
				t.Fatal(err)
			}
		}
		d.Stop()

		// 2. An http:// mirror on loopback joins.
		ok, pullErr, d = run([]string{"https://" + reg.Host, "http://" + plainHost})
		if !ok {
			t.Fatalf("cell %s: docker pull tiny:1 with an insecure mirror beside the TLS one failed: %s", c.Name, pullErr)
		}
		rep, out, code := doctor(d, plainHost)
		if code != 0 || doctorVerdict(rep) != "probe-ok-plain-http" {
			t.Errorf("cell %s: doctor %s (http:// mirror): exit %d:\n%s", c.Name, plainHost, code, out)
		}
		for _, f := range rep.Findings {
			if f.Severity == "error" || strings.Contains(f.ID, "cert") {
				t.Errorf("cell %s: TLS or error finding for a plain-HTTP mirror: %s %s", c.Name, f.ID, f.Message)
			}
		}
		rep, out, code = doctor(d, "http://"+plainHost)
		if code != 0 || doctorVerdict(rep) != "probe-ok-plain-http" || rep.Targets[0].Target != "http://"+plainHost {
			t.Errorf("cell %s: doctor http://%s: exit %d:\n%s", c.Name, plainHost, code, out)
		}
		rep, out, code = doctor(d, reg.Host)
		if code != 0 || doctorVerdict(rep) != "probe-ok" {
			t.Errorf("cell %s: doctor %s with the insecure mirror beside it: exit %d\n%s", c.Name, reg.Host, code, out)
		}
		if c.ContainerdStore && !strings.Contains(out, "share one transport") {
			t.Errorf("cell %s: the doctor does not say why the TLS mirror is not verified:\n%s", c.Name, out)
		}
	})
}
