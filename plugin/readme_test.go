package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readmeSection returns the text of README.md below a "## " heading, up to
// the next one.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", heading)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// The README's exit-code table is what the binary does: every code it
// lists is produced by the command the row describes, and what users
// commonly get wrong exits with a code from the table.
func TestReadmeExitCodes(t *testing.T) {
	rows := regexp.MustCompile(`(?m)^\| (\d+) \| (.+) \|$`).FindAllStringSubmatch(readmeSection(t, "Exit codes"), -1)
	table := map[int]string{}
	for _, r := range rows {
		n, _ := strconv.Atoi(r[1])
		table[n] = r[2]
	}
	if len(table) != 4 {
		t.Fatalf("README exit-code table: %v", table)
	}
	cfg := newConfig(t)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	os.WriteFile(garbage, []byte("garbage\n"), 0o644)
	cases := []struct {
		args []string
		code int
		// row must contain this, so the README names the case.
		row string
	}{
		{[]string{"version"}, 0, "success"},
		{[]string{"--version"}, 0, "`--version`"},
		{[]string{"--help"}, 0, "`--help`"},
		{[]string{"doctor", "--root", t.TempDir(), "--fail-on", "info", "--format", "json"}, 0, "success"},
		{[]string{"explain", "no", "such", "error"}, 1, "not recognised (explain)"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"init", "--bogus"}, 2, "flag"},
		{[]string{"inspect", garbage}, 2, "bad file"},
		{[]string{"init", "--san", "x", "--out", "/proc/docker-tls-readme/x"}, 3, "cannot create"},
	}
	for _, c := range cases {
		r := run(t, cfg, c.args...)
		if r.code != c.code {
			t.Errorf("docker-tls %s: exit %d, want %d (README: %s)\n%s%s", strings.Join(c.args, " "), r.code, c.code, table[c.code], r.stdout, r.stderr)
		}
		if !strings.Contains(table[c.code], c.row) {
			t.Errorf("README row %d %q does not mention %q (docker-tls %s)", c.code, table[c.code], c.row, strings.Join(c.args, " "))
		}
	}
}

// The README's claim about install-registry HOST:443 is what the binary
// does: it installs (exit 0) into the :443 directory and warns.
func TestReadmePort443Claim(t *testing.T) {
	sec := readmeSection(t, "Registries: `docker tls install-registry`")
	claim := regexp.MustCompile("`myreg:443` installs for references that spell out `:443` only, and warns").FindString(sec)
	if claim == "" || strings.Contains(sec, ":443` is refused") {
		t.Fatalf("README's :443 claim changed; update this test with the behaviour:\n%s", sec)
	}
	cfg := newConfig(t)
	pk := t.TempDir()
	mustRun(t, cfg, "init", "--san", "myreg", "--out", pk)
	certs := t.TempDir()
	r := run(t, cfg, "install-registry", "myreg:443", "--ca", filepath.Join(pk, "ca.pem"), "--certs-dir", certs)
	if r.code != 0 || !strings.Contains(r.stderr, "Warning: myreg:443 names the directory myreg:443, which is only used for images named myreg:443/…") {
		t.Errorf("install-registry myreg:443: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(certs, "myreg:443", "ca.crt")); err != nil {
		t.Errorf("not installed: %v", err)
	}
}
