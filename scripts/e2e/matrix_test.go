package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fatalRecorder is a testing.TB whose Fatalf records the message and stops
// the calling function (by panicking with itself).
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}

func (f *fatalRecorder) run(fn func()) {
	defer func() {
		if r := recover(); r != nil && r != f {
			panic(r)
		}
	}()
	fn()
}

// TestCellWithoutBinariesFails: a cell whose binaries were not built fails
// (never skips), and the message names the cell, the missing file and how to
// build it.
func TestCellWithoutBinariesFails(t *testing.T) {
	Require(t)
	t.Setenv("E2E_CACHE", t.TempDir()) // empty: nothing built
	c := builtCell("dockerd-28.5-classic", false)
	rec := &fatalRecorder{TB: t}
	rec.run(func() { c.Require(rec) })
	want := []string{"cell dockerd-28.5-classic cannot run: missing " + filepath.Join(os.Getenv("E2E_CACHE"), "dockerd-"+Versions["DOCKERD_VERSION"], "dockerd"),
		"scripts/e2e/build-binaries.sh", "E2E_CELLS=dockerd-20.10"}
	for _, w := range want {
		if !strings.Contains(rec.msg, w) {
			t.Errorf("message %q lacks %q", rec.msg, w)
		}
	}
	if t.Skipped() {
		t.Error("skipped")
	}
}

// TestVersionsMatchBuildScript: the harness and build-binaries.sh read the
// same pinned versions.
func TestVersionsMatchBuildScript(t *testing.T) {
	for _, k := range []string{"DOCKERD_VERSION", "CONTAINERD_VERSION", "REGISTRY_VERSION"} {
		if !strings.HasPrefix(Versions[k], "v") {
			t.Errorf("versions.env: %s = %q", k, Versions[k])
		}
	}
	script, err := os.ReadFile("build-binaries.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), ". scripts/e2e/versions.env") {
		t.Error("build-binaries.sh does not source versions.env")
	}
}
