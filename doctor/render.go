package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

var severityMark = map[Severity]string{
	SeverityError:   "[error]",
	SeverityWarning: "[warn] ",
	SeverityInfo:    "[info] ",
}

// RenderText writes the report for people: a summary line, the sources
// read, then findings grouped by subject with their fix. No colour.
func RenderText(w io.Writer, rep *Report) error {
	var b strings.Builder
	e, wn, in := rep.Counts()
	fmt.Fprintf(&b, "docker tls doctor: %s, %s, %s\n", plural(e, "error"), plural(wn, "warning"), plural(in, "info"))
	if rep.Root != "" {
		fmt.Fprintf(&b, "root: %s\n", rep.Root)
	}
	if len(rep.Sources) > 0 {
		b.WriteString("\nRead:\n")
		kw := 0
		for _, s := range rep.Sources {
			kw = max(kw, len(s.Kind))
		}
		for _, s := range rep.Sources {
			line := fmt.Sprintf("  %-10s %-*s  %s", s.Status, kw, s.Kind, s.Path)
			if s.Detail != "" {
				line += " (" + s.Detail + ")"
			}
			b.WriteString(strings.TrimRight(line, " ") + "\n")
		}
	}
	if len(rep.Findings) == 0 {
		b.WriteString("\nNo problems found.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	subject := ""
	for _, f := range rep.Findings {
		if f.Subject != subject {
			subject = f.Subject
			fmt.Fprintf(&b, "\n%s\n", subject)
		}
		fmt.Fprintf(&b, "  %s %s: %s\n", severityMark[f.Severity], f.CheckID, f.Message)
		if f.Fix != "" {
			fmt.Fprintf(&b, "          fix: %s\n", f.Fix)
		}
	}
	b.WriteString("\nRun docker tls doctor --explain ID for what a check means.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// RenderJSON writes the report as indented JSON (schemaVersion "1").
func RenderJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}
