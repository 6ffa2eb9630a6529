package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallDaemonOnDesktop: with the CLI pointed at Docker Desktop's
// socket, install daemon writes nothing and explains that Desktop's daemon
// lives in its VM and what to do instead; --dir prepares files anyway.
func TestInstallDaemonOnDesktop(t *testing.T) {
	cfg := newConfig(t)
	pk := t.TempDir()
	mustRun(t, cfg, "init", "--san", "docker.example.com", "--out", pk)
	args := []string{"install", "daemon", "--cert", filepath.Join(pk, "server-cert.pem"), "--key", filepath.Join(pk, "server-key.pem"), "--client-ca", filepath.Join(pk, "ca.pem")}
	cmd := exec.Command(binary, args...)
	home := filepath.Dir(cfg)
	cmd.Env = []string{"HOME=" + home, "DOCKER_CONFIG=" + cfg, "PATH=" + os.Getenv("PATH"), "DOCKER_HOST=unix://" + home + "/.docker/desktop/docker.sock"}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2\n%s%s", err, o.String(), e.String())
	}
	for _, s := range []string{
		"install daemon configures a Linux dockerd (/etc/docker, daemon.json) on this machine, but the docker CLI here talks to Docker Desktop (context \"default\", unix://" + home + "/.docker/desktop/docker.sock), whose daemon runs inside Desktop's VM",
		"Settings > Docker Engine",
		"run 'sudo docker tls install daemon' there",
		"--dir DIR --daemon-json DIR/daemon.json",
	} {
		if !strings.Contains(e.String(), s) {
			t.Errorf("stderr lacks %q:\n%s", s, e.String())
		}
	}
	dir := t.TempDir()
	cmd = exec.Command(binary, append(args, "--dir", dir, "--daemon-json", filepath.Join(dir, "daemon.json"), "--root", t.TempDir())...)
	cmd.Env = []string{"HOME=" + home, "DOCKER_CONFIG=" + cfg, "PATH=" + os.Getenv("PATH"), "DOCKER_HOST=unix://" + home + "/.docker/desktop/docker.sock"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("with --dir: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "server-key.pem")); err != nil {
		t.Errorf("--dir wrote no key: %v", err)
	}
}

// TestDesktopDaemonPerOS: macOS is always Desktop; Windows without Desktop
// has Docker Engine for Windows, whose configuration this command does not
// write; Linux with its own dockerd goes ahead.
func TestDesktopDaemonPerOS(t *testing.T) {
	for _, tc := range []struct {
		goos, ctx, host string
		elsewhere       bool
		want            string
	}{
		{"darwin", "desktop-linux", "unix:///Users/ann/.docker/run/docker.sock", false, "talks to Docker Desktop (context \"desktop-linux\", unix:///Users/ann/.docker/run/docker.sock)"},
		{"windows", "desktop-linux", "npipe:////./pipe/dockerDesktopLinuxEngine", false, "talks to Docker Desktop"},
		{"windows", "default", "npipe:////./pipe/docker_engine", false, `this is Windows: Docker Engine for Windows reads its configuration from %ProgramData%\docker\config\daemon.json`},
		{"darwin", "default", "unix:///var/run/docker.sock", true, ""},
		{"linux", "default", "unix:///var/run/docker.sock", false, ""},
	} {
		err := desktopDaemon(tc.goos, tc.ctx, tc.host, tc.elsewhere)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %s: %v, want none", tc.goos, tc.host, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %s: %v, want %q", tc.goos, tc.host, err, tc.want)
		}
	}
}
