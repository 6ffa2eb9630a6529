//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/pki/loader"
)

// cellDockerdVersion is `dockerd --version`'s number ("20.10.24+dfsg1").
func cellDockerdVersion(t *testing.T, c *Cell) string {
	t.Helper()
	out, err := exec.Command(c.Dockerd, "--version").Output()
	if err != nil {
		t.Fatalf("cell %s: dockerd --version: %v", c.Name, err)
	}
	f := strings.Fields(strings.TrimPrefix(string(out), "Docker version "))
	if len(f) == 0 {
		t.Fatalf("cell %s: dockerd --version printed %q", c.Name, out)
	}
	return strings.TrimSuffix(f[0], ",")
}

// badMirrors are registry-mirrors entries dockerd refuses, one per rule.
var badMirrors = []string{"mirror.example:5000", "10.0.0.1:5000", "ftp://mirror.example", "https://mirror.example/?a=1", "https://u:secret@mirror.example"}

// TestRegistryMirrorsReal proves pki/loader's registry-mirrors model
// against each cell's dockerd: the refusal dockerd prints for each bad
// entry (flag, and daemon.json where dockerd can check a file without
// starting: --validate, Docker 23+), and /info's RegistryConfig.Mirrors of
// a running dockerd for a list with duplicates and an http:// mirror.
func TestRegistryMirrorsReal(t *testing.T) {
	Require(t)
	ForEachCell(t, func(t *testing.T, c *Cell) {
		version := cellDockerdVersion(t, c)
		ns := NewNamespace(t)
		for _, bad := range badMirrors {
			_, merr := loader.LoadMirrors(version, []string{bad})
			if merr == nil {
				t.Fatalf("cell %s: the model accepts %q", c.Name, bad)
			}
			out, _ := ns.Command(c.Dockerd, "--registry-mirror="+bad).CombinedOutput()
			want := `invalid argument "` + bad + `" for "--registry-mirror" flag: ` + merr.Error()
			if !strings.Contains(string(out), want) {
				t.Errorf("cell %s: dockerd --registry-mirror=%s printed\n%s\nthe model says\n%s", c.Name, bad, out, want)
			}
			if strings.HasPrefix(version, "20.") {
				continue // no --validate: 20.10 checks daemon.json's mirrors only when the daemon starts
			}
			cfg := filepath.Join(t.TempDir(), "daemon.json")
			data, _ := json.Marshal(map[string]any{"registry-mirrors": []string{bad}})
			if err := os.WriteFile(cfg, data, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := ns.Command(c.Dockerd, "--validate", "--config-file", cfg).CombinedOutput()
			if err == nil || !strings.Contains(string(out), merr.Error()) {
				t.Errorf("cell %s: dockerd --validate with registry-mirrors [%q]: %v\n%s\nthe model says %s", c.Name, bad, err, out, merr)
			}
			t.Logf("cell %s: daemon.json %q: %s", c.Name, bad, strings.TrimSpace(string(out)))
		}

		entries := []string{"https://mirror.example:5000", "http://10.0.0.1:5001", "https://mirror.example:5000/", "HTTPS://Upper.Example", "http://10.0.0.1:5001"}
		ms, err := loader.LoadMirrors(version, entries)
		if err != nil {
			t.Fatalf("cell %s: the model refuses %q: %v", c.Name, entries, err)
		}
		var want []string
		for _, m := range ms {
			want = append(want, m.URL)
		}
		writeDaemonJSON(t, ns, map[string]any{"hosts": []string{"unix:///var/run/docker.sock"}, "registry-mirrors": entries})
		d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns})
		out, stderr, code := d.Docker("info", "--format", "{{json .RegistryConfig.Mirrors}}")
		if code != 0 {
			t.Fatalf("cell %s: docker info: %s", c.Name, stderr)
		}
		var got []string
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("cell %s: docker info printed %q: %v", c.Name, out, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("cell %s: /info RegistryConfig.Mirrors %q, the model %q", c.Name, got, want)
		}
	})
}
