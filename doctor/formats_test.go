package doctor

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/render"
	"github.com/docker-tls/docker-tls/doctor/schema"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// formatGoldens are the scenarios whose SARIF and JUnit output is kept as
// fixtures/<scenario>/expected.sarif and expected.junit.xml: files, a
// directory, a variable, a host and a healthy machine.
var formatGoldens = map[string]bool{
	"certsd-ca-named-cert": true,
	"certsd-ignored-file":  true,
	"key-permissions":      true,
	"env-tls-verify-zero":  true,
	"host-not-in-sans":     true,
	"expiry-fail-gate":     true,
	"healthy-empty":        true,
}

func compileSchema(t *testing.T, name string, data []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(name, doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sch, err := c.Compile(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return sch
}

var reportSchema *jsonschema.Schema

// validateReportJSON checks a JSON report against the shipped schema.
func validateReportJSON(t *testing.T, data []byte) {
	t.Helper()
	if reportSchema == nil {
		reportSchema = compileSchema(t, "report.schema.json", schema.Report)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := reportSchema.Validate(inst); err != nil {
		t.Errorf("JSON report does not match doctor/schema/report.schema.json: %v", err)
	}
}

// The schema must reject what it promises to reject, or validating the
// fixtures proves nothing.
func TestReportSchemaRejects(t *testing.T) {
	good := `{"schemaVersion":"2","now":"2026-01-01T00:00:00Z","sources":[],"findings":[{"id":"key-permissions","checkId":"key-permissions","severity":"warning","title":"T","subject":"/k","message":"m","fix":"f","docs":"https://x/CHECKS.md#key-permissions"}]}`
	sch := compileSchema(t, "report.schema.json", schema.Report)
	valid := func(s string) error {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		return sch.Validate(inst)
	}
	if err := valid(good); err != nil {
		t.Fatalf("valid report rejected: %v", err)
	}
	// A registry's live finding quotes docker pull's and docker push's
	// lines.
	if err := valid(strings.Replace(good, `"fix":"f"`, `"fix":"f","dockerError":"Error response from daemon: x","dockerPushError":"x"`, 1)); err != nil {
		t.Errorf("a finding with docker pull's and push's lines rejected: %v", err)
	}
	for name, bad := range map[string]string{
		"severity":      strings.Replace(good, `"warning"`, `"fatal"`, 1),
		"version":       strings.Replace(good, `"schemaVersion":"2"`, `"schemaVersion":"1"`, 1),
		"summary shape": strings.Replace(good, `"sources":[]`, `"sources":[],"summary":{"checkId":"x"}`, 1),
		"target kind":   strings.Replace(good, `"sources":[]`, `"sources":[],"targets":[{"input":"h","target":"tcp://h:1","kind":"web","kindReason":"r"}]`, 1),
		"no title":      strings.Replace(good, `"title":"T",`, ``, 1),
		"extra field":   strings.Replace(good, `"fix":"f"`, `"fix":"f","key":"x"`, 1),
		"evidence type": strings.Replace(good, `"fix":"f"`, `"fix":"f","evidence":{"n":1}`, 1),
		"two lines":     strings.Replace(good, `"message":"m"`, `"message":"a\nb"`, 1),
		"empty push":    strings.Replace(good, `"fix":"f"`, `"fix":"f","dockerPushError":""`, 1),
	} {
		if valid(bad) == nil {
			t.Errorf("%s: schema accepted %s", name, bad)
		}
	}
}

func TestFindingJSON(t *testing.T) {
	f := catalog.Finding{CheckID: catalog.IDKeyPermissions, Severity: catalog.SeverityWarning, Subject: "/k", Message: "<m> & more", Fix: "chmod 0600 /k",
		Evidence: map[string]string{"mode": "0644"}, DockerError: "error during connect", DockerPushError: "push line"}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"key-permissions","checkId":"key-permissions","severity":"warning","title":"Private key readable by group or others","subject":"/k","message":"<m> & more","fix":"chmod 0600 /k","docs":"https://github.com/docker-tls/docker-tls/blob/main/CHECKS.md#key-permissions","evidence":{"mode":"0644"},"dockerError":"error during connect","dockerPushError":"push line"}`
	// json.Marshal escapes HTML in Marshaler output; the report encoder
	// (RenderJSON) does not. Compare decoded.
	var got, exp map[string]any
	json.Unmarshal(b, &got)
	json.Unmarshal([]byte(want), &exp)
	gb, _ := json.Marshal(got)
	eb, _ := json.Marshal(exp)
	if !bytes.Equal(gb, eb) {
		t.Errorf("finding JSON:\n got %s\nwant %s", b, want)
	}
	var back catalog.Finding
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.CheckID != f.CheckID || back.DockerError != f.DockerError || back.DockerPushError != f.DockerPushError || back.Message != f.Message || back.Evidence["mode"] != "0644" {
		t.Errorf("round trip: %+v", back)
	}
	var buf bytes.Buffer
	render.RenderJSON(&buf, &catalog.Report{SchemaVersion: catalog.SchemaVersion, Now: "2026-01-01T00:00:00Z", Sources: []catalog.Source{}, Findings: []catalog.Finding{f}})
	if !strings.Contains(buf.String(), `"message": "<m> & more"`) {
		t.Errorf("RenderJSON escapes HTML characters:\n%s", buf.String())
	}
	validateReportJSON(t, buf.Bytes())
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]catalog.Severity{"error": catalog.SeverityError, "WARNING": catalog.SeverityWarning, "warn": catalog.SeverityWarning, " info ": catalog.SeverityInfo} {
		if got, err := catalog.ParseSeverity(in); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fatal", "errors"} {
		_, err := catalog.ParseSeverity(in)
		if want := `invalid severity "` + in + `": expected error, warning or info`; err == nil || err.Error() != want {
			t.Errorf("ParseSeverity(%q) error = %v; want %q", in, err, want)
		}
	}
}

func TestExitCode(t *testing.T) {
	rep := func(sevs ...catalog.Severity) *catalog.Report {
		r := &catalog.Report{}
		for _, s := range sevs {
			r.Findings = append(r.Findings, catalog.Finding{CheckID: "x", Severity: s})
		}
		return r
	}
	cases := []struct {
		rep    *catalog.Report
		failOn catalog.Severity
		want   int
	}{
		{rep(), catalog.SeverityInfo, 0},
		{nil, catalog.SeverityInfo, 0},
		{rep(catalog.SeverityInfo), catalog.SeverityError, 0},
		{rep(catalog.SeverityInfo), catalog.SeverityWarning, 0},
		{rep(catalog.SeverityInfo), catalog.SeverityInfo, 1},
		{rep(catalog.SeverityWarning), catalog.SeverityError, 0},
		{rep(catalog.SeverityWarning), catalog.SeverityWarning, 1},
		{rep(catalog.SeverityWarning, catalog.SeverityInfo), catalog.SeverityInfo, 1},
		{rep(catalog.SeverityError), catalog.SeverityError, 1},
		{rep(catalog.SeverityInfo, catalog.SeverityError), catalog.SeverityWarning, 1},
	}
	for i, c := range cases {
		if got := catalog.ExitCode(c.rep, c.failOn); got != c.want {
			t.Errorf("case %d: ExitCode(%v, %s) = %d; want %d", i, c.rep, c.failOn, got, c.want)
		}
	}
	// Per fixture: the default gate fails on errors only.
	for name, want := range map[string][3]int{ // error, warning, info
		"healthy-empty":    {0, 0, 0},
		"key-permissions":  {0, 1, 1},
		"cert-expiring":    {0, 1, 1},
		"expiry-fail-gate": {1, 1, 1},
		"key-mismatch":     {1, 1, 1},
	} {
		root := materialise(t, name)
		r := runFixtureOpts(t, root, fixtureEnv(t, name), true, fixtureOptions(t, name))
		for i, sev := range []catalog.Severity{catalog.SeverityError, catalog.SeverityWarning, catalog.SeverityInfo} {
			if got := catalog.ExitCode(r, sev); got != want[i] {
				t.Errorf("%s: --fail-on %s: exit %d; want %d", name, sev, got, want[i])
			}
		}
	}
}

func TestExpiryFail(t *testing.T) {
	root := materialise(t, "cert-expiring")
	env := fixtureEnv(t, "cert-expiring")
	sevOf := func(mod func(*Options)) (catalog.Severity, string) {
		r := runFixtureOpts(t, root, env, true, mod)
		for _, f := range r.Findings {
			if f.CheckID == catalog.IDCertExpiring && strings.Contains(f.Subject, "server-cert.pem") {
				return f.Severity, f.Message
			}
		}
		return "", ""
	}
	// The daemon certificate expires in 12 days.
	for _, c := range []struct {
		warn, fail string
		sev        catalog.Severity
		suffix     string
	}{
		{"30d", "", catalog.SeverityWarning, "in 12 days"},
		{"30d", "7d", catalog.SeverityWarning, "in 12 days"},
		{"30d", "12d", catalog.SeverityError, "in 12 days, within the --expiry-fail threshold of 12d"},
		{"30d", "14d", catalog.SeverityError, "in 12 days, within the --expiry-fail threshold of 14d"},
		{"7d", "14d", catalog.SeverityError, "in 12 days, within the --expiry-fail threshold of 14d"}, // the gate alone fires
		{"7d", "", "", ""},
		{"30d", "300h", catalog.SeverityError, "within the --expiry-fail threshold of 300h0m0s"},
	} {
		warn, err := ParseExpiryWarn(c.warn)
		if err != nil {
			t.Fatal(err)
		}
		var fail time.Duration
		if c.fail != "" {
			if fail, err = ParseExpiryFail(c.fail); err != nil {
				t.Fatal(err)
			}
		}
		sev, msg := sevOf(func(o *Options) { o.ExpiryWarn, o.ExpiryFail = warn, fail })
		if sev != c.sev || !strings.HasSuffix(msg, c.suffix) {
			t.Errorf("warn %s fail %s: %s %q; want %s ending %q", c.warn, c.fail, sev, msg, c.sev, c.suffix)
		}
	}
	_, err := ParseExpiryFail("7 days")
	if want := `invalid expiry failure threshold "7 days": expected a number of days like 30d or a duration like 720h`; err == nil || err.Error() != want {
		t.Errorf("ParseExpiryFail error = %v; want %q", err, want)
	}
	_, err = Run(Options{FS: os.DirFS(root), ExpiryFail: -time.Hour})
	if want := "invalid expiry failure threshold -1h0m0s: expected a positive duration"; err == nil || err.Error() != want {
		t.Errorf("negative ExpiryFail: %v; want %q", err, want)
	}
}

// sarifDoc is the part of SARIF that GitHub code scanning requires.
type sarifDoc struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name           string `json:"name"`
				InformationURI string `json:"informationUri"`
				Version        string `json:"version"`
				Rules          []struct {
					ID                   string `json:"id"`
					Name                 string `json:"name"`
					ShortDescription     struct{ Text string }
					FullDescription      struct{ Text string }
					Help                 struct{ Text string }
					HelpURI              string `json:"helpUri"`
					DefaultConfiguration struct{ Level string }
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		OriginalURIBaseIDs map[string]struct{ URI string } `json:"originalUriBaseIds"`
		Results            []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct{ Text string }
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					Name string
					Kind string
				} `json:"logicalLocations"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
		} `json:"results"`
	} `json:"runs"`
}

// checkSARIF checks what GitHub code scanning needs from a SARIF file
// (docs.github.com, "SARIF support for code scanning"): version 2.1.0,
// tool.driver.name, rules with id and descriptions, results with ruleId,
// a message text, a level, and artifact locations with a non-empty,
// repository-relative uri (no scheme).
func checkSARIF(t *testing.T, rep *catalog.Report, data []byte) {
	t.Helper()
	var d sarifDoc
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Version != "2.1.0" || len(d.Runs) != 1 {
		t.Fatalf("version %q, %d runs", d.Version, len(d.Runs))
	}
	run := d.Runs[0]
	drv := run.Tool.Driver
	if drv.Name != "docker-tls" || drv.InformationURI == "" || drv.Version == "" {
		t.Errorf("driver %+v", drv)
	}
	if len(drv.Rules) < len(catalog.List()) {
		t.Errorf("%d rules, want every catalog check (%d)", len(drv.Rules), len(catalog.List()))
	}
	ids := map[string]int{}
	for i, r := range drv.Rules {
		ids[r.ID] = i
		c, _ := catalog.Lookup(r.ID)
		if r.Name == "" || r.ShortDescription.Text != c.Title || r.FullDescription.Text != c.Doc ||
			!strings.HasPrefix(r.Help.Text, "Fix: "+c.Fix) || r.HelpURI != catalog.DocsURL(r.ID) || r.DefaultConfiguration.Level != render.SARIFLevel(c.Severity) {
			t.Errorf("rule %s: %+v", r.ID, r)
		}
	}
	if len(run.Results) != len(rep.Findings) {
		t.Fatalf("%d results for %d findings", len(run.Results), len(rep.Findings))
	}
	for i, res := range run.Results {
		f := rep.Findings[i]
		if res.RuleID != f.CheckID || ids[res.RuleID] != res.RuleIndex || res.Level != render.SARIFLevel(f.Severity) {
			t.Errorf("result %d: %+v", i, res)
		}
		if want := f.Message + " Fix: " + f.Fix; res.Message.Text != want {
			t.Errorf("result %d message %q; want %q", i, res.Message.Text, want)
		}
		if len(res.Locations) != 1 || res.PartialFingerprints["dockerTlsFinding/v1"] == "" {
			t.Fatalf("result %d: %+v", i, res)
		}
		loc := res.Locations[0]
		if strings.HasPrefix(f.Subject, "/") {
			if loc.PhysicalLocation == nil {
				t.Fatalf("result %d: file subject %s without physical location", i, f.Subject)
			}
			uri := loc.PhysicalLocation.ArtifactLocation.URI
			if uri == "" || strings.HasPrefix(uri, "/") || strings.Contains(strings.SplitN(uri, "/", 2)[0], ":") {
				t.Errorf("result %d: uri %q is not a relative reference", i, uri)
			}
			base := run.OriginalURIBaseIDs[loc.PhysicalLocation.ArtifactLocation.URIBaseID].URI
			if !strings.HasPrefix(base, "file:///") || !strings.HasSuffix(base, "/") {
				t.Errorf("result %d: uriBaseId %q → %q", i, loc.PhysicalLocation.ArtifactLocation.URIBaseID, base)
			}
		} else if loc.PhysicalLocation != nil || len(loc.LogicalLocations) != 1 || loc.LogicalLocations[0].Name != f.Subject {
			t.Errorf("result %d: subject %q: %+v", i, f.Subject, loc)
		}
	}
}

func TestSARIF(t *testing.T) {
	for name := range formatGoldens {
		root := materialise(t, name)
		rep := runFixtureOpts(t, root, fixtureEnv(t, name), true, fixtureOptions(t, name))
		var b bytes.Buffer
		if err := render.RenderSARIF(&b, rep); err != nil {
			t.Fatal(err)
		}
		checkSARIF(t, rep, b.Bytes())
		validateSARIFSchema(t, b.Bytes())
	}
}

func TestSARIFRootAndURIs(t *testing.T) {
	rep := &catalog.Report{SchemaVersion: "1", Root: "/srv/images/web 1", Now: "2026-01-01T00:00:00Z", Findings: []catalog.Finding{
		{CheckID: catalog.IDKeyPermissions, Severity: catalog.SeverityWarning, Subject: "/srv/images/web 1/etc/docker/certs.d/reg:5000/client.key", Message: "m", Fix: "f"},
		{CheckID: catalog.IDHostNotInSANs, Severity: catalog.SeverityError, Subject: "tcp://10.0.0.9:2376", Message: "m", Fix: "f"},
	}}
	var b bytes.Buffer
	if err := render.RenderSARIF(&b, rep); err != nil {
		t.Fatal(err)
	}
	checkSARIF(t, rep, b.Bytes())
	validateSARIFSchema(t, b.Bytes())
	out := b.String()
	for _, want := range []string{`"uri": "etc/docker/certs.d/reg:5000/client.key"`, `"uri": "file:///srv/images/web%201/"`, `"kind": "resource"`} {
		if !strings.Contains(out, want) {
			t.Errorf("SARIF lacks %s:\n%s", want, out)
		}
	}
	if u, ok := render.SubjectURI(&catalog.Report{}, "/a:b/c"); !ok || u != "./a:b/c" {
		t.Errorf("SubjectURI(/a:b/c) = %q, %v", u, ok)
	}
}

// junitDoc mirrors the JUnit XML GitLab and Jenkins read.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   *int     `xml:"errors,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   *int   `xml:"errors,attr"`
		Cases    []struct {
			Classname string  `xml:"classname,attr"`
			Name      string  `xml:"name,attr"`
			Time      *string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnit(t *testing.T) {
	for name := range formatGoldens {
		root := materialise(t, name)
		rep := runFixtureOpts(t, root, fixtureEnv(t, name), true, fixtureOptions(t, name))
		for _, failOn := range []catalog.Severity{catalog.SeverityError, catalog.SeverityWarning, catalog.SeverityInfo} {
			var b bytes.Buffer
			if err := render.RenderJUnit(&b, rep, failOn); err != nil {
				t.Fatal(err)
			}
			checkJUnit(t, name, rep, failOn, b.Bytes())
			validateJUnitXSD(t, b.Bytes())
		}
	}
}

func checkJUnit(t *testing.T, name string, rep *catalog.Report, failOn catalog.Severity, data []byte) {
	t.Helper()
	if !bytes.HasPrefix(data, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Errorf("%s: no XML declaration", name)
	}
	var d junitDoc
	if err := xml.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(d.Suites) != 1 || d.Errors == nil || d.Suites[0].Errors == nil || d.Suites[0].Name != render.JUnitSuiteName {
		t.Fatalf("%s: %+v", name, d)
	}
	s := d.Suites[0]
	type key struct{ id, subject string }
	wantFail := map[key]bool{}
	all := map[key]bool{}
	withFindings := map[string]bool{}
	for _, f := range rep.Findings {
		all[key{f.CheckID, f.Subject}] = true
		withFindings[f.CheckID] = true
		if f.Severity.AtOrAbove(failOn) {
			wantFail[key{f.CheckID, f.Subject}] = true
		}
	}
	failures := 0
	perCheck := map[string]int{}
	for _, c := range s.Cases {
		perCheck[c.Classname]++
		if c.Time == nil || c.Classname == "" || c.Name == "" {
			t.Errorf("%s: case %+v lacks classname, name or time", name, c)
		}
		k := key{c.Classname, c.Name}
		if c.Name == render.NoFindingsCase {
			if withFindings[c.Classname] || c.Failure != nil {
				t.Errorf("%s: %s: a \"no findings\" case for a check with findings", name, c.Classname)
			}
			continue
		}
		if !all[k] {
			t.Errorf("%s: case %v matches no finding", name, k)
		}
		if (c.Failure != nil) != wantFail[k] {
			t.Errorf("%s --fail-on %s: case %v failure=%v", name, failOn, k, c.Failure != nil)
		}
		if c.Failure != nil {
			failures++
			if c.Failure.Message == "" || !strings.Contains(c.Failure.Message, " Fix: ") || c.Failure.Text == "" {
				t.Errorf("%s: failure %+v", name, c.Failure)
			}
			if _, err := catalog.ParseSeverity(c.Failure.Type); err != nil {
				t.Errorf("%s: failure type %q", name, c.Failure.Type)
			}
		}
	}
	for _, c := range catalog.List() {
		if perCheck[c.ID] == 0 {
			t.Errorf("%s: no test case for check %s", name, c.ID)
		}
	}
	if failures != s.Failures || failures != d.Failures || len(s.Cases) != s.Tests || s.Tests != d.Tests {
		t.Errorf("%s: counts: suites %d/%d, suite %d/%d, counted %d/%d", name, d.Tests, d.Failures, s.Tests, s.Failures, len(s.Cases), failures)
	}
}

func TestRenderTextOpts(t *testing.T) {
	root := materialise(t, "certsd-ignored-file")
	rep := runFixture(t, root, fixtureEnv(t, "certsd-ignored-file"))
	var plain, opts bytes.Buffer
	render.RenderText(&plain, rep)
	render.RenderTextOpts(&opts, rep, render.TextOptions{})
	if plain.String() != opts.String() {
		t.Error("RenderTextOpts without options differs from RenderText")
	}
	var col bytes.Buffer
	render.RenderTextOpts(&col, rep, render.TextOptions{Color: true})
	if !strings.Contains(col.String(), "\x1b[33;1m[warn] \x1b[0;22m") || !strings.Contains(col.String(), "\x1b[1m/etc/docker/certs.d/ca.crt\x1b[22m") {
		t.Errorf("coloured output lacks the warning or subject colours:\n%q", col.String())
	}
	if strip := ansiRE(col.String()); strip != plain.String() {
		t.Errorf("coloured output without escapes differs from plain:\n%s", lineDiff(plain.String(), strip))
	}

	// Quiet: only findings at warning or error, no header or footer.
	var q bytes.Buffer
	render.RenderTextOpts(&q, rep, render.TextOptions{Quiet: true})
	if want := strings.SplitN(plain.String(), "\n/etc/docker/certs.d/ca.crt\n", 2)[1]; q.String() != "/etc/docker/certs.d/ca.crt\n"+strings.TrimSuffix(want, "\nRun docker tls doctor --explain ID for what a check means.\n") {
		t.Errorf("quiet output:\n%s", q.String())
	}
	q.Reset()
	render.RenderTextOpts(&q, &catalog.Report{Findings: []catalog.Finding{{CheckID: "x", Severity: catalog.SeverityInfo, Subject: "/a", Message: "m"}}}, render.TextOptions{Quiet: true, Color: true})
	if q.Len() != 0 {
		t.Errorf("quiet output with only info findings: %q", q.String())
	}
	q.Reset()
	render.RenderTextOpts(&q, &catalog.Report{}, render.TextOptions{Quiet: true})
	if q.Len() != 0 {
		t.Errorf("quiet output with no findings: %q", q.String())
	}
	q.Reset()
	render.RenderTextOpts(&q, &catalog.Report{Findings: []catalog.Finding{
		{CheckID: "a", Severity: catalog.SeverityInfo, Subject: "/a", Message: "i"},
		{CheckID: "b", Severity: catalog.SeverityError, Subject: "/b", Message: "e", Fix: "f"},
		{CheckID: "c", Severity: catalog.SeverityWarning, Subject: "/b", Message: "w"},
	}}, render.TextOptions{Quiet: true})
	if want := "/b\n  [error] b: e\n          fix: f\n  [warn]  c: w\n"; q.String() != want {
		t.Errorf("quiet output:\n%q\nwant\n%q", q.String(), want)
	}
}

func ansiRE(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// The golden files must exist for every scenario in formatGoldens.
func TestFormatGoldensExist(t *testing.T) {
	for name := range formatGoldens {
		for _, f := range []string{"expected.sarif", "expected.junit.xml"} {
			if _, err := os.Stat(filepath.Join(fixturesDir, name, f)); err != nil {
				t.Errorf("%v (go test ./doctor -run TestFixtures -update)", err)
			}
		}
	}
}

// validateSARIFSchema checks SARIF output beyond checkSARIF: it parses as
// JSON and every object uses only SARIF 2.1.0 property names for its kind
// (the official schema is not shipped; checkSARIF checks what GitHub code
// scanning requires).
func validateSARIFSchema(t *testing.T, data []byte) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]string{
		"log":         {"$schema", "version", "runs"},
		"run":         {"tool", "originalUriBaseIds", "results", "properties"},
		"driver":      {"name", "informationUri", "version", "rules"},
		"rule":        {"id", "name", "shortDescription", "fullDescription", "help", "helpUri", "defaultConfiguration", "properties"},
		"result":      {"ruleId", "ruleIndex", "level", "message", "locations", "partialFingerprints", "properties"},
		"location":    {"physicalLocation", "logicalLocations"},
		"logical":     {"name", "fullyQualifiedName", "kind"},
		"artifactLoc": {"uri", "uriBaseId"},
	}
	only := func(what string, m any) {
		obj, ok := m.(map[string]any)
		if !ok {
			t.Errorf("SARIF %s is not an object: %v", what, m)
			return
		}
		for k := range obj {
			if !contains(allowed[what], k) {
				t.Errorf("SARIF %s has property %q, not in SARIF 2.1.0's %s", what, k, what)
			}
		}
	}
	only("log", doc)
	if doc["$schema"] != render.SARIFSchemaURI {
		t.Errorf("$schema %v", doc["$schema"])
	}
	for _, r := range doc["runs"].([]any) {
		only("run", r)
		run := r.(map[string]any)
		drv := run["tool"].(map[string]any)["driver"]
		only("driver", drv)
		for _, rule := range drv.(map[string]any)["rules"].([]any) {
			only("rule", rule)
			if lvl := rule.(map[string]any)["defaultConfiguration"].(map[string]any)["level"]; !contains([]string{"error", "warning", "note", "none"}, lvl.(string)) {
				t.Errorf("rule level %v", lvl)
			}
		}
		for _, b := range run["originalUriBaseIds"].(map[string]any) {
			only("artifactLoc", b)
		}
		for _, res := range run["results"].([]any) {
			only("result", res)
			for _, l := range res.(map[string]any)["locations"].([]any) {
				only("location", l)
				lm := l.(map[string]any)
				if p, ok := lm["physicalLocation"]; ok {
					only("artifactLoc", p.(map[string]any)["artifactLocation"])
				}
				if ll, ok := lm["logicalLocations"]; ok {
					for _, x := range ll.([]any) {
						only("logical", x)
					}
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// validateJUnitXSD validates JUnit output against doctor/schema/junit.xsd
// with xmllint. Without xmllint the check is skipped, except in CI
// (.ci/run installs libxml2-utils).
func validateJUnitXSD(t *testing.T, data []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint not found: install libxml2-utils")
		}
		t.Log("xmllint not found: JUnit output not validated against doctor/schema/junit.xsd")
		return
	}
	f := filepath.Join(t.TempDir(), "report.xml")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", "schema/junit.xsd", f).CombinedOutput()
	if err != nil {
		t.Errorf("JUnit output does not validate against doctor/schema/junit.xsd: %v\n%s", err, out)
	}
}

// The XSD must reject what Jenkins rejects.
func TestJUnitXSDRejects(t *testing.T) {
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("xmllint not installed")
	}
	for _, bad := range []string{
		`<testsuites><testsuite name="x" tests="1" failures="0"><testcase name="a"/></testsuite></testsuites>`,
		`<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase classname="a"/></testsuite></testsuites>`,
		`<testsuites><testsuite name="x" tests="1" failures="0" errors="0" time="soon"><testcase name="a"/></testsuite></testsuites>`,
	} {
		f := filepath.Join(t.TempDir(), "bad.xml")
		os.WriteFile(f, []byte(bad), 0o644)
		if out, err := exec.Command("xmllint", "--noout", "--schema", "schema/junit.xsd", f).CombinedOutput(); err == nil {
			t.Errorf("junit.xsd accepted %s\n%s", bad, out)
		}
	}
}
