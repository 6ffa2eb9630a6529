package doctor

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/doctor/render"
)

func TestChecksMDUpToDate(t *testing.T) {
	const p = "../CHECKS.md"
	want := render.ChecksMarkdown()
	if *update {
		if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./doctor -run TestChecksMDUpToDate -update writes it)", err)
	}
	if string(got) != want {
		t.Errorf("CHECKS.md is stale: go test ./doctor -run TestChecksMDUpToDate -update\n%s", lineDiff(string(got), want))
	}
}

func TestParseExpiryWarn(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 720 * time.Hour, "0d": 0, "720h": 720 * time.Hour, " 7d ": 168 * time.Hour, "1h30m": 90 * time.Minute} {
		got, err := ParseExpiryWarn(in)
		if err != nil || got != want {
			t.Errorf("ParseExpiryWarn(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-3d", "30 days", "1w", "-1h"} {
		if _, err := ParseExpiryWarn(in); err == nil || !strings.Contains(err.Error(), "invalid expiry warning") {
			t.Errorf("ParseExpiryWarn(%q) error = %v", in, err)
		}
	}
}

func TestReadFileRefusesSpecial(t *testing.T) {
	fi, data := readFile(os.DirFS("/"), "dev/null", "/dev/null")
	if data != nil || !strings.Contains(fi.Problem, "character device") {
		t.Errorf("readFile(/dev/null) = %+v, %d bytes", fi, len(data))
	}
}

func TestRootFSRefusesSpecial(t *testing.T) {
	root, err := os.OpenRoot("/dev")
	if err != nil {
		t.Skip(err)
	}
	defer root.Close()
	fi, data := readFile(RootFS(root), "null", "/dev/null")
	if data != nil || !strings.Contains(fi.Problem, "character device") {
		t.Errorf("readFile(/dev/null) = %+v, %d bytes", fi, len(data))
	}
	fi, _ = readFile(RootFS(root), "does-not-exist", "/dev/does-not-exist")
	if fi.Exists || fi.Problem != "" {
		t.Errorf("missing file: %+v", fi)
	}
}

// TestLiveCatalogMatchesProbeOutcomes: every probe outcome is documented,
// and every live check is a probe outcome.
