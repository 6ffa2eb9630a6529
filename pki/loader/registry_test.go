package loader

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func mapTree(files map[string]string) Tree {
	m := fstest.MapFS{}
	for k, v := range files {
		if strings.HasSuffix(k, "/") {
			m[strings.TrimSuffix(k, "/")] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
			continue
		}
		m[k] = &fstest.MapFile{Data: []byte(v), Mode: 0o644}
	}
	return Tree{FS: m, Root: "/"}
}

func TestMobyWordingByVersion(t *testing.T) {
	tr := mapTree(map[string]string{"d/ca.cert": "x"})
	if got := MobyCertsDir(tr, "d", Moby24).Err.Error(); got != "missing key ca.key for client certificate ca.cert. CA certificates must use the extension .crt" {
		t.Errorf("24+: %q", got)
	}
	if got := MobyCertsDir(tr, "d", Moby20).Err.Error(); got != "missing key ca.key for client certificate ca.cert. Note that CA certificates should use the extension .crt" {
		t.Errorf("20.10: %q", got)
	}
	tr = mapTree(map[string]string{"d/client.key": "x"})
	if got := MobyCertsDir(tr, "d", Moby20).Err.Error(); got != "Missing client certificate client.cert for key client.key" {
		t.Errorf("20.10 key: %q", got)
	}
	if got := ContainersCertsDir(tr, "d").Err.Error(); got != "missing client certificate client.cert for key client.key" {
		t.Errorf("containers key: %q", got)
	}
	if r := MobyCertsDir(tr, "missing", Moby24); r.Err != nil || r.Dir != "" {
		t.Errorf("missing dir: %+v", r)
	}
}

func TestMobyEmptyCRTSkipped(t *testing.T) {
	r := MobyCertsDir(mapTree(map[string]string{"d/a.crt": "", "d/b.crt": "-----BEGIN TRUSTED CERTIFICATE-----\nAAAA\n-----END TRUSTED CERTIFICATE-----\n", "d/README": "x"}), "d", Moby24)
	if r.Err != nil || !r.SystemRoots || len(r.CAs) != 2 || len(r.Roots()) != 0 {
		t.Fatalf("%+v", r)
	}
	if r.CAs[0].Skipped != "empty file" || !strings.Contains(r.CAs[1].Skipped, "TRUSTED CERTIFICATE") {
		t.Errorf("reasons: %q / %q", r.CAs[0].Skipped, r.CAs[1].Skipped)
	}
	if len(r.Skipped) != 1 || r.Skipped[0].Path != "d/README" {
		t.Errorf("skipped: %+v", r.Skipped)
	}
}

func TestHostDirNaming(t *testing.T) {
	if got := MobyHostDir("etc/docker/certs.d", "reg:5000", "windows"); got != "etc/docker/certs.d/reg5000" {
		t.Errorf("windows moby: %s", got)
	}
	if got := MobyHostDir("etc/docker/certs.d", "reg:5000", "linux"); got != "etc/docker/certs.d/reg:5000" {
		t.Errorf("linux moby: %s", got)
	}
	want := []string{"c/reg_5000_", "c/reg:5000", "c/_default"}
	if got := ContainerdHostPaths("c", "reg:5000", "linux"); !reflect.DeepEqual(got, want) {
		t.Errorf("containerd linux: %v", got)
	}
	want = []string{"c/reg_5000_", "c/reg5000", "c/_default"}
	if got := ContainerdHostPaths("c", "reg:5000", "windows"); !reflect.DeepEqual(got, want) {
		t.Errorf("containerd windows: %v", got)
	}
	if got := ContainerdHostPaths("c", "reg", "linux"); !reflect.DeepEqual(got, []string{"c/reg", "c/_default"}) {
		t.Errorf("no port: %v", got)
	}
}

func TestContainersFirstDirWins(t *testing.T) {
	tr := mapTree(map[string]string{
		"etc/containers/certs.d/reg:5000/":   "",
		"etc/docker/certs.d/reg:5000/ca.crt": "x",
	})
	roots := ContainersCertDirs("home/a")
	if roots[0] != "home/a/.config/containers/certs.d" {
		t.Fatalf("roots: %v", roots)
	}
	dir, err := ContainersHostDir(tr, roots, "reg:5000")
	if err != nil || dir != "etc/containers/certs.d/reg:5000" {
		t.Errorf("dir %q err %v: the first existing directory wins, even empty", dir, err)
	}
}

func TestContainerdVersionsDisagree(t *testing.T) {
	// Two of containerd's docs examples have no [host] table: 1.x rejects
	// the file and falls back; 2.x reads it.
	tr := mapTree(map[string]string{"c/reg/hosts.toml": "server = \"https://reg\"\nca = \"ca.pem\"\n"})
	v1 := ContainerdHostDirConfig(tr, "c/reg", Containerd1)
	v2 := ContainerdHostDirConfig(tr, "c/reg", Containerd2)
	if v1.DecodeErr == nil || v1.DecodeErr.Error() != "invalid `host` tree" || !v1.Fallback {
		t.Errorf("1.x: %+v", v1)
	}
	if v2.DecodeErr != nil || v2.Fallback || len(v2.Hosts) != 1 || v2.Hosts[0].CAFiles[0] != "c/reg/ca.pem" {
		t.Errorf("2.x: %+v", v2)
	}
	// Inline host tables: dropped by 2.x, read by 1.x.
	tr = mapTree(map[string]string{"c/reg/hosts.toml": "host = { \"https://m\" = { ca = \"ca.pem\" } }\n"})
	v2 = ContainerdHostDirConfig(tr, "c/reg", Containerd2)
	if !reflect.DeepEqual(v2.DroppedHosts, []string{"https://m"}) || len(v2.Hosts) != 1 {
		t.Errorf("2.x inline: %+v", v2)
	}
	v1 = ContainerdHostDirConfig(tr, "c/reg", Containerd1)
	if len(v1.Hosts) != 2 || v1.Hosts[0].Host != "m" {
		t.Errorf("1.x inline: %+v", v1)
	}
}

func TestContainerdSemanticErrors(t *testing.T) {
	for toml, want := range map[string]string{
		"[host.\"https://r\"]\ncapabilities = [\"pull\", \"fetch\"]\n": "unknown capability fetch",
		"[host.\"https://r\"]\ndial_timeout = \"5\"\n":                 `time: missing unit in duration "5"`,
		"[host.\"https://r\"]\nclient = [[\"c.pem\"]]\n":               `invalid pair [c.pem] for "client"`,
		"[host.\"https://r\"]\nheader = { x = 1 }\n":                   `invalid type 1 for header "x"`,
		"[host.\"https://r\"]\nskip_verify = \"true\"\n":               "toml: cannot decode TOML string into struct field config.hostFileConfig.SkipVerify of type bool",
	} {
		r := ContainerdHostDirConfig(mapTree(map[string]string{"c/r/hosts.toml": toml}), "c/r", Containerd2)
		if r.DecodeErr == nil || r.DecodeErr.Error() != want || !r.Fallback {
			t.Errorf("%q: decode error %v, want %q", toml, r.DecodeErr, want)
		}
	}
}

func TestSelectDockerd(t *testing.T) {
	on, off := true, false
	for _, c := range []struct {
		f    DockerdFacts
		want DockerdRules
	}{
		{DockerdFacts{}, RulesUnknown},
		{DockerdFacts{Major: 28}, RulesMoby},
		{DockerdFacts{Major: 29}, RulesContainerd},
		{DockerdFacts{Major: 29, Snapshotter: &off}, RulesMoby},
		{DockerdFacts{Major: 27, Snapshotter: &on}, RulesContainerd},
		{DockerdFacts{Major: 29, InfoKnown: true, DriverType: ""}, RulesMoby},
		{DockerdFacts{Snapshotter: &off, InfoKnown: true, DriverType: "io.containerd.snapshotter.v1"}, RulesContainerd},
	} {
		if got := SelectDockerd(c.f); got.Rules != c.want || got.Why == "" {
			t.Errorf("%+v: %v (%s), want %v", c.f, got.Rules, got.Why, c.want)
		}
	}
	// The reason names the daemon's answer, or where the version came from.
	for f, want := range map[*DockerdFacts]string{
		{Major: 28, Version: "28.5.2", Driver: "overlayfs", InfoKnown: true, DriverType: "io.containerd.snapshotter.v1"}: "the daemon (Docker 28.5.2, storage driver overlayfs) reports the containerd image store (driver-type io.containerd.snapshotter.v1 in /info)",
		{Major: 20, Version: "20.10.24", Driver: "overlay2", InfoKnown: true}:                                            "the daemon (Docker 20.10.24, storage driver overlay2) reports a graphdriver image store in /info",
		{Major: 29, Source: "dockerd --version: 29.0.1"}:                                                                 "Docker 29 (dockerd --version: 29.0.1) uses the containerd image store by default (unless upgraded from a graphdriver install)",
	} {
		if got := SelectDockerd(*f).Why; got != want {
			t.Errorf("%+v: why %q, want %q", *f, got, want)
		}
	}
	if SelectDockerd(DockerdFacts{Major: 20}).Moby != Moby20 {
		t.Error("20.10 wording")
	}
}

func TestParseContainerdVersion(t *testing.T) {
	for out, want := range map[string]ContainerdVersion{
		"containerd github.com/containerd/containerd v1.6.20~ds1 1.6.20~ds1-1+b1\n": Containerd1,
		"ctr containerd.io 1.7.27\n":                       Containerd1,
		"ctr github.com/containerd/containerd/v2 v2.1.4\n": Containerd2,
		"bash: containerd: command not found":              0,
	} {
		if got := ParseContainerdVersion(out); got != want {
			t.Errorf("%q: %v, want %v", out, got, want)
		}
	}
}
