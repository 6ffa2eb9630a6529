package doctor

import (
	"testing"

	"github.com/docker-tls/docker-tls/pki/loader"
)

func TestFactsFromInfo(t *testing.T) {
	f := factsFromInfo("28.5.2", "overlayfs", [][2]string{{"driver-type", "io.containerd.snapshotter.v1"}})
	if !f.InfoKnown || f.Major != 28 || f.DriverType != "io.containerd.snapshotter.v1" || loader.SelectDockerd(f).Rules != loader.RulesContainerd {
		t.Errorf("containerd store: %+v", f)
	}
	f = factsFromInfo("20.10.24+dfsg1", "overlay2", [][2]string{{"Backing Filesystem", "extfs"}, {"Supports d_type", "true"}})
	if f.Major != 20 || f.DriverType != "" || loader.SelectDockerd(f).Rules != loader.RulesMoby {
		t.Errorf("graphdriver: %+v", f)
	}
	for v, want := range map[string]int{"28.5.2": 28, "v29.0.0": 29, "20.10.24+dfsg1": 20, "": 0, "dev": 0, "-1.0": 0} {
		if got := MajorVersion(v); got != want {
			t.Errorf("MajorVersion(%q) = %d, want %d", v, got, want)
		}
	}
}
