package main

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/pki"
)

func parseFirst(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A directory of files, no daemon, no context: the three steps run, the
// certificates move to the new CA, the old CA is kept as a backup.
func TestRotateLocalCADir(t *testing.T) {
	cfg := newConfig(t)
	dir := t.TempDir()
	mustRun(t, cfg, "ca", "create", "--out", dir)
	mustRun(t, cfg, "issue", "server", "--san", "docker.example.com", "--ca-cert", filepath.Join(dir, "ca.pem"), "--ca-key", filepath.Join(dir, "ca-key.pem"), "-o", dir)
	mustRun(t, cfg, "issue", "client", "--name", "alice", "--ca-cert", filepath.Join(dir, "ca.pem"), "--ca-key", filepath.Join(dir, "ca-key.pem"), "-o", dir)
	oldCA := parseFirst(t, filepath.Join(dir, "ca.pem"))
	noDaemon := filepath.Join(t.TempDir(), "daemon.json")

	before := dirSums(t, dir)
	out := mustRun(t, cfg, "rotate", "--ca", "--dir", dir, "--daemon-json", noDaemon, "--dry-run")
	for _, want := range []string{"CA rotation of " + filepath.Join(dir, "ca.pem"), "1/3 trust both", "Dry run: nothing was changed. Plan of step 1/3:",
		"cert:   " + filepath.Join(dir, "alice-cert.pem"), "no local dockerd configured (" + noDaemon + " does not exist"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if after := dirSums(t, dir); !equalSums(before, after) {
		t.Errorf("--dry-run changed %s", dir)
	}

	out = mustRun(t, cfg, "rotate", "--ca", "--dir", dir, "--daemon-json", noDaemon)
	for _, want := range []string{"== Step 1/3", "== Step 2/3", "== Step 3/3", "The CA rotation is complete"} {
		if !strings.Contains(out, want) {
			t.Errorf("rotation output lacks %q:\n%s", want, out)
		}
	}
	newCA := parseFirst(t, filepath.Join(dir, "ca.pem"))
	cas, err := pki.ParseCertificates("ca", newCA)
	if err != nil || len(cas) != 1 || string(newCA) == string(oldCA) {
		t.Fatalf("ca.pem is not a single new CA: %v %d", err, len(cas))
	}
	if _, err := pki.LoadCA("ca", newCA, "key", parseFirst(t, filepath.Join(dir, "ca-key.pem"))); err != nil {
		t.Errorf("the new CA's key does not match: %v", err)
	}
	for _, f := range []string{"server-cert.pem", "alice-cert.pem"} {
		cs, _ := pki.ParseCertificates(f, parseFirst(t, filepath.Join(dir, f)))
		if cs[0].CheckSignatureFrom(cas[0]) != nil {
			t.Errorf("%s is not signed by the new CA", f)
		}
	}
	for _, f := range []string{"ca-next.pem", "ca-next-key.pem", "ca-prev.pem", "ca-rotation-step"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s left behind", f)
		}
	}
	if bak, _ := filepath.Glob(filepath.Join(dir, "ca-key.pem.bak-*")); len(bak) != 1 {
		t.Errorf("old CA key not kept: %v", bak)
	}
}

func dirSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		m[e.Name()] = string(data)
	}
	return m
}

func equalSums(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A CA the user brought (no key): the message says what to do.
func TestRotateLocalCAWithoutKey(t *testing.T) {
	cfg := newConfig(t)
	dir := t.TempDir()
	mustRun(t, cfg, "ca", "create", "--out", dir)
	mustRun(t, cfg, "issue", "client", "--ca-cert", filepath.Join(dir, "ca.pem"), "--ca-key", filepath.Join(dir, "ca-key.pem"), "-o", dir)
	if err := os.Remove(filepath.Join(dir, "ca-key.pem")); err != nil {
		t.Fatal(err)
	}
	r := run(t, cfg, "rotate", "--ca", "--dir", dir)
	want := "docker-tls has no private key for the CA"
	if r.code != 2 || !strings.Contains(r.stderr, want) ||
		!strings.Contains(r.stderr, "put the new CA's certificate and key at "+filepath.Join(dir, "ca-next.pem")+" and "+filepath.Join(dir, "ca-next-key.pem")) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	// Following the advice works: the user's new CA is used.
	next := t.TempDir()
	mustRun(t, cfg, "ca", "create", "--out", next)
	for _, f := range [][2]string{{"ca.pem", "ca-next.pem"}, {"ca-key.pem", "ca-next-key.pem"}} {
		if err := os.WriteFile(filepath.Join(dir, f[1]), parseFirst(t, filepath.Join(next, f[0])), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, cfg, "rotate", "--ca", "--dir", dir, "--daemon-json", filepath.Join(dir, "none.json"))
	userCA, _ := pki.ParseCertificates("next", parseFirst(t, filepath.Join(next, "ca.pem")))
	for _, f := range []string{"ca.pem", "cert.pem"} {
		cs, _ := pki.ParseCertificates(f, parseFirst(t, filepath.Join(dir, f)))
		if len(cs) != 1 || (!cs[0].Equal(userCA[0]) && cs[0].CheckSignatureFrom(userCA[0]) != nil) {
			t.Errorf("%s is not the user's new CA or signed by it", f)
		}
	}
}

// A second run on the same host fails, naming the first.
func TestLocalLockNamesTheOtherRun(t *testing.T) {
	cfg := newConfig(t)
	t.Setenv("DOCKER_CONFIG", cfg)
	dir := t.TempDir()
	mustRun(t, cfg, "ca", "create", "--out", dir)
	release, err := lockHost("local", "docker tls rotate --ca --dir /elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, cfg, "rotate", "--ca", "--dir", dir)
	want := `another docker-tls run is changing local: "docker tls rotate --ca --dir /elsewhere" (pid ` + itoa(os.Getpid())
	if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "Wait for it to finish and run this again (the lock "+filepath.Join(cfg, "tls", "locks", "local.lock")+" is released when that run exits)") {
		t.Fatalf("exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
	release()
	r = run(t, cfg, "rotate", "--ca", "--dir", dir, "--daemon-json", filepath.Join(dir, "none.json"))
	if strings.Contains(r.stderr, "another docker-tls run") {
		t.Fatalf("the lock was not released: %q", r.stderr)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestRefuseSudoConfig(t *testing.T) {
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, ".docker"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", "")
	env := map[string]string{"SUDO_USER": "alice"}
	lookup := func(string) (*user.User, error) { return &user.User{Username: "alice", HomeDir: home}, nil }
	err := refuseSudoConfig(func(k string) string { return env[k] }, 0, lookup)
	want := "not alice's " + filepath.Join(home, ".docker") + ": their docker contexts and ~/.docker would keep trusting only the old CA and stop working at step 3.\nName the configuration to rotate: sudo env DOCKER_CONFIG=" + filepath.Join(home, ".docker") + " docker tls rotate --ca …"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
	env["DOCKER_CONFIG"] = filepath.Join(home, ".docker")
	if err := refuseSudoConfig(func(k string) string { return env[k] }, 0, lookup); err != nil {
		t.Errorf("with DOCKER_CONFIG named: %v", err)
	}
	delete(env, "DOCKER_CONFIG")
	if err := refuseSudoConfig(func(k string) string { return env[k] }, 1000, lookup); err != nil {
		t.Errorf("not root: %v", err)
	}
}

func TestSameDaemon(t *testing.T) {
	for _, c := range []struct {
		host, addr string
		want       bool
	}{
		{"tcp://127.0.0.1:2376", "127.0.0.1:2376", true},
		{"tcp://localhost:2376", "127.0.0.1:2376", true},
		{"tcp://[::1]:2376", "127.0.0.1:2376", true},
		{"tcp://127.0.0.1:2377", "127.0.0.1:2376", false},
		{"tcp://docker.example.com:2376", "127.0.0.1:2376", false},
		{"unix:///var/run/docker.sock", "127.0.0.1:2376", false},
	} {
		if got := sameDaemon(c.host, c.addr); got != c.want {
			t.Errorf("sameDaemon(%q, %q) = %v, want %v", c.host, c.addr, got, c.want)
		}
	}
}
