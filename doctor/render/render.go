package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/fatih/color"
)

var severityMark = map[catalog.Severity]string{
	catalog.SeverityError:   "[error]",
	catalog.SeverityWarning: "[warn] ",
	catalog.SeverityInfo:    "[info] ",
}

// TextOptions change how RenderTextOpts writes the report.
type TextOptions struct {
	// Color marks severities, subjects and the summary with ANSI colours
	// (fatih/color). ColorDefault tells whether stdout wants them.
	Color bool
	// Quiet prints only problems: the findings at warning or error, grouped
	// by subject, without the summary, sources or footer; nothing at all
	// when there are none.
	Quiet bool
}

// ColorDefault reports whether coloured output suits stdout: it is a
// terminal, NO_COLOR is not set and TERM is not "dumb" (color.NoColor).
func ColorDefault() bool { return !color.NoColor }

// palette holds the colours of one rendering; every one is a no-op when
// colour is off.
type palette struct {
	sev     map[catalog.Severity]*color.Color
	subject *color.Color
	fix     *color.Color
	ok      *color.Color
}

func newPalette(on bool) *palette {
	mk := func(a ...color.Attribute) *color.Color {
		c := color.New(a...)
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c
	}
	return &palette{
		sev: map[catalog.Severity]*color.Color{
			catalog.SeverityError:   mk(color.FgRed, color.Bold),
			catalog.SeverityWarning: mk(color.FgYellow, color.Bold),
			catalog.SeverityInfo:    mk(color.FgCyan),
		},
		subject: mk(color.Bold),
		fix:     mk(color.FgGreen),
		ok:      mk(color.FgGreen, color.Bold),
	}
}

func (p *palette) severity(s catalog.Severity) *color.Color {
	if c, ok := p.sev[s]; ok {
		return c
	}
	return p.sev[catalog.SeverityInfo]
}

// RenderText writes the report for people: a summary line, the sources
// read, then findings grouped by subject with their fix. No colour.
func RenderText(w io.Writer, rep *catalog.Report) error {
	return RenderTextOpts(w, rep, TextOptions{})
}

// RenderTextOpts is RenderText with colour and quiet mode. Without colour
// the output is RenderText's, byte for byte.
func RenderTextOpts(w io.Writer, rep *catalog.Report, opts TextOptions) error {
	p := newPalette(opts.Color)
	var b strings.Builder
	if sm := rep.Summary; sm != nil && !opts.Quiet {
		// One line with the story: the cause and the fix.
		// The cause is a sentence of its own, so the eye finds "Fix:".
		cause := strings.TrimSpace(sm.RootCause)
		if !strings.HasSuffix(cause, ".") && !strings.HasSuffix(cause, "?") && !strings.HasSuffix(cause, "!") {
			cause += "."
		}
		fmt.Fprintf(&b, "%s %s (%s): %s %s %s\n", p.severity(catalog.SeverityError).Sprint("Root cause:"), sm.CheckID, sm.Subject,
			cause, p.fix.Sprint("Fix:"), sm.Fix)
	}
	if !opts.Quiet {
		e, wn, in := rep.Counts()
		counts := []string{plural(e, "error"), plural(wn, "warning"), plural(in, "info")}
		if e > 0 {
			counts[0] = p.sev[catalog.SeverityError].Sprint(counts[0])
		}
		if wn > 0 {
			counts[1] = p.sev[catalog.SeverityWarning].Sprint(counts[1])
		}
		fmt.Fprintf(&b, "docker tls doctor: %s, %s, %s\n", counts[0], counts[1], counts[2])
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
			b.WriteString("\n" + p.ok.Sprint("No problems found.") + "\n")
			_, err := io.WriteString(w, b.String())
			return err
		}
	}
	subject := ""
	shown := 0
	for _, f := range rep.Findings {
		if opts.Quiet && !f.Severity.AtOrAbove(catalog.SeverityWarning) {
			continue
		}
		shown++
		if f.Subject != subject || shown == 1 {
			subject = f.Subject
			if opts.Quiet && shown == 1 {
				fmt.Fprintf(&b, "%s\n", p.subject.Sprint(subject))
			} else {
				fmt.Fprintf(&b, "\n%s\n", p.subject.Sprint(subject))
			}
		}
		fmt.Fprintf(&b, "  %s %s: %s\n", p.severity(f.Severity).Sprint(severityMark[f.Severity]), f.CheckID, f.Message)
		if f.DockerPushError != "" {
			// A registry: docker pull's line (when known), then docker
			// push's.
			if f.DockerError != "" {
				fmt.Fprintf(&b, "          docker pull: %s\n", strings.ReplaceAll(f.DockerError, "\n", "\n                       "))
			}
			fmt.Fprintf(&b, "          docker push: %s\n", strings.ReplaceAll(f.DockerPushError, "\n", "\n                       "))
		} else if f.DockerError != "" {
			fmt.Fprintf(&b, "          docker: %s\n", strings.ReplaceAll(f.DockerError, "\n", "\n                  "))
		}
		if f.Fix != "" {
			fmt.Fprintf(&b, "          %s %s\n", p.fix.Sprint("fix:"), f.Fix)
		}
	}
	if !opts.Quiet {
		b.WriteString("\nRun docker tls doctor --explain ID for what a check means.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// RenderJSON writes the report as indented JSON (schemaVersion "2").
func RenderJSON(w io.Writer, rep *catalog.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}

// plural is "1 word" or "n words".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
