package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/doctor/catalog"
)

// A registry's live finding shows docker pull's line and docker push's,
// each labelled; a daemon's shows docker's line; an insecure registry's,
// whose pull line is not modelled, shows push's alone.
func TestRenderTextDockerLines(t *testing.T) {
	f := func(pull, push string) catalog.Finding {
		return catalog.Finding{CheckID: "probe-server-unknown-authority", Severity: catalog.SeverityError, Subject: "reg:5000", Message: "m", Fix: "f",
			DockerError: pull, DockerPushError: push}
	}
	for _, tc := range []struct {
		name      string
		f         catalog.Finding
		want, not []string
	}{
		{"registry", f("Error response from daemon: Get x", "Get x"),
			[]string{"\n          docker pull: Error response from daemon: Get x\n          docker push: Get x\n"}, []string{"docker: "}},
		{"daemon", f("error during connect: y", ""), []string{"\n          docker: error during connect: y\n"}, []string{"docker pull:", "docker push:"}},
		{"push only", f("", "unknown: z"), []string{"\n          docker push: unknown: z\n"}, []string{"docker pull:", "docker: "}},
	} {
		var b bytes.Buffer
		if err := RenderText(&b, &catalog.Report{Findings: []catalog.Finding{tc.f}}); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: text lacks %q:\n%s", tc.name, w, b.String())
			}
		}
		for _, n := range tc.not {
			if strings.Contains(b.String(), n) {
				t.Errorf("%s: text has %q:\n%s", tc.name, n, b.String())
			}
		}
	}
}
