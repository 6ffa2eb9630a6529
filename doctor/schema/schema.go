// Package schema ships the schemas of docker tls doctor's machine-readable
// reports: report.schema.json (the JSON report, JSON Schema draft 2020-12)
// and sarif-schema-2.1.0.json (OASIS SARIF 2.1.0, which the SARIF output is
// checked against).
package schema

import _ "embed"

// Report is the JSON Schema of the doctor's JSON report (schemaVersion "1").
//
//go:embed report.schema.json
var Report []byte

// ReportID is Report's $id.
const ReportID = "https://github.com/docker-tls/docker-tls/blob/main/doctor/schema/report.schema.json"
