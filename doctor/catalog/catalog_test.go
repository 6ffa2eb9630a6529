package catalog

import (
	"regexp"
	"strings"
	"testing"

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
