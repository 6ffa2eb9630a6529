package catalog

import (
	"fmt"
	"strings"
)

// DefaultFailOn is the --fail-on default: only errors fail a run.
const DefaultFailOn = SeverityError

// ParseSeverity reads a --fail-on value: error, warning or info (any case;
// "warn" is accepted for warning).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error":
		return SeverityError, nil
	case "warning", "warn":
		return SeverityWarning, nil
	case "info":
		return SeverityInfo, nil
	}
	return "", fmt.Errorf("invalid severity %q: expected error, warning or info", s)
}

// ExitCode is the doctor's exit status for rep: 1 when any finding is at
// or above failOn, else 0. (2, usage or input error, and 3, the tool
// failed, come from the command, never from a report.)
func ExitCode(rep *Report, failOn Severity) int {
	if rep == nil {
		return 0
	}
	for i := range rep.Findings {
		if rep.Findings[i].Severity.AtOrAbove(failOn) {
			return 1
		}
	}
	return 0
}
