package catalog

import (
	"bytes"
	"encoding/json"
)

// ChecksURL is the published check catalog (CHECKS.md); each check has an
// anchor named after its ID.
const ChecksURL = "https://github.com/docker-tls/docker-tls/blob/main/CHECKS.md"

// DocsURL links to the CHECKS.md section of check id.
func DocsURL(id string) string { return ChecksURL + "#" + id }

// Title is the catalog title of the finding's check (its ID when the check
// is not in the catalog).
func (f Finding) Title() string {
	if c, ok := catalogByID[f.CheckID]; ok {
		return c.Title
	}
	return f.CheckID
}

// findingJSON is a finding as the JSON report writes it (schemaVersion
// "2", doctor/schema/report.schema.json). "id" and "checkId" carry the same
// check ID: "checkId" was the only one before "id" was added.
type findingJSON struct {
	ID          string            `json:"id"`
	CheckID     string            `json:"checkId"`
	Severity    Severity          `json:"severity"`
	Title       string            `json:"title"`
	Subject     string            `json:"subject"`
	Message     string            `json:"message"`
	Fix         string            `json:"fix"`
	Docs        string            `json:"docs"`
	Evidence    map[string]string `json:"evidence,omitempty"`
	DockerError string            `json:"dockerError,omitempty"`
	DockerPush  string            `json:"dockerPushError,omitempty"`
	Setup       string            `json:"setup,omitempty"`
}

// MarshalJSON adds the catalog's title and the docs link to the finding.
func (f Finding) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // messages quote "<host[:port]>"; the report encoder decides
	err := enc.Encode(findingJSON{
		ID: f.CheckID, CheckID: f.CheckID, Severity: f.Severity, Title: f.Title(),
		Subject: f.Subject, Message: f.Message, Fix: f.Fix, Docs: DocsURL(f.CheckID),
		Evidence: f.Evidence, DockerError: f.DockerError, DockerPush: f.DockerPushError, Setup: f.Setup,
	})
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

// UnmarshalJSON reads a finding written by MarshalJSON (or by earlier
// versions, which only had "checkId").
func (f *Finding) UnmarshalJSON(b []byte) error {
	var j findingJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	id := j.CheckID
	if id == "" {
		id = j.ID
	}
	*f = Finding{CheckID: id, Severity: j.Severity, Subject: j.Subject, Message: j.Message, Fix: j.Fix, Evidence: j.Evidence, DockerError: j.DockerError, DockerPushError: j.DockerPush, Setup: j.Setup}
	return nil
}
