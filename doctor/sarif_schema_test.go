package doctor

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/doctor/render"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// officialSARIFSchema is the OASIS SARIF 2.1.0 JSON schema (errata01) as
// go-sarif, a test dependency, ships it in its source: read from the module
// at test time rather than copied into this repository.
func officialSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	_ = sarif.NewReport // keeps the module required by go.mod
	// go mod download (not go list -m, which names no directory when the
	// module cache lacks the module, e.g. for another user).
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/owenrumney/go-sarif/v3").Output()
	if err != nil {
		t.Fatalf("locating go-sarif (go mod download): %v", err)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("locating go-sarif: go mod download -json gave %q (%v)", out, err)
	}
	src, err := os.ReadFile(filepath.Join(mod.Dir, "pkg", "report", "v210", "sarif", "schema.go"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	i, j := strings.IndexByte(s, '`'), strings.LastIndexByte(s, '`')
	if i < 0 || j <= i || !strings.Contains(s[i:j], "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema") {
		t.Fatal("go-sarif's schema.go no longer holds the SARIF 2.1.0 schema in a raw string")
	}
	return compileSchema(t, "sarif-schema-2.1.0.json", []byte(s[i+1:j]))
}

// TestSARIFOfficialSchema validates real SARIF output, byte for byte,
// against the official SARIF 2.1.0 schema: every fixture scenario and a
// report with a live finding.
func TestSARIFOfficialSchema(t *testing.T) {
	sch := officialSARIFSchema(t)
	validate := func(name string, out []byte) {
		t.Helper()
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s: SARIF does not validate against the 2.1.0 schema: %v", name, err)
		}
	}
	for _, name := range fixtureNames(t) {
		root := materialise(t, name)
		rep := runFixtureOpts(t, root, fixtureEnv(t, name), true, fixtureOptions(t, name))
		var b bytes.Buffer
		if err := render.RenderSARIF(&b, rep); err != nil {
			t.Fatal(err)
		}
		validate(name, b.Bytes())
	}
	live := &catalog.Report{SchemaVersion: catalog.SchemaVersion}
	lt := []LiveTarget{{Target: probe.Target{Role: probe.RoleDaemon, Host: "127.0.0.1", Port: 1}, Client: probe.Client{TLS: true}}}
	AddLive(live, lt, Probe(t.Context(), lt, probe.Options{}, 1))
	var b bytes.Buffer
	if err := render.RenderSARIF(&b, live); err != nil {
		t.Fatal(err)
	}
	validate("live", b.Bytes())
	// The schema does reject a broken document.
	inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}`))
	if sch.Validate(inst) == nil {
		t.Error("a run whose driver has no name validated")
	}
}
