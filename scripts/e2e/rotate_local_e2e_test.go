//go:build linux

package e2e

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// TestRotateLocalCA rotates the docker-tls CA of a local dockerd set up
// with 'install daemon' (restarted by PID through a hook, as systemctl
// would), its context, ~/.docker and a DOCKER_CERT_PATH: docker works after
// every step, a failed step resumes, and at the end only the new CA is
// trusted anywhere.
func TestRotateLocalCA(t *testing.T) {
	installPlugin(t)
	ns := NewNamespace(t)
	port := FreePort(t, "127.0.0.1")
	host := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	cfgDir := DockerConfigDir(t)
	own := filepath.Join(cfgDir, "tls")
	mustDockerTLS(t, nil, "ca", "create")
	mustDockerTLS(t, nil, "issue", "server", "--san", "localhost,127.0.0.1")
	mustDockerTLS(t, nil, "issue", "client", "--name", "ci")
	mustDockerTLS(t, nil, "issue", "client")
	daemonJSON := ns.HostPath("/etc/docker/daemon.json")
	writeDaemonJSON(t, ns, map[string]any{"log-level": "info"})
	mustDockerTLS(t, nil, "install", "daemon", "--host", host, "--dir", ns.EtcDocker, "--daemon-json", daemonJSON, "--root", t.TempDir())
	d := StartRemoteDockerd(t, ns)
	restart := shellQuote(ns.Command("sh", filepath.Join(d.Dir, "restart-dockerd.sh")).Args)

	mustDockerTLS(t, nil, "install", "client", "--context", "local", "--host", host)
	mustDockerTLS(t, nil, "install", "client") // ~/.docker (the default DOCKER_CERT_PATH)
	certPath := filepath.Join(t.TempDir(), "certs")
	mustDockerTLS(t, nil, "install", "client", "--cert-path", certPath, "--cert", filepath.Join(own, "ci-cert.pem"), "--key", filepath.Join(own, "ci-key.pem"))
	env := []string{"DOCKER_CERT_PATH=" + certPath}
	works := func(what string) {
		t.Helper()
		requireContextWorks(t, "local")
		for _, e := range [][]string{{"DOCKER_HOST=" + host, "DOCKER_TLS_VERIFY=1"}, {"DOCKER_HOST=" + host, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + certPath}} {
			_, stderr, code := RunDocker(t, e, "version", "--format", "{{.Server.Version}}")
			requireExit(t, what+": docker version with "+strings.Join(e, " "), code, 0, stderr)
		}
	}
	works("before the rotation")
	oldCA := parseCertFile(t, filepath.Join(own, "ca.pem"))[0]
	// A copy of a client of the old CA, to show that it is refused at the end.
	oldClient := t.TempDir()
	for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(oldClient, f), mustReadFile(t, filepath.Join(cfgDir, f)), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	args := []string{"rotate", "--ca", "--daemon-json", daemonJSON, "--restart-cmd", restart, "--wait", "30s"}
	// The plan, changing nothing.
	sum := checksumTree(t, ns.EtcDocker)
	pid := d.PID()
	out, stderr, code := dockerTLS(t, env, append(args, "--dry-run")...)
	requireExit(t, "rotate --ca --dry-run", code, 0, stderr)
	for _, want := range []string{"CA rotation of " + filepath.Join(own, "ca.pem") + " on this machine",
		"daemon: " + daemonJSON + fmt.Sprintf(" (dockerd on 127.0.0.1:%d), restarted with: ", port),
		"trust:  " + filepath.Join(ns.EtcDocker, "ca.pem") + "  (daemon's CA for client certificates",
		"trust:  docker context \"local\" ca.pem", "trust:  " + filepath.Join(certPath, "ca.pem"), "trust:  " + filepath.Join(cfgDir, "ca.pem"),
		"cert:   " + filepath.Join(ns.EtcDocker, "server-cert.pem"), "cert:   docker context \"local\" cert.pem", "cert:   " + filepath.Join(certPath, "cert.pem"),
		"Dry run: nothing was changed. Plan of step 1/3:", "replace   " + filepath.Join(ns.EtcDocker, "ca.pem")} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	requireUnchanged(t, "rotate --ca --dry-run", ns.EtcDocker, sum)
	if d.PID() != pid {
		t.Error("--dry-run restarted dockerd")
	}

	// Step 2's restart fails (a hook that fails on its second call): the
	// daemon's files are restored and it is restarted with them, docker
	// keeps working, and the same command resumes at step 2.
	hook := filepath.Join(t.TempDir(), "flaky-restart.sh")
	count := hook + ".count"
	if err := os.WriteFile(hook, []byte(fmt.Sprintf("#!/bin/sh\nn=$(cat %[1]s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %[1]s\nif [ $n -eq 2 ]; then echo no restart today; exit 4; fi\nexec %[2]s\n", count, restart)), 0o755); err != nil {
		t.Fatal(err)
	}
	flaky := append([]string{}, args...)
	flaky[5] = "sh " + hook
	out, stderr, code = dockerTLS(t, env, flaky...)
	t.Logf("rotate --ca (restart fails in step 2):\n%s", out)
	for _, want := range []string{"step 2/3 failed: the restart command \"sh " + hook + "\" failed (exit status 4):\n  no restart today",
		"dockerd's previous files were restored and dockerd was restarted with them",
		"Fix the problem and run the same command again: it resumes at step 2 with the same new CA (" + filepath.Join(own, "ca-next.pem") + ")."} {
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("failing restart: exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
	if !strings.Contains(out, "restored  "+filepath.Join(ns.EtcDocker, "server-cert.pem")) || strings.Count(out, "docker --context local version: Server: ") != 1 {
		t.Errorf("step 1 then the rollback of step 2 not reported:\n%s", out)
	}
	works("after the failed step 2")

	out, stderr, code = dockerTLS(t, env, args...)
	t.Logf("rotate --ca:\n%s", out)
	requireExit(t, "rotate --ca (resumed)", code, 0, stderr)
	for _, want := range []string{"(resuming with " + filepath.Join(own, "ca-next.pem") + " at step 2/3)", "== Step 2/3", "== Step 3/3", "The CA rotation is complete"} {
		if !strings.Contains(out, want) {
			t.Errorf("rotate --ca lacks %q", want)
		}
	}
	if strings.Contains(out, "== Step 1/3") {
		t.Error("the resumed rotation ran step 1 again")
	}
	if n := strings.Count(out, "docker --context local version: Server: "); n != 2 {
		t.Errorf("docker --context local version worked after %d of the 2 remaining steps", n)
	}
	if n := strings.Count(out, "dockerd is back on 127.0.0.1"); n != 2 {
		t.Errorf("dockerd was restarted and checked %d times, want 2", n)
	}
	works("after the rotation")
	newCA := parseCertFile(t, filepath.Join(own, "ca.pem"))[0]
	if newCA.Equal(oldCA) {
		t.Fatal("the docker-tls CA was not replaced")
	}
	for _, p := range []string{filepath.Join(ns.EtcDocker, "ca.pem"), contextTLSFile(t, "local", "ca.pem"), filepath.Join(cfgDir, "ca.pem"), filepath.Join(certPath, "ca.pem")} {
		if cs := parseCertFile(t, p); len(cs) != 1 || !cs[0].Equal(newCA) {
			t.Errorf("%s: want only the new CA, found %d certificates", p, len(cs))
		}
	}
	for _, p := range []string{filepath.Join(ns.EtcDocker, "server-cert.pem"), contextTLSFile(t, "local", "cert.pem"), filepath.Join(cfgDir, "cert.pem"),
		filepath.Join(certPath, "cert.pem"), filepath.Join(own, "server-cert.pem"), filepath.Join(own, "ci-cert.pem")} {
		if c := parseCertFile(t, p)[0]; c.CheckSignatureFrom(newCA) != nil {
			t.Errorf("%s is not signed by the new CA", p)
		}
	}
	if c := parseCertFile(t, filepath.Join(certPath, "cert.pem"))[0]; c.Subject.CommonName != "ci" || c.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("the cert path's client certificate lost its subject: %s", c.Subject)
	}
	// The old CA is retired: its clients are refused.
	_, _, code = RunDocker(t, []string{"DOCKER_HOST=" + host, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + oldClient}, "version")
	if code == 0 {
		t.Error("a client of the retired CA still reaches dockerd")
	}
	for _, f := range []string{"ca-next.pem", "ca-next-key.pem", "ca-prev.pem", "ca-rotation-step"} {
		if _, err := os.Stat(filepath.Join(own, f)); err == nil {
			t.Errorf("%s left behind", f)
		}
	}
}

// TestRemoteLockNamesTheOtherRun: a run that finds the host's lock taken
// (by another machine's run, here a flock held inside the host) stops
// before changing anything and names that run; once it ends, provision
// proceeds.
func TestRemoteLockNamesTheOtherRun(t *testing.T) {
	h := newRemoteHost(t)
	mustDockerTLS(t, nil, "ca", "create")
	// Another run holds the lock (one process: sh execs sleep with the
	// locked fd, so that stopping it by PID releases it).
	holder := h.ns.Command("sh", "-c", `exec 9>>/run/docker-tls.lock && flock 9 && printf '%s\n' '"docker tls rotate --ca" (pid 4242 on laptop, started 2026-01-01T00:00:00Z)' > /run/docker-tls.lock && exec sleep 120`)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	stopHolder := func() {
		if holder.Process != nil {
			_ = holder.Process.Signal(syscall.SIGTERM)
			_ = holder.Wait()
			holder.Process = nil
		}
	}
	t.Cleanup(stopHolder)
	waitFlockHeld(t, h.ns)
	sum := checksumTree(t, h.ns.EtcDocker)
	port := FreePort(t, "127.0.0.1")
	out, stderr, code := dockerTLS(t, nil, h.provisionArgs("locked", port)...)
	want := `ssh://e2e-remote: another docker-tls run is changing this host: "docker tls rotate --ca" (pid 4242 on laptop, started 2026-01-01T00:00:00Z) (lock /run/docker-tls.lock on the host, released when that run's ssh session ends). Wait for it to finish and run this again`
	if code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("provision under a held lock: exit %d, want %q\nstdout: %s\nstderr: %s", code, want, out, stderr)
	}
	requireUnchanged(t, "provision under a held lock", h.ns.EtcDocker, sum)
	stopHolder()
	mustDockerTLS(t, nil, h.provisionArgs("locked", port)...)
	requireContextWorks(t, "locked")
	if out, err := h.ns.Command("cat", "/run/docker-tls.lock").CombinedOutput(); err != nil || len(out) != 0 {
		t.Errorf("the lock still names a holder after the run: %q %v", out, err)
	}

	// A host without flock(1): the lock is a directory made with mkdir.
	flock, err := exec.LookPath("flock")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := h.ns.Command("mount", "-n", "--bind", "/dev/null", flock).CombinedOutput(); err != nil {
		t.Fatalf("hiding flock in the namespace: %v\n%s", err, out)
	}
	if err := h.ns.Command("sh", "-c", `mkdir /run/docker-tls.lock.d && echo '"docker tls provision ssh://x" (pid 7 on ci)' > /run/docker-tls.lock.d/holder`).Run(); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = dockerTLS(t, nil, h.provisionArgs("locked", port)...)
	want = `another docker-tls run is changing this host: "docker tls provision ssh://x" (pid 7 on ci) (lock /run/docker-tls.lock.d on the host`
	if code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("provision under a held mkdir lock: exit %d, want %q\nstderr: %s", code, want, stderr)
	}
	if err := h.ns.Command("rm", "-r", "/run/docker-tls.lock.d").Run(); err != nil {
		t.Fatal(err)
	}
	mustDockerTLS(t, nil, h.provisionArgs("locked", port)...)
	if err := h.ns.Command("test", "-e", "/run/docker-tls.lock.d").Run(); err == nil {
		t.Error("the mkdir lock was left on the host")
	}
}

// waitFlockHeld waits until the flock on /run/docker-tls.lock of ns is held.
func waitFlockHeld(t *testing.T, ns *Namespace) {
	t.Helper()
	for i := 0; i < 100; i++ {
		var ee *exec.ExitError
		if err := ns.Command("flock", "-n", "/run/docker-tls.lock", "true").Run(); errors.As(err, &ee) && ee.ExitCode() == 1 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the test's flock on /run/docker-tls.lock was not taken")
}
