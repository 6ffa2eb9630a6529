package render

import (
	"encoding/xml"
	"io"
	"sort"
	"strings"

	"github.com/docker-tls/docker-tls/doctor/catalog"
)

// JUnitSuiteName names the suite (and the report) in CI test views.
const JUnitSuiteName = "docker-tls doctor"

// NoFindingsCase is the test case name of a check that ran and found
// nothing.
const NoFindingsCase = "no findings"

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

// junitText is element text written as CDATA, so multi-line text stays
// readable in the file.
type junitText struct {
	Text string `xml:",cdata"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// findingText is a finding as a failure body or system-out text.
func findingText(f *catalog.Finding) string {
	var b strings.Builder
	b.WriteString("[" + string(f.Severity) + "] " + f.Message + "\n")
	if f.Fix != "" {
		b.WriteString("Fix: " + f.Fix + "\n")
	}
	if f.DockerError != "" {
		b.WriteString("Docker: " + f.DockerError + "\n")
	}
	if f.DockerPushError != "" {
		b.WriteString("Docker push: " + f.DockerPushError + "\n")
	}
	b.WriteString("Docs: " + catalog.DocsURL(f.CheckID) + "\n")
	return b.String()
}

// RenderJUnit writes the report as JUnit XML (GitLab's and Jenkins' test
// reports): one test case per check and subject, named SUBJECT in class
// CHECK-ID. The case fails (<failure type=SEVERITY>) when a finding is at
// or above failOn; findings below it pass with their text in <system-out>.
// Every catalog check without findings passes as one case named
// "no findings", so the report lists what was checked.
func RenderJUnit(w io.Writer, rep *catalog.Report, failOn catalog.Severity) error {
	type key struct{ id, subject string }
	groups := map[key][]*catalog.Finding{}
	var order []key
	for i := range rep.Findings {
		f := &rep.Findings[i]
		k := key{f.CheckID, f.Subject}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], f)
	}
	seen := map[string]bool{}
	var cases []junitCase
	failures := 0
	for _, k := range order {
		seen[k.id] = true
		c := junitCase{Classname: k.id, Name: k.subject, Time: "0"}
		var failText, outText strings.Builder
		var worst *catalog.Finding
		for _, f := range groups[k] {
			if f.Severity.AtOrAbove(failOn) {
				failText.WriteString(findingText(f))
				if worst == nil || f.Severity.Rank() < worst.Severity.Rank() {
					worst = f
				}
			} else {
				outText.WriteString(findingText(f))
			}
		}
		if worst != nil {
			msg := worst.Message
			if worst.Fix != "" {
				msg += " Fix: " + worst.Fix
			}
			c.Failure = &junitFailure{Message: msg, Type: string(worst.Severity), Text: failText.String()}
			failures++
		}
		if outText.Len() > 0 {
			c.SystemOut = &junitText{Text: outText.String()}
		}
		cases = append(cases, c)
	}
	for _, chk := range catalog.List() {
		if !seen[chk.ID] {
			cases = append(cases, junitCase{Classname: chk.ID, Name: NoFindingsCase, Time: "0"})
		}
	}
	sort.SliceStable(cases, func(i, j int) bool {
		if cases[i].Classname != cases[j].Classname {
			return cases[i].Classname < cases[j].Classname
		}
		return cases[i].Name < cases[j].Name
	})
	suite := junitSuite{
		Name: JUnitSuiteName, Tests: len(cases), Failures: failures, Time: "0",
		Timestamp: strings.TrimSuffix(rep.Now, "Z"),
		Cases:     cases,
	}
	suite.Properties = append(suite.Properties,
		junitProperty{Name: "schemaVersion", Value: rep.SchemaVersion},
		junitProperty{Name: "failOn", Value: string(failOn)})
	if rep.Root != "" {
		suite.Properties = append(suite.Properties, junitProperty{Name: "root", Value: rep.Root})
	}
	doc := junitSuites{Name: JUnitSuiteName, Tests: suite.Tests, Failures: failures, Time: "0", Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
