package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/cli/cli/context/store"
	"github.com/spf13/cobra"
)

// Like `docker --version`: one line with the version, exit 0, standalone
// and as the tls command (the plugin path `docker tls --version` runs
// `docker-tls tls --version`).
func TestVersionFlag(t *testing.T) {
	cfg := newConfig(t)
	for _, args := range [][]string{{"--version"}, {"-v"}, {"tls", "--version"}} {
		r := run(t, cfg, args...)
		if r.code != 0 || r.stdout != versionLine()+"\n" || r.stderr != "" {
			t.Errorf("docker-tls %s: exit %d\nstdout: %q\nstderr: %q", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
}

// README: a bad file is exit 2. inspect shows the files it can read and
// names each bad one on stderr, like `docker inspect` does.
func TestInspectBadFiles(t *testing.T) {
	cfg := newConfig(t)
	dir := t.TempDir()
	mustRun(t, cfg, "init", "--san", "localhost", "-o", dir)
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const want = ", expected certificates or private keys (PEM, DER, PKCS#7 or PKCS#12)"
	for _, tc := range []struct{ file, msg string }{
		{write("garbage.pem", "garbage\n"), "found no PEM data" + want},
		{write("b64.pem", "-----BEGIN CERTIFICATE-----\nMII!!!not base64\n-----END CERTIFICATE-----\n"), "found a PEM header whose block does not decode (broken base64, or a missing or mismatched -----END line)" + want},
		{write("empty.pem", ""), "found an empty file" + want},
	} {
		r := run(t, cfg, "inspect", filepath.Join(dir, "ca.pem"), tc.file)
		if r.code != 2 || r.stderr != tc.file+": "+tc.msg+"\n" || !strings.Contains(r.stdout, "Subject:") || strings.Contains(r.stdout, tc.file) {
			t.Errorf("inspect %s: exit %d\nstdout: %s\nstderr: %q", tc.file, r.code, r.stdout, r.stderr)
		}
		r = run(t, cfg, "inspect", "--format", "json", tc.file)
		if r.code != 2 || !strings.Contains(r.stdout, `"error": "`+tc.file) {
			t.Errorf("inspect --format json %s: exit %d\n%s%s", tc.file, r.code, r.stdout, r.stderr)
		}
	}
}

// A mistyped IPv4 address is refused, not issued as a DNS SAN.
func TestInitRefusesNumericNames(t *testing.T) {
	cfg := newConfig(t)
	for _, san := range []string{"300.1.1.1", "10.0.0.256"} {
		r := run(t, cfg, "init", "--san", san)
		want := `--san: invalid SAN "` + san + `": not an IP address (an IPv4 address is four numbers 0-255 separated by dots) and not a DNS name (its last label is a number)` + "\n"
		if r.code != 2 || r.stderr != want {
			t.Errorf("init --san %s: exit %d\n%s%q", san, r.code, r.stdout, r.stderr)
		}
	}
}

// explain takes the error text unquoted (the words are joined, as pasted),
// and its JSON keeps < and > as they are in the texts.
func TestExplainUnquotedAndJSON(t *testing.T) {
	cfg := newConfig(t)
	r := run(t, cfg, "explain", "remote", "error:", "tls:", "bad", "certificate")
	if r.code != 0 || !strings.Contains(r.stdout, `matched: "remote error: tls: bad certificate"`) {
		t.Errorf("unquoted explain: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, cfg, "explain", "--format", "json", "x509: certificate signed by unknown authority")
	if r.code != 0 || strings.Contains(r.stdout, `\u003c`) || !strings.Contains(r.stdout, "<") {
		t.Errorf("explain json escapes < >: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// install daemon's drop-in keeps the unit's other ExecStart arguments and
// removes only the conflicting flag; --dry-run warns like the real run.
func TestInstallDaemonDropInKeepsArguments(t *testing.T) {
	cfg := newConfig(t)
	pk := t.TempDir()
	mustRun(t, cfg, "init", "--san", "docker.example.com", "--out", pk)
	root := t.TempDir()
	unitDir := filepath.Join(root, "usr/local/lib/systemd/system")
	os.MkdirAll(unitDir, 0o755)
	os.WriteFile(filepath.Join(unitDir, "docker.service"), []byte("[Service]\nType=notify\nExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS\n"), 0o644)
	etc := filepath.Join(root, "etc/docker")
	args := []string{"install", "daemon", "--dir", etc, "--root", root, "--cert", filepath.Join(pk, "server-cert.pem"), "--key", filepath.Join(pk, "server-key.pem"), "--client-ca", filepath.Join(pk, "ca.pem")}
	const wantDropIn = "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --containerd=/run/containerd/containerd.sock $DOCKER_OPTS\n"
	for _, dry := range []bool{true, false} {
		a := args
		if dry {
			a = append(a, "--dry-run")
		}
		out := mustRun(t, cfg, a...)
		for _, s := range []string{
			"Warning: docker.service starts dockerd with -H fd:// on the command line (/usr/local/lib/systemd/system/docker.service), and daemon.json now sets hosts too:",
			`printf '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --containerd=/run/containerd/containerd.sock $DOCKER_OPTS\n' | sudo tee /etc/systemd/system/docker.service.d/docker-tls.conf`,
		} {
			if !strings.Contains(out, s) {
				t.Errorf("install daemon (dry run %v) output lacks %q:\n%s", dry, s, out)
			}
		}
	}
	out := mustRun(t, cfg, append(args, "--write-dropin", "--dry-run")...)
	if !strings.Contains(out, "create    "+filepath.Join(root, "etc/systemd/system/docker.service.d/docker-tls.conf")+"  (systemd drop-in") {
		t.Errorf("dry run does not list the drop-in:\n%s", out)
	}
	mustRun(t, cfg, append(args, "--write-dropin")...)
	if data, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/docker.service.d/docker-tls.conf")); err != nil || string(data) != wantDropIn {
		t.Errorf("drop-in: %q %v, want %q", data, err, wantDropIn)
	}
	if out := mustRun(t, cfg, args...); strings.Contains(out, "Warning:") {
		t.Errorf("after the drop-in, still a warning:\n%s", out)
	}
}

// Merging into an existing daemon.json needs no --force: the other keys
// and their order stay, the old file is kept; and the line `issue server
// --force` prints replaces the installed certificate.
func TestInstallDaemonMergesWithoutForce(t *testing.T) {
	cfg := newConfig(t)
	pk := t.TempDir()
	mustRun(t, cfg, "init", "--san", "docker.example.com", "--out", pk)
	root := t.TempDir()
	etc := filepath.Join(root, "etc/docker")
	os.MkdirAll(etc, 0o755)
	old := `{"log-driver": "journald", "tls": false, "storage-driver": "overlay2"}`
	os.WriteFile(filepath.Join(etc, "daemon.json"), []byte(old), 0o644)
	where := []string{"--dir", etc, "--root", root}
	out := mustRun(t, cfg, append([]string{"install", "daemon", "--cert", filepath.Join(pk, "server-cert.pem"), "--key", filepath.Join(pk, "server-key.pem"), "--client-ca", filepath.Join(pk, "ca.pem")}, where...)...)
	if !strings.Contains(out, "Note: merged into "+filepath.Join(etc, "daemon.json")+": changed tls, added hosts, added tlsverify, added tlscert, added tlskey, added tlscacert; every other key kept as it was") {
		t.Errorf("install daemon output:\n%s", out)
	}
	data, _ := os.ReadFile(filepath.Join(etc, "daemon.json"))
	var keys []string
	for _, l := range strings.Split(string(data), "\n") {
		if k, _, ok := strings.Cut(strings.TrimSpace(l), `":`); ok && strings.HasPrefix(k, `"`) {
			keys = append(keys, strings.Trim(k, `"`))
		}
	}
	if got := strings.Join(keys, ","); got != "log-driver,tls,storage-driver,hosts,tlsverify,tlscert,tlskey,tlscacert" {
		t.Errorf("daemon.json keys %s:\n%s", got, data)
	}
	backups, _ := filepath.Glob(filepath.Join(etc, "daemon.json.bak-*"))
	if len(backups) != 1 {
		t.Fatalf("backups: %v", backups)
	}
	if b, _ := os.ReadFile(backups[0]); string(b) != old {
		t.Errorf("backup holds %q", b)
	}

	out = mustRun(t, cfg, "issue", "server", "--san", "docker.example.com,10.0.0.5", "--out", pk, "--force")
	_, line, ok := strings.Cut(out, "Next, on the daemon host: sudo docker tls ")
	if !ok {
		t.Fatalf("issue server --force output:\n%s", out)
	}
	next := append(strings.Fields(line), where...)
	out = mustRun(t, cfg, next...)
	if !strings.Contains(out, "replaced  "+filepath.Join(etc, "server-cert.pem")) {
		t.Errorf("the printed install daemon line did not replace the certificate:\n%s", out)
	}
}

// install daemon refuses a listen address dockerd cannot use.
func TestInstallDaemonRefusesBadPort(t *testing.T) {
	cfg := newConfig(t)
	pk := t.TempDir()
	mustRun(t, cfg, "init", "--san", "docker.example.com", "--out", pk)
	root := t.TempDir()
	r := run(t, cfg, "install", "daemon", "--dir", filepath.Join(root, "etc/docker"), "--root", root, "-H", "tcp://0.0.0.0:99999",
		"--cert", filepath.Join(pk, "server-cert.pem"), "--key", filepath.Join(pk, "server-key.pem"), "--client-ca", filepath.Join(pk, "ca.pem"))
	want := `--host "tcp://0.0.0.0:99999": dockerd would fail to start (listen tcp: address 99999: invalid port): expected a URL such as tcp://0.0.0.0:2376 (port 1-65535) or unix:///var/run/docker.sock` + "\n"
	if r.code != 2 || r.stderr != want {
		t.Errorf("exit %d\n%s%q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/docker")); !os.IsNotExist(err) {
		t.Errorf("wrote %v", err)
	}
}

// init proposes a context name and host that docker accepts, also for a
// wildcard or IPv6 SAN; install client refuses a name docker context
// create refuses, with its wording.
func TestContextNamesFollowDocker(t *testing.T) {
	for _, san := range []string{"*.example.com", "::1", "docker.example.com"} {
		cfg := newConfig(t)
		out := mustRun(t, cfg, "init", "--san", san)
		_, line, ok := strings.Cut(out, "  docker tls install client ")
		if !ok {
			t.Fatalf("init --san %s:\n%s", san, out)
		}
		line = strings.SplitN(line, "\n", 2)[0]
		args := append([]string{"install", "client"}, strings.Fields(line)...)
		if err := store.ValidateContextName(args[3]); err != nil || strings.Contains(line, "*") {
			t.Errorf("init --san %s proposes %q: %v", san, line, err)
		}
		mustRun(t, cfg, args...)
	}
	cfg := newConfig(t)
	dir := filepath.Join(cfg, "tls")
	mustRun(t, cfg, "init", "--san", "docker.example.com")
	r := run(t, cfg, "install", "client", "--context", "tls-*.example.com", "--host", "tcp://docker.example.com:2376",
		"--ca", filepath.Join(dir, "ca.pem"), "--cert", filepath.Join(dir, "cert.pem"), "--key", filepath.Join(dir, "key.pem"))
	if want := `--context: context name "tls-*.example.com" is invalid, names are validated against regexp "^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$"` + "\n"; r.code != 2 || r.stderr != want {
		t.Errorf("exit %d\n%q", r.code, r.stderr)
	}
}

// Re-running the same init keeps what is there and exits 0; a different
// init is refused before it says "Issuing", naming what differs; issue
// client --name writes its own pair instead of colliding with cert.pem.
func TestInitRerunAndClientNames(t *testing.T) {
	cfg := newConfig(t)
	dir := filepath.Join(cfg, "tls")
	mustRun(t, cfg, "init", "--san", "docker.example.com,10.0.0.5")
	before, _ := os.ReadFile(filepath.Join(dir, "server-cert.pem"))
	out := mustRun(t, cfg, "init", "--san", "10.0.0.5,docker.example.com")
	if !strings.Contains(out, "Using the existing daemon certificate in "+dir) || !strings.Contains(out, "Using the existing client certificate in "+dir) ||
		strings.Contains(out, "Issuing") || !strings.Contains(out, "docker tls install client --context tls-docker.example.com") {
		t.Errorf("second init:\n%s", out)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "server-cert.pem")); string(after) != string(before) {
		t.Error("second init replaced the daemon certificate")
	}
	r := run(t, cfg, "init", "--san", "docker.example.com,10.0.0.5", "--key", "rsa-2048")
	if r.code != 2 || !strings.Contains(r.stderr, "("+filepath.Join(dir, "server-cert.pem")+": its key is ECDSA P-256; "+filepath.Join(dir, "cert.pem")+": its key is ECDSA P-256)") {
		t.Errorf("init with another --key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, cfg, "init", "--san", "other.example.com")
	if r.code != 2 || strings.Contains(r.stdout, "Issuing") ||
		!strings.Contains(r.stderr, "(daemon certificate): exists with different content") ||
		!strings.Contains(r.stderr, "("+filepath.Join(dir, "server-cert.pem")+": other SANs (docker.example.com, 10.0.0.5))") {
		t.Errorf("init with other SANs: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	out = mustRun(t, cfg, "init", "--san", "other.example.com", "--force")
	if !strings.Contains(out, "sudo docker tls install daemon --cert "+filepath.Join(dir, "server-cert.pem")+" --key "+filepath.Join(dir, "server-key.pem")+" --client-ca "+filepath.Join(dir, "ca.pem")+" --force\n") {
		t.Errorf("forced init does not print install daemon --force:\n%s", out)
	}

	cert, _ := os.ReadFile(filepath.Join(dir, "cert.pem"))
	out = mustRun(t, cfg, "issue", "client", "--name", "bob")
	if !strings.Contains(out, "created   "+filepath.Join(dir, "bob-cert.pem")) || !strings.Contains(out, "--cert "+filepath.Join(dir, "bob-cert.pem")+" --key "+filepath.Join(dir, "bob-key.pem")) {
		t.Errorf("issue client --name bob:\n%s", out)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "cert.pem")); string(now) != string(cert) {
		t.Error("issue client --name bob changed cert.pem")
	}
}

// complete runs cobra's __complete as docker does for a plugin and returns
// the candidates and the directive number.
func complete(t *testing.T, cfg string, args ...string) ([]string, string) {
	t.Helper()
	r := run(t, cfg, append([]string{"__complete", "tls"}, args...)...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		t.Fatalf("__complete %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return lines[:len(lines)-1], lines[len(lines)-1]
}

// Flag values complete from the lists the commands accept (and every value
// offered is accepted), file arguments and file flags complete files,
// directory flags directories, --context the docker contexts.
func TestCompletion(t *testing.T) {
	cfg := newConfig(t)
	pk := t.TempDir()
	mustRun(t, cfg, "init", "--san", "myreg", "--out", pk)
	mustRun(t, cfg, "install", "client", "--context", "prod", "--host", "tcp://myreg:2376", "--ca", filepath.Join(pk, "ca.pem"), "--cert", filepath.Join(pk, "cert.pem"), "--key", filepath.Join(pk, "key.pem"))
	const files, noFiles, dirs = ":0", ":4", ":16"
	for _, c := range []struct {
		args []string
		want string
		dir  string
		// try runs the command with each value, which must be accepted.
		try func(v string) []string
	}{
		{[]string{"inspect", ""}, "", files, nil},
		{[]string{"install", "client", "--ca", ""}, "", files, nil},
		{[]string{"install", "client", "--key", ""}, "", files, nil},
		{[]string{"init", "--out", ""}, "", dirs, nil},
		{[]string{"init", "--key", ""}, "ecdsa-p256 ecdsa-p384 rsa-2048 rsa-3072 rsa-4096 ed25519", noFiles,
			func(v string) []string {
				return []string{"init", "--san", "x", "--out", filepath.Join(t.TempDir(), "o"), "--key", v}
			}},
		{[]string{"doctor", "--format", ""}, "text json sarif junit", noFiles,
			func(v string) []string { return []string{"doctor", "--root", t.TempDir(), "--format", v} }},
		{[]string{"doctor", "--fail-on", ""}, "error warning info", noFiles,
			func(v string) []string { return []string{"doctor", "--root", t.TempDir(), "--fail-on", v} }},
		{[]string{"inspect", "--format", ""}, "text json", noFiles,
			func(v string) []string { return []string{"inspect", "--format", v, filepath.Join(pk, "ca.pem")} }},
		{[]string{"install-registry", "--target", ""}, "docker containers containerd", noFiles,
			func(v string) []string {
				return []string{"install-registry", "myreg:5000", "--dry-run", "--ca", filepath.Join(pk, "ca.pem"), "--certs-dir", t.TempDir(), "--target", v}
			}},
		{[]string{"install", "client", "--context", ""}, "prod", noFiles, nil},
		{[]string{"explain", ""}, "", noFiles, nil},
	} {
		got, dir := complete(t, cfg, c.args...)
		if strings.Join(got, " ") != c.want || dir != c.dir {
			t.Errorf("__complete tls %s = %q %s, want %q %s", strings.Join(c.args, " "), got, dir, c.want, c.dir)
		}
		if c.try != nil {
			for _, v := range got {
				if r := run(t, cfg, c.try(v)...); r.code != 0 {
					t.Errorf("completed value %q is refused: exit %d\n%s", v, r.code, r.stderr)
				}
			}
		}
	}
}

// Every command that does something has examples, and each example's
// command and flags exist; long help is wrapped at 80 columns.
func TestHelpExamplesAndWrapping(t *testing.T) {
	root := rootCmd(nil)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, l := range strings.Split(c.Long, "\n") {
			if len(l) > helpWidth {
				t.Errorf("%s: help line longer than %d: %q", c.CommandPath(), helpWidth, l)
			}
		}
		if c.Runnable() && !c.Hidden && !c.HasSubCommands() && c.Name() != "version" && c.Example == "" {
			t.Errorf("%s has no examples", c.CommandPath())
		}
		for _, l := range strings.Split(c.Example, "\n") {
			l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "sudo "))
			if i := strings.Index(l, "docker tls "); i >= 0 {
				l = l[i:]
			} else {
				continue
			}
			if i := strings.Index(l, "#"); i >= 0 {
				l = l[:i]
			}
			args := strings.Fields(l)[2:]
			for i, a := range args {
				args[i] = strings.Trim(a, `"`)
			}
			sub, rest, err := root.Find(args)
			if err != nil || sub == root {
				t.Errorf("%s example %q: no such command", c.CommandPath(), l)
				continue
			}
			if err := sub.ParseFlags(rest); err != nil {
				t.Errorf("%s example %q: %v", c.CommandPath(), l, err)
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// A destination that is a file is refused up front, naming the flag.
func TestOutIsAFile(t *testing.T) {
	cfg := newConfig(t)
	file := filepath.Join(t.TempDir(), "afile")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"init", "--san", "x", "-o", file}, "--out " + file + ": is a regular file, expected a directory\n"},
		{[]string{"ca", "create", "-o", filepath.Join(file, "sub")}, "--out " + filepath.Join(file, "sub") + ": " + file + " is a regular file, expected a directory\n"},
		{[]string{"install", "client", "--skip-verify", "--no-client-cert", "--cert-path", file}, "--cert-path " + file + ": is a regular file, expected a directory\n"},
	} {
		r := run(t, cfg, c.args...)
		if r.code != 2 || r.stderr != c.want || r.stdout != "" {
			t.Errorf("docker-tls %s: exit %d\n%s%q", strings.Join(c.args, " "), r.code, r.stdout, r.stderr)
		}
	}
}
