package catalog

import "strings"

// SchemaVersion is the version of the JSON report format.
const SchemaVersion = "2"

// Source statuses.
const (
	StatusFound      = "found"
	StatusMissing    = "missing"
	StatusUnreadable = "unreadable"
)

// Source is one place the doctor looked.
type Source struct {
	Kind   string `json:"kind"`
	Path   string `json:"path"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Report is the result of one run.
type Report struct {
	SchemaVersion string    `json:"schemaVersion"`
	Root          string    `json:"root,omitempty"`
	Now           string    `json:"now"`
	Sources       []Source  `json:"sources"`
	Findings      []Finding `json:"findings"`
	// Summary names the root cause and its fix (absent without problems).
	Summary *Summary `json:"summary,omitempty"`
	// Targets says, for each probed target, what kind of endpoint it was
	// taken for and why, and the client setups probed, leading with the
	// most likely one.
	Targets []TargetInfo `json:"targets,omitempty"`
}

// Summary is the report's one-line story: the finding that explains the
// failure and what to do.
type Summary struct {
	CheckID   string `json:"checkId"`
	Subject   string `json:"subject"`
	RootCause string `json:"rootCause"`
	Fix       string `json:"fix"`
	Setup     string `json:"setup,omitempty"`
}

// TargetInfo is the intake's answer for one target.
type TargetInfo struct {
	Input      string      `json:"input"`
	Target     string      `json:"target"`
	Kind       string      `json:"kind"`
	KindReason string      `json:"kindReason"`
	Setups     []SetupInfo `json:"setups,omitempty"`
}

// SetupInfo is one client setup probed against a target.
type SetupInfo struct {
	Name    string `json:"name"`
	Outcome string `json:"outcome,omitempty"`
}

// Summarize sets Summary: the first error (else warning) of the leading
// client setup's live result, else the first static one.
func (r *Report) Summarize() {
	r.Summary = nil
	for _, sev := range []Severity{SeverityError, SeverityWarning} {
		for _, live := range []bool{true, false} {
			for _, f := range r.Findings {
				if f.Severity != sev || (f.Setup != "" || isLiveID(f.CheckID)) != live {
					continue
				}
				r.Summary = &Summary{CheckID: f.CheckID, Subject: f.Subject, RootCause: f.Message, Fix: f.Fix, Setup: f.Setup}
				if live {
					if j := explainer(r.Findings, &f); j >= 0 {
						// The file behind the live failure is the cause;
						// its fix names the files.
						c := r.Findings[j]
						r.Summary = &Summary{CheckID: c.CheckID, Subject: c.Subject, Setup: f.Setup, Fix: c.Fix,
							RootCause: c.Message + " (then: " + strings.TrimSuffix(f.Message, " (explained by "+c.CheckID+", above)") + ")"}
					}
				}
				if consequences[f.CheckID] {
					// The environment or context setting that makes the
					// client read the wrong files is the cause.
					for _, c := range r.Findings {
						if causes[c.CheckID] && c.Severity.AtOrAbove(SeverityWarning) {
							r.Summary = &Summary{CheckID: c.CheckID, Subject: c.Subject, RootCause: c.Message + " (then: " + strings.TrimSuffix(f.Message, " (a consequence of "+c.CheckID+", above)") + ")", Fix: c.Fix}
							break
						}
					}
				}
				return
			}
		}
	}
}

// causes are client settings that explain file and connection failures
// (consequences): the summary names them first.
var (
	causes       = map[string]bool{IDEnvTLSVerifyZero: true, IDEnvCertPathMissing: true, IDEnvHostOverridesContext: true, IDContextMissing: true}
	consequences = map[string]bool{IDTLSFileMissing: true, "probe-client-config": true, "probe-client-cert-missing": true}
)

func isLiveID(id string) bool { return len(id) > 6 && id[:6] == "probe-" }

// Counts returns the number of findings per severity.
func (r *Report) Counts() (errors, warnings, infos int) {
	for _, f := range r.Findings {
		switch f.Severity {
		case SeverityError:
			errors++
		case SeverityWarning:
			warnings++
		default:
			infos++
		}
	}
	return
}

// HasErrors reports whether any finding is an error (the command then
// exits non-zero).
func (r *Report) HasErrors() bool {
	e, _, _ := r.Counts()
	return e > 0
}
