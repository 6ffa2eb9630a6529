//go:build linux

package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/doctor/probe"
)

// TestDoctorRegistryFixesWork: a registry that demands client
// certificates, addressed as the user types it after a failed pull or
// push: bare host:port, docker's environment, no flags. At each step the
// cause leads, docker pull's and docker push's lines are quoted exactly as
// the installed CLI printed them against this cell's dockerd, and the
// printed fix, applied as printed, gets docker to the next step, until
// push and pull work. The steps: no certs.d (the registry's CA is not
// trusted), then ca.crt only (no client certificate).
func TestDoctorRegistryFixesWork(t *testing.T) {
	Require(t)
	ForEachCell(t, doctorRegistryFixesWork)
}

var caCertArgRE = regexp.MustCompile(`--ca-cert <the certificate of [^>]*>`)

var pushDigestRE = regexp.MustCompile(`/blobs/(sha256:[0-9a-f]{64})"`)

func doctorRegistryFixesWork(t *testing.T, c *Cell) {
	ns := NewNetNamespace(t)
	reg, dir := startClientCertRegistry(t, c, ns)
	writeDaemonJSON(t, ns, map[string]any{"hosts": []string{"unix:///var/run/docker.sock"}})
	d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
	tarPath := filepath.Join(t.TempDir(), "tiny.tar")
	writeTinyTar(t, tarPath)
	ref := reg.Host + "/tiny:1"
	if _, stderr, code := d.Docker("import", tarPath, ref); code != 0 {
		t.Fatal(stderr)
	}
	steps := []struct {
		cause string
		// apply turns the printed fix into what the user runs: the fix
		// names the registry's CA (and the CA its client certificates
		// need, with its key) in <…>, files only the user knows; here it
		// is the CA of the registry's certificate and clientcas.
		apply func(fix string) string
	}{
		{"probe-server-unknown-authority", func(fix string) string {
			cmd, _, _ := strings.Cut(fix, " (or --fetch-ca")
			_, cmd, ok := strings.Cut(cmd, ": docker tls ")
			if !ok || !strings.Contains(cmd, "--ca <that CA>") {
				t.Fatalf("the fix does not say how to install the registry's CA: %q", fix)
			}
			return "docker tls " + strings.Replace(cmd, "<that CA>", filepath.Join(dir, "ca.pem"), 1)
		}},
		{"probe-client-cert-missing", func(fix string) string {
			_, cmd, ok := strings.Cut(fix, ": docker tls ")
			if !ok || !strings.Contains(cmd, " --issue-client --ca-cert <the certificate of ") || !strings.HasSuffix(cmd, "> --ca-key <its key>") {
				t.Fatalf("the fix does not say how to issue a client pair the registry accepts: %q", fix)
			}
			cmd = caCertArgRE.ReplaceAllString(cmd, "--ca-cert "+filepath.Join(dir, "ca.pem"))
			return "docker tls " + strings.Replace(cmd, "<its key>", filepath.Join(dir, "ca-key.pem"), 1)
		}},
	}
	for i, step := range steps {
		_, pushErr, code := d.NS.RunDocker(t, d.Env(), "push", ref)
		if code == 0 {
			t.Fatalf("step %d (%s): docker push succeeded", i, step.cause)
		}
		_, pullErr, code := d.NS.RunDocker(t, d.Env(), "pull", ref)
		if code == 0 {
			t.Fatalf("step %d (%s): docker pull succeeded", i, step.cause)
		}
		pushLine, pullLine := lastLine(pushErr), lastLine(pullErr)
		out, stderr, code := dockerTLSInNamespace(t, ns, append(d.Env(), "HOME="+t.TempDir()), "doctor", reg.Host, "--format", "json")
		if code != 1 {
			t.Fatalf("step %d: doctor %s: exit %d\n%s\n%s", i, reg.Host, code, out, stderr)
		}
		rep := parseReport(t, out)
		if len(rep.Targets) != 1 || rep.Targets[0].Kind != "registry" {
			t.Fatalf("step %d: %s not taken for a registry: %+v", i, reg.Host, rep.Targets)
		}
		if len(rep.Findings) == 0 || rep.Findings[0].ID != step.cause || rep.Summary == nil || rep.Summary.CheckID != step.cause {
			t.Fatalf("step %d: the cause %s does not lead: summary %+v\n%+v", i, step.cause, rep.Summary, rep.Findings)
		}
		f := rep.Findings[0]
		if got := fillImage(f.Docker, "tiny", "1", pushLine); maskTimes(got) != maskTimes(pullLine) {
			t.Errorf("step %d: the doctor quotes for docker pull\n  %q\ndocker pull printed\n  %q", i, got, pullLine)
		}
		if got := fillImage(f.DockerPush, "tiny", "1", pushLine); maskTimes(got) != maskTimes(pushLine) {
			t.Errorf("step %d: the doctor quotes for docker push\n  %q\ndocker push printed\n  %q", i, got, pushLine)
		}
		text, _, _ := dockerTLSInNamespace(t, ns, append(d.Env(), "HOME="+t.TempDir()), "doctor", reg.Host)
		if first, _, _ := strings.Cut(text, "\n"); !strings.HasPrefix(first, "Root cause: "+step.cause) || !strings.Contains(first, rep.Summary.Fix) ||
			!strings.Contains(text, "docker pull: "+f.Docker+"\n") || !strings.Contains(text, "docker push: "+f.DockerPush+"\n") {
			t.Errorf("step %d: the text report does not open with %s and its fix, or lacks docker pull's and push's lines:\n%s", i, step.cause, text)
		}
		fix := step.apply(rep.Summary.Fix)
		t.Logf("step %d: printed fix: %s\n  run: %s", i, rep.Summary.Fix, fix)
		runFix(t, ns, fix)
	}
	if _, stderr, code := d.NS.RunDocker(t, d.Env(), "push", ref); code != 0 {
		t.Fatalf("docker push after the printed fixes: %s", stderr)
	}
	if _, stderr, code := d.Docker("rmi", ref); code != 0 {
		t.Fatal(stderr)
	}
	if _, stderr, code := d.NS.RunDocker(t, d.Env(), "pull", ref); code != 0 {
		t.Fatalf("docker pull after the printed fixes: %s", stderr)
	}
	out, _, code := dockerTLSInNamespace(t, ns, append(d.Env(), "HOME="+t.TempDir()), "doctor", reg.Host, "--format", "json")
	if code != 0 {
		t.Errorf("doctor after the fixes: exit %d\n%s", code, out)
	}
}

// fillImage puts the image pulled or pushed into a line the doctor quotes:
// it cannot know the image and names REPOSITORY, TAG and DIGEST (the
// containerd store's lines); the layer digest is the one docker push's
// line names.
func fillImage(s, repo, tag, pushLine string) string {
	s = strings.ReplaceAll(s, "/"+probe.RepoPlaceholder, "/"+repo)
	s = strings.ReplaceAll(s, repo+":"+probe.TagPlaceholder, repo+":"+tag)
	s = strings.ReplaceAll(s, "/manifests/"+probe.TagPlaceholder, "/manifests/"+tag)
	if m := pushDigestRE.FindStringSubmatch(pushLine); m != nil {
		s = strings.ReplaceAll(s, "sha256:"+probe.DigestPlaceholder, m[1])
	}
	return s
}
