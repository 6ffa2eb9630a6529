package catalog

import (
	"fmt"
	"strings"

	"github.com/docker-tls/docker-tls/doctor/probe"
)

// explainedBy maps a live outcome to the static checks that name its
// cause in a file: the probe sees the symptom (docker's line), the static
// check the file behind it, and the report tells one story.
var explainedBy = map[string][]string{
	string(probe.OutcomeClientConfig): {IDTLSFileMissing, IDKeyMismatch, IDWrongFormatDER, IDWrongFormatUnknown, IDFilesSwapped,
		IDKeyEncrypted, IDFileUnreadable, IDPEMTruncated},
	string(probe.OutcomeClientCertMissing):     {IDTLSFileMissing},
	string(probe.OutcomeServerNameMismatch):    {IDHostNotInSANs},
	string(probe.OutcomeServerCNOnly):          {IDCertCNOnly},
	string(probe.OutcomeServerExpired):         {IDCertExpired},
	string(probe.OutcomeServerNotYetValid):     {IDCertNotYetValid},
	string(probe.OutcomeServerWrongEKU):        {IDEKUServerMissing},
	string(probe.OutcomeServerCACannotSign):    {IDCANotCA},
	string(probe.OutcomeServerUnknownCA):       {IDMissingIntermediate, IDCAMismatchServer},
	string(probe.OutcomeServerChainIncomplete): {IDMissingIntermediate},
	string(probe.OutcomeClientCertNotAccepted): {IDCAMismatchClient},
	string(probe.OutcomeClientCertUnknownCA):   {IDCAMismatchClient},
	string(probe.OutcomeClientCertRejected):    {IDCAMismatchClient},
	string(probe.OutcomeClientCertWrongEKU):    {IDEKUClientMissing},
	string(probe.OutcomeClientCertExpired):     {IDCertExpired},
}

// explainer is the static finding that explains live finding f, or -1.
// A host-not-in-sans finding explains only the target it names.
func explainer(fs []Finding, f *Finding) int {
	if f.Severity != SeverityError {
		return -1
	}
	for _, id := range explainedBy[f.CheckID] {
		for i := range fs {
			c := &fs[i]
			if c.CheckID != id || c.Setup != "" || isLiveID(c.CheckID) || !c.Severity.AtOrAbove(SeverityWarning) {
				continue
			}
			if id == IDHostNotInSANs && c.Subject != f.Subject && !strings.Contains(f.Message, fmt.Sprintf("%q", c.Evidence["host"])) {
				continue
			}
			return i
		}
	}
	return -1
}

// OrderByCause puts the findings that explain others first, across live
// and static findings: a client setting (DOCKER_TLS_VERIFY=0, a missing
// context) before everything; then each live failure's file-level cause
// right before it. The explained findings say so.
func OrderByCause(fs []Finding) []Finding {
	fs = CausesFirst(fs)
	var out []Finding
	used := map[int]bool{}
	for i := range fs {
		if used[i] {
			continue
		}
		f := fs[i]
		if isLiveID(f.CheckID) {
			if j := explainer(fs, &f); j >= 0 && !used[j] {
				used[j] = true
				out = append(out, fs[j])
				f.Message += fmt.Sprintf(" (explained by %s, above)", fs[j].CheckID)
			}
		}
		used[i] = true
		out = append(out, f)
	}
	return out
}

// CausesFirst moves the client settings that explain other findings (an
// environment variable, a missing context) to the front, and has each
// consequence (a missing ca.pem) name its cause: one story, cause first.
func CausesFirst(fs []Finding) []Finding {
	var cs, rest []Finding
	for _, f := range fs {
		if causes[f.CheckID] && f.Severity.AtOrAbove(SeverityWarning) {
			cs = append(cs, f)
		} else {
			rest = append(rest, f)
		}
	}
	if len(cs) == 0 {
		return fs
	}
	for i := range rest {
		if consequences[rest[i].CheckID] && !strings.Contains(rest[i].Message, " (a consequence of ") {
			rest[i].Message += fmt.Sprintf(" (a consequence of %s, above)", cs[0].CheckID)
		}
	}
	return append(cs, rest...)
}
