package doctor

// SchemaVersion is the version of the JSON report format.
const SchemaVersion = "1"

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
}

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
