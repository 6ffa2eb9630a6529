package catalog

import "sort"

// Severity ranks findings. A healthy setup has no error or warning.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Rank orders severities: 0 for an error, 1 for a warning, 2 otherwise.
func (s Severity) Rank() int {
	switch s {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	}
	return 2
}

// AtOrAbove reports whether s is at least as severe as min.
func (s Severity) AtOrAbove(min Severity) bool { return s.Rank() <= min.Rank() }

// Check is one entry of the catalog: what can be wrong, why Docker breaks
// on it, and how to fix it in general. Findings carry the specifics.
type Check struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	// Doc explains what Docker or Go does and why it breaks, with the error
	// text users see.
	Doc string `json:"doc"`
	// Fix is the generic remedy; findings carry a concrete one.
	Fix string `json:"fix"`
	// Citation names the source code or documented behaviour the check
	// relies on.
	Citation string `json:"citation"`
	// Live checks come from probing an endpoint, not from files.
	Live bool `json:"live,omitempty"`
}

// Finding is one problem found: which check, where, what, and what to run.
type Finding struct {
	CheckID  string   `json:"checkId"`
	Severity Severity `json:"severity"`
	// Subject is the file, directory or host the finding is about.
	Subject string `json:"subject"`
	// Message says in one line what is wrong, naming the file(s) or host.
	Message string `json:"message"`
	// Fix is something concrete to run or do.
	Fix string `json:"fix"`
	// Evidence holds public facts (subjects, dates, fingerprints, modes),
	// never key material.
	Evidence map[string]string `json:"evidence,omitempty"`
	// DockerError is, for a live finding, the exact line the docker client
	// prints for the same failure.
	DockerError string `json:"dockerError,omitempty"`
	// DockerPushError is, for a live registry finding, docker push's line
	// (DockerError is then docker pull's).
	DockerPushError string `json:"dockerPushError,omitempty"`
	// Setup names, for a live finding, the client setup it was probed with
	// ("docker --context prod", "docker -H tcp://h:2376 --tlsverify").
	Setup string `json:"setup,omitempty"`

	// Facts for --fix, not rendered: the subject's and the rename
	// target's raw paths (display text quotes a name that is not UTF-8),
	// and which loader reads the subject's directory.
	path, renameTo, loader string
}

// Path is the raw path the finding is about (Subject is its display
// text); "" for a finding that is not about a file or was decoded from
// JSON.
func (f Finding) Path() string { return f.path }

// RenameTo is the raw path of evidence rename_to ("" when none).
func (f Finding) RenameTo() string { return f.renameTo }

// SetFacts records the finding's facts for --fix: the raw path of its
// subject and of its rename target, and the loader that reads the
// subject's directory (see Path, RenameTo and Loader).
func (f *Finding) SetFacts(path, renameTo, loader string) {
	f.path, f.renameTo, f.loader = path, renameTo, loader
}

// Loader names the loader that reads the subject's directory: "moby",
// "containers" or "containerd" for certs.d findings, else "".
func (f Finding) Loader() string { return f.loader }

// Check IDs. They are stable: scripts and docs refer to them.
const (
	IDCertsDCANamedCert        = "certsd-ca-named-cert"
	IDCertsDClientCertNamedCRT = "certsd-client-cert-named-crt"
	IDCertsDCertWithoutKey     = "certsd-cert-without-key"
	IDCertsDKeyWithoutCert     = "certsd-key-without-cert"
	IDCertsDIgnoredFile        = "certsd-ignored-file"
	IDCertsDDaemonKey          = "certsd-daemon-key"
	IDCertsDPort443            = "certsd-port-443"
	IDCertsDPortMissing        = "certsd-port-missing"
	IDCertsDCRTNotPEM          = "certsd-crt-not-pem"
	IDHostsTOMLBroken          = "hoststoml-broken"
	IDHostsTOMLFileUnused      = "hoststoml-file-unused"
	IDHostsTOMLHostDropped     = "hoststoml-host-dropped"
	IDCertsDCRTUseless         = "certsd-crt-useless"
	IDKeyMismatch              = "key-mismatch"
	IDWrongFormatDER           = "wrong-format-der"
	IDWrongFormatPKCS7         = "wrong-format-pkcs7"
	IDWrongFormatPKCS12        = "wrong-format-pkcs12"
	IDWrongFormatUnknown       = "wrong-format-unknown"
	IDPEMTruncated             = "pem-truncated"
	IDFilesSwapped             = "files-swapped"
	IDKeyEncrypted             = "key-encrypted"
	IDFileUnreadable           = "file-unreadable"
	IDTLSFileMissing           = "tls-file-missing"
	IDCertPathWrongNames       = "certpath-wrong-names"
	IDCAMismatchServer         = "ca-mismatch-server"
	IDCAMismatchClient         = "ca-mismatch-client"
	IDCANotCA                  = "ca-not-ca"
	IDMissingIntermediate      = "missing-intermediate"
	IDCertExpired              = "cert-expired"
	IDCertNotYetValid          = "cert-not-yet-valid"
	IDCertExpiring             = "cert-expiring"
	IDCertCNOnly               = "cert-cn-only"
	IDHostNotInSANs            = "host-not-in-sans"
	IDEKUClientMissing         = "eku-client-missing"
	IDEKUServerMissing         = "eku-server-missing"
	IDSigSHA1                  = "sig-sha1"
	IDRSAWeak                  = "rsa-weak"
	IDSerialNegative           = "serial-negative"
	IDKeyPermissions           = "key-permissions"
	IDEnvTLSVerifyZero         = "env-tls-verify-zero"
	IDEnvCertPathMissing       = "env-cert-path-missing"
	IDEnvHostOverridesContext  = "env-host-overrides-context"
	IDContextMissing           = "context-missing"
	IDDaemonTCPWithoutVerify   = "daemon-tcp-without-tlsverify"
	IDDaemonTLSImpliesVerify   = "daemon-tls-implies-verify"
	IDDaemonHostsConflict      = "daemon-hosts-conflict"
	IDDaemonJSONInvalid        = "daemon-json-invalid"
	IDDaemonHostInvalid        = "daemon-host-invalid"
	IDDaemonMirrorInvalid      = "daemon-registry-mirror-invalid"
)

// allChecks is the static catalog followed by the live probe outcomes.
var allChecks = append(append([]Check{}, catalog...), liveCatalog...)

var catalogByID = func() map[string]*Check {
	m := make(map[string]*Check, len(allChecks))
	for i := range allChecks {
		m[allChecks[i].ID] = &allChecks[i]
	}
	return m
}()

// List returns the catalog sorted by ID.
func List() []Check {
	out := make([]Check, len(allChecks))
	copy(out, allChecks)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup returns the check with id.
func Lookup(id string) (Check, bool) {
	c, ok := catalogByID[id]
	if !ok {
		return Check{}, false
	}
	return *c, true
}
