//go:build linux

package e2e

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The daemon matrix
//
// Tests that involve a daemon run once per cell, as subtests named after the
// cell (TestX/dockerd-28.5-containerd), so a failure names the cell:
//
//   - dockerd-20.10: Debian's dockerd 20.10 (Go 1.19), its containerd 1.6
//     and ctr, and Debian's docker-registry (distribution 2.8);
//   - dockerd-28.5-classic: dockerd v28.5.2 built from moby's module source
//     with containerd v2.4.2, the classic (graphdriver) image store, and a
//     registry v3 built from distribution/v3;
//   - dockerd-28.5-containerd: the same binaries with the containerd image
//     store (--feature containerd-snapshotter, overlayfs snapshotter), where
//     pulls and pushes take registry TLS from containerd's hosts rules.
//
// The newer binaries are built by scripts/e2e/build-binaries.sh into
// $E2E_CACHE (default .cache/e2e at the repository root), keyed by the
// versions in versions.env; `make test` runs it first. A cell whose binaries
// are missing fails (never skips) with a message naming the cell.
//
// E2E_CELLS=name[,name] selects cells; the first selected cell is also the
// one that cell-independent daemon tests (TestParallelDockerds, ...) use.

//go:embed versions.env
var versionsEnv string

// Cell is one column of the daemon matrix.
type Cell struct {
	// Name is the subtest name: dockerd-20.10, dockerd-28.5-classic or
	// dockerd-28.5-containerd.
	Name string
	// Dockerd, Containerd, Ctr and Registry are the programs' paths.
	Dockerd, Containerd, Ctr, Registry string
	// ContainerdStore: dockerd runs with the containerd image store.
	ContainerdStore bool
	// GoTLS121 is true when the cell's servers (dockerd and the registry)
	// are built with Go ≥ 1.21, whose TLS server answers a missing client
	// certificate with the "certificate required" alert and a client
	// certificate from an unknown CA with "unknown certificate authority"
	// (older Go: "bad certificate" for both).
	GoTLS121 bool
	// ContainerdV2 selects the containerd config dialect and plugin names.
	ContainerdV2 bool

	missing []string // why the cell cannot run
}

// Versions of the source-built binaries (from versions.env).
var Versions = parseVersions(versionsEnv)

func parseVersions(s string) map[string]string {
	v := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, val, ok := strings.Cut(line, "="); ok {
			v[k] = val
		}
	}
	return v
}

// CacheDir is where build-binaries.sh puts the binaries.
func CacheDir() string {
	if d := os.Getenv("E2E_CACHE"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", ".cache", "e2e")
}

// AllCellNames lists the cells in matrix order.
var AllCellNames = []string{"dockerd-20.10", "dockerd-28.5-classic", "dockerd-28.5-containerd"}

var (
	cellsOnce sync.Once
	cells     []*Cell
	cellsErr  string
)

func cached(name, versionKey, binary string) string {
	return filepath.Join(CacheDir(), name+"-"+Versions[versionKey], binary)
}

// builtCell is a cell that runs the binaries build-binaries.sh makes.
func builtCell(name string, containerdStore bool) *Cell {
	c := &Cell{Name: name, ContainerdStore: containerdStore, GoTLS121: true, ContainerdV2: true,
		Dockerd:    cached("dockerd", "DOCKERD_VERSION", "dockerd"),
		Containerd: cached("containerd", "CONTAINERD_VERSION", "containerd"),
		Ctr:        cached("containerd", "CONTAINERD_VERSION", "ctr"),
		Registry:   cached("registry", "REGISTRY_VERSION", "registry"),
	}
	for _, p := range []string{c.Dockerd, c.Containerd, c.Ctr, c.Registry} {
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			c.missing = append(c.missing, p)
		}
	}
	return c
}

func resolveCells() {
	toolsOnce.Do(resolveTools)
	all := map[string]*Cell{}
	old := &Cell{Name: "dockerd-20.10",
		Dockerd: toolPaths["dockerd"], Containerd: toolPaths["containerd"], Ctr: toolPaths["ctr"], Registry: toolPaths["docker-registry"]}
	for _, n := range []string{"dockerd", "containerd", "ctr", "docker-registry"} {
		if toolPaths[n] == "" {
			old.missing = append(old.missing, n+" (Debian package; .ci/run installs it)")
		}
	}
	all[old.Name] = old
	all["dockerd-28.5-classic"] = builtCell("dockerd-28.5-classic", false)
	all["dockerd-28.5-containerd"] = builtCell("dockerd-28.5-containerd", true)

	names := AllCellNames
	if sel := strings.TrimSpace(os.Getenv("E2E_CELLS")); sel != "" {
		names = nil
		for _, n := range strings.Split(sel, ",") {
			n = strings.TrimSpace(n)
			if all[n] == nil {
				cellsErr = fmt.Sprintf("E2E_CELLS names an unknown cell %q (cells: %s)", n, strings.Join(AllCellNames, ", "))
				return
			}
			names = append(names, n)
		}
	}
	for _, n := range names {
		cells = append(cells, all[n])
	}
}

// Cells returns the selected cells (E2E_CELLS, default all).
func Cells(t testing.TB) []*Cell {
	t.Helper()
	cellsOnce.Do(resolveCells)
	if cellsErr != "" {
		t.Fatalf("e2e: %s", cellsErr)
	}
	return cells
}

// DefaultCell is the first selected cell; cell-independent tests that need
// a daemon use it. It fails the test if the cell cannot run.
func DefaultCell(t testing.TB) *Cell {
	t.Helper()
	c := Cells(t)[0]
	c.Require(t)
	return c
}

// Require fails the test, naming the cell, when the cell's binaries are
// missing.
func (c *Cell) Require(t testing.TB) {
	t.Helper()
	Require(t)
	if len(c.missing) > 0 {
		t.Fatalf("e2e: cell %s cannot run: missing %s. Build them with scripts/e2e/build-binaries.sh (`make test` and `make e2e` run it; it needs the Go module proxy), or select other cells with E2E_CELLS=%s.",
			c.Name, strings.Join(c.missing, ", "), AllCellNames[0])
	}
}

// ForEachCell runs f as a subtest named after each selected cell.
func ForEachCell(t *testing.T, f func(t *testing.T, c *Cell)) {
	t.Helper()
	for _, c := range Cells(t) {
		t.Run(c.Name, func(t *testing.T) {
			c.Require(t)
			f(t, c)
		})
	}
}
