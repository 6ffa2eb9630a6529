package main

import (
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
