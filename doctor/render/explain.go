package render

import (
	"fmt"
	"sort"
	"strings"

	"github.com/docker-tls/docker-tls/doctor/catalog"
)

// Explain returns the catalog entry for id as text: title, severity, what
// goes wrong, the fix and the source it is based on.
func Explain(id string) (string, error) {
	c, ok := catalog.Lookup(strings.TrimSpace(id))
	if !ok {
		return "", fmt.Errorf("unknown check %q: docker tls doctor --list shows the check IDs%s", id, suggest(id))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s (%s)\n\n", c.ID, c.Title, c.Severity)
	b.WriteString(wrap(c.Doc, 100) + "\n\n")
	b.WriteString(wrap("Fix: "+c.Fix, 100) + "\n\n")
	b.WriteString(wrap("Source: "+c.Citation, 100) + "\n")
	return b.String(), nil
}

// suggest names catalog IDs that contain the given text.
func suggest(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	if id == "" {
		return ""
	}
	var m []string
	for _, c := range catalog.List() {
		if strings.Contains(c.ID, id) {
			m = append(m, c.ID)
		}
	}
	if len(m) == 0 {
		return ""
	}
	sort.Strings(m)
	return " (did you mean " + strings.Join(m, ", ") + "?)"
}

// ListText is the --list output: one line per check.
func ListText() string {
	var b strings.Builder
	w := 0
	for _, c := range catalog.List() {
		w = max(w, len(c.ID))
	}
	for _, c := range catalog.List() {
		fmt.Fprintf(&b, "%-*s  %-7s  %s\n", w, c.ID, c.Severity, c.Title)
	}
	return b.String()
}

// ChecksMarkdown renders the catalog as CHECKS.md.
func ChecksMarkdown() string {
	var b strings.Builder
	b.WriteString("# docker tls doctor checks\n\n")
	b.WriteString("<!-- Generated from doctor/catalog/catalog.go by `go test ./doctor -update`. Do not edit. -->\n\n")
	b.WriteString("Each check has a stable ID; `docker tls doctor --explain ID` prints the same text.\n\n")
	b.WriteString("| ID | Severity | Title |\n|---|---|---|\n")
	for _, c := range catalog.List() {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", c.ID, c.ID, c.Severity, c.Title)
	}
	for _, c := range catalog.List() {
		fmt.Fprintf(&b, "\n## %s\n\n**%s** (%s)\n\n%s\n\n**Fix:** %s\n\n**Source:** %s\n", c.ID, c.Title, c.Severity, c.Doc, c.Fix, c.Citation)
	}
	return b.String()
}

// wrap breaks text at spaces so lines stay within width.
func wrap(s string, width int) string {
	words := strings.Fields(s)
	var b strings.Builder
	n := 0
	for _, w := range words {
		if n > 0 && n+1+len(w) > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
