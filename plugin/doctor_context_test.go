package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// doctor --context NAME is docker --context NAME: the context-missing
// finding quotes docker's own line; -H with it is docker's conflict.
func TestDoctorContextFlag(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), ".docker")
	r := run(t, cfg, "doctor", "--context", "nope", "--format", "json")
	if r.code != 1 {
		t.Fatalf("doctor --context nope: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rep struct {
		Findings []struct {
			CheckID string `json:"checkId"`
			Message string `json:"message"`
		} `json:"findings"`
		Summary struct {
			CheckID string `json:"checkId"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range rep.Findings {
		if f.CheckID == "context-missing" && strings.Contains(f.Message, `context "nope" (from --context)`) &&
			strings.Contains(f.Message, `Failed to initialize: unable to resolve docker endpoint: context "nope": context not found: open `) {
			found = true
		}
	}
	if !found || rep.Summary.CheckID != "context-missing" {
		t.Errorf("no context-missing finding for --context nope: %s", r.stdout)
	}
	r = run(t, cfg, "-H", "tcp://127.0.0.1:1", "doctor", "--context", "nope")
	if r.code != 2 || !strings.Contains(r.stderr, "conflicting options: cannot specify both --host and --context") {
		t.Errorf("-H with doctor --context: exit %d %s", r.code, r.stderr)
	}
	r = run(t, cfg, "doctor", "--registry", "--daemon", "h:1")
	if r.code != 2 || !strings.Contains(r.stderr, "--registry and --daemon exclude each other") {
		t.Errorf("--registry --daemon: exit %d %s", r.code, r.stderr)
	}
	// Flag errors read like the other commands' (--format "x": expected …).
	for _, c := range [][]string{{"doctor", "--format", "x"}, {"inspect", "--format", "x", "f"}, {"explain", "--format", "x", "e"}} {
		r = run(t, cfg, c...)
		if r.code != 2 || !strings.Contains(r.stderr, `--format "x": expected text`) || strings.Contains(r.stderr, "invalid --format") {
			t.Errorf("%s: exit %d %s", strings.Join(c, " "), r.code, r.stderr)
		}
	}
}
