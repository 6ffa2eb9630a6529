//go:build linux

package e2e

import (
	"fmt"
	"os"
	"os/exec"
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

// TestFailureReportNamesTestAndDaemonLog runs this test binary again with
// a test that starts a dockerd and then fails, and checks what a CI log
// keeps of it: the failing test's name (with its cell) in the harness's
// last line, and dockerd's last log lines under that name.
func TestFailureReportNamesTestAndDaemonLog(t *testing.T) {
	if os.Getenv("E2E_DELIBERATE_FAILURE") == "1" {
		t.Skip("the child's own run of this test")
	}
	Require(t)
	c := DefaultCell(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeliberateFailure$", "-test.count=1")
	cmd.Env = append(os.Environ(), "E2E_DELIBERATE_FAILURE=1", "E2E_CELLS="+c.Name)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the deliberately failing test passed:\n%s", out)
	}
	s := string(out)
	name := "TestDeliberateFailure/" + c.Name
	for _, want := range []string{
		"e2e: " + name + " FAILED; last lines of its dockerd log (",
		"API listen on /var/run/docker.sock",
		"e2e: 1 failed: " + name + "\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the failure report lacks %q:\n%s", want, s)
		}
	}
	if i := strings.LastIndex(strings.TrimSpace(s), "e2e: 1 failed: "); i < 0 || strings.Count(s[i:], "\n") > 3 {
		t.Errorf("the failed tests are not named at the end of the output:\n%s", s)
	}
}

// TestDeliberateFailure fails on purpose, only inside
// TestFailureReportNamesTestAndDaemonLog's child process.
func TestDeliberateFailure(t *testing.T) {
	if os.Getenv("E2E_DELIBERATE_FAILURE") != "1" {
		t.Skip("runs only as TestFailureReportNamesTestAndDaemonLog's child")
	}
	ForEachCell(t, func(t *testing.T, c *Cell) {
		ns := NewNamespace(t)
		writeDaemonJSON(t, ns, map[string]any{"hosts": []string{"unix:///var/run/docker.sock"}})
		StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
		t.Error("deliberate failure")
	})
}
