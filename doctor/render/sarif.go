package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path"
	"strings"

	"github.com/docker-tls/docker-tls/doctor/catalog"
)

// ToolVersion is the version the SARIF report gives for docker-tls (the
// plugin sets it from its build version).
var ToolVersion = "dev"

// InformationURI is docker-tls's home page.
const InformationURI = "https://github.com/docker-tls/docker-tls"

// SARIFSchemaURI is the $schema written into SARIF reports.
const SARIFSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// sarifRootBase is the uriBaseId file locations are relative to: the
// --root the doctor read (file:/// for the machine itself).
const sarifRootBase = "ROOT"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                   `json:"tool"`
	OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
	Results            []sarifResult               `json:"results"`
	Properties         map[string]any              `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri"`
	DefaultConfiguration sarifRuleCfg   `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties,omitempty"`
}

type sarifRuleCfg struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	Message          *sarifText     `json:"message,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// SARIFLevel maps a severity to a SARIF level.
func SARIFLevel(s catalog.Severity) string {
	switch s {
	case catalog.SeverityError:
		return "error"
	case catalog.SeverityWarning:
		return "warning"
	}
	return "note"
}

// ruleName turns a check ID into the PascalCase name SARIF recommends
// (certsd-ca-named-cert → CertsdCaNamedCert).
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func sarifRuleFor(c catalog.Check) sarifRule {
	help := "Fix: " + c.Fix
	if c.Citation != "" {
		help += "\n\nSource: " + c.Citation
	}
	return sarifRule{
		ID:                   c.ID,
		Name:                 ruleName(c.ID),
		ShortDescription:     sarifText{Text: c.Title},
		FullDescription:      sarifText{Text: c.Doc},
		Help:                 sarifText{Text: help, Markdown: "**Fix:** " + c.Fix + "\n\n**Source:** " + c.Citation + "\n\n[" + c.ID + " in CHECKS.md](" + catalog.DocsURL(c.ID) + ")"},
		HelpURI:              catalog.DocsURL(c.ID),
		DefaultConfiguration: sarifRuleCfg{Level: SARIFLevel(c.Severity)},
		Properties:           map[string]any{"tags": []string{"docker", "tls"}},
	}
}

// SubjectURI returns the subject as a URI relative to the report's root
// ("etc/docker/certs.d/registry.example.com:5000/ca.cert") when it is a
// path, and ok=false when it is a host or anything else.
func SubjectURI(rep *catalog.Report, subject string) (string, bool) {
	if !strings.HasPrefix(subject, "/") {
		return "", false
	}
	rel := subject
	if root := strings.TrimSuffix(rep.Root, "/"); root != "" && strings.HasPrefix(subject, root+"/") {
		rel = strings.TrimPrefix(subject, root)
	}
	rel = strings.TrimPrefix(path.Clean(rel), "/")
	if rel == "" || rel == "." {
		return "", false
	}
	// url.URL escapes what must be escaped and writes "./" before a first
	// segment with a colon, so the result never parses as a scheme.
	return (&url.URL{Path: rel}).String(), true
}

// rootURI is the file: URI of the report's root, ending in a slash.
func rootURI(rep *catalog.Report) string {
	root := strings.TrimSuffix(rep.Root, "/")
	if root == "" {
		return "file:///"
	}
	if !strings.HasPrefix(root, "/") {
		root = "/" + root
	}
	return (&url.URL{Scheme: "file", Path: root + "/"}).String()
}

// logicalKind is the SARIF logical location kind of a subject that is not
// a path: "variable" for an environment variable (DOCKER_HOST), else
// "resource" (a host, a context).
func logicalKind(subject string) string {
	if subject != "" && strings.IndexFunc(subject, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') }) < 0 {
		return "variable"
	}
	return "resource"
}

// fingerprint identifies a result across runs: the check and the subject
// (messages carry dates that change every day).
func fingerprint(f *catalog.Finding) string {
	h := sha256.Sum256([]byte(f.CheckID + "\x00" + f.Subject))
	return hex.EncodeToString(h[:16])
}

// RenderSARIF writes the report as SARIF 2.1.0 (GitHub code scanning):
// one rule per catalog check, one result per finding. A finding about a
// file or directory is located at its path relative to the doctor's root
// (uriBaseId ROOT, which originalUriBaseIds maps to the root as a file:
// URI); a finding about a host gets a logical location instead, which code
// scanning lists without annotating a file.
func RenderSARIF(w io.Writer, rep *catalog.Report) error {
	rules := []sarifRule{}
	index := map[string]int{}
	for _, c := range catalog.List() {
		index[c.ID] = len(rules)
		rules = append(rules, sarifRuleFor(c))
	}
	results := []sarifResult{}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		ri, ok := index[f.CheckID]
		if !ok {
			// A finding of a check outside the catalog still needs a rule.
			ri = len(rules)
			index[f.CheckID] = ri
			rules = append(rules, sarifRuleFor(catalog.Check{ID: f.CheckID, Title: f.CheckID, Severity: f.Severity, Doc: f.CheckID, Fix: f.Fix}))
		}
		msg := f.Message
		if f.Fix != "" {
			msg += " Fix: " + f.Fix
		}
		loc := sarifLocation{}
		if uri, ok := SubjectURI(rep, f.Subject); ok {
			loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifactLoc{URI: uri, URIBaseID: sarifRootBase}}
		} else {
			loc.LogicalLocations = []sarifLogical{{Name: f.Subject, FullyQualifiedName: f.Subject, Kind: logicalKind(f.Subject)}}
		}
		props := map[string]any{"subject": f.Subject, "severity": string(f.Severity)}
		if len(f.Evidence) > 0 {
			props["evidence"] = f.Evidence
		}
		if f.DockerError != "" {
			props["dockerError"] = f.DockerError
		}
		if f.DockerPushError != "" {
			props["dockerPushError"] = f.DockerPushError
		}
		results = append(results, sarifResult{
			RuleID:              f.CheckID,
			RuleIndex:           ri,
			Level:               SARIFLevel(f.Severity),
			Message:             sarifText{Text: msg},
			Locations:           []sarifLocation{loc},
			PartialFingerprints: map[string]string{"dockerTlsFinding/v1": fingerprint(f)},
			Properties:          props,
		})
	}
	log := sarifLog{
		Schema:  SARIFSchemaURI,
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool:               sarifTool{Driver: sarifDriver{Name: "docker-tls", InformationURI: InformationURI, Version: ToolVersion, Rules: rules}},
			OriginalURIBaseIDs: map[string]sarifArtifactLoc{sarifRootBase: {URI: rootURI(rep)}},
			Results:            results,
			Properties:         map[string]any{"reportSchemaVersion": rep.SchemaVersion, "now": rep.Now},
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}
