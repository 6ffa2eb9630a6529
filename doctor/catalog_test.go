package doctor

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/doctor/probe"
)

func TestCatalogEntries(t *testing.T) {
	slug := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, c := range allChecks {
		if !slug.MatchString(c.ID) {
			t.Errorf("%q is not a slug", c.ID)
		}
		if seen[c.ID] {
			t.Errorf("duplicate check %s", c.ID)
		}
		seen[c.ID] = true
		switch c.Severity {
		case SeverityError, SeverityWarning, SeverityInfo:
		default:
			t.Errorf("%s: severity %q", c.ID, c.Severity)
		}
		if c.Title == "" || c.Fix == "" || c.Citation == "" {
			t.Errorf("%s: title, fix and citation are required", c.ID)
		}
		if strings.Count(c.Doc, ". ") < 1 || len(c.Doc) < 150 {
			t.Errorf("%s: doc should be several sentences", c.ID)
		}
	}
	for _, id := range []string{"certsd-ca-named-cert", "certsd-client-cert-named-crt", "certsd-cert-without-key", "certsd-key-without-cert",
		"certsd-ignored-file", "certsd-daemon-key", "certsd-port-443", "key-mismatch", "wrong-format-der", "wrong-format-pkcs7",
		"wrong-format-pkcs12", "files-swapped", "key-encrypted", "certpath-wrong-names", "ca-mismatch-server", "ca-mismatch-client",
		"ca-not-ca", "missing-intermediate", "cert-expired", "cert-not-yet-valid", "cert-expiring", "cert-cn-only", "host-not-in-sans",
		"eku-client-missing", "eku-server-missing", "sig-sha1", "rsa-weak", "serial-negative", "key-permissions", "env-tls-verify-zero",
		"env-cert-path-missing", "env-host-overrides-context", "daemon-tcp-without-tlsverify", "daemon-tls-implies-verify",
		"daemon-hosts-conflict", "certsd-crt-not-pem"} {
		if !seen[id] {
			t.Errorf("catalog lacks %s", id)
		}
	}
}

func TestExplain(t *testing.T) {
	text, err := Explain("key-encrypted")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"key-encrypted: Encrypted private key (error)", "private key is encrypted", "Fix: Decrypt", "Source: docker/cli"} {
		if !strings.Contains(text, want) {
			t.Errorf("Explain lacks %q:\n%s", want, text)
		}
	}
	_, err = Explain("certsd")
	if err == nil || !strings.Contains(err.Error(), `unknown check "certsd"`) || !strings.Contains(err.Error(), "certsd-port-443") {
		t.Errorf("Explain(certsd) error = %v", err)
	}
	if got := strings.Count(ListText(), "\n"); got != len(allChecks) {
		t.Errorf("ListText has %d lines, want %d", got, len(allChecks))
	}
}

func TestChecksMDUpToDate(t *testing.T) {
	const p = "../CHECKS.md"
	want := ChecksMarkdown()
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
func TestLiveCatalogMatchesProbeOutcomes(t *testing.T) {
	live := map[string]bool{}
	for _, c := range liveCatalog {
		live[c.ID] = true
		if !c.Live {
			t.Errorf("%s is not marked Live", c.ID)
		}
	}
	for _, o := range probe.Outcomes {
		if !live[string(o)] {
			t.Errorf("probe outcome %s has no catalog entry", o)
		}
		delete(live, string(o))
	}
	delete(live, IDTargetNotDocker)    // the intake's, not the probe's
	delete(live, IDDaemonNoClientAuth) // from an OK probe's evidence
	for id := range live {
		t.Errorf("live check %s is not a probe outcome", id)
	}
}
