package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
