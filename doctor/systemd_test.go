package doctor

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/docker-tls/docker-tls/doctor/catalog"
)

// The doctor reads docker.service from every directory install daemon
// reads it from (daemoncfg's one list), /usr/local/lib/systemd/system
// included, and its fix keeps the unit's other arguments, as the drop-in
// of install daemon does.
func TestDoctorReadsUnitFromUsrLocalLib(t *testing.T) {
	fsys := fstest.MapFS{
		"usr/local/lib/systemd/system/docker.service": {Data: []byte("[Service]\nType=notify\nExecStart=/usr/local/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS\n")},
		"etc/docker/daemon.json":                      {Data: []byte(`{"hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"]}`)},
	}
	rep, err := Run(Options{FS: fsys, Env: map[string]string{"HOME": "/root"}, Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.CheckID != string(catalog.IDDaemonHostsConflict) {
			continue
		}
		if !strings.Contains(f.Message, "(flags from ExecStart in /usr/local/lib/systemd/system/docker.service)") ||
			!strings.Contains(f.Fix, `printf '[Service]\nExecStart=\nExecStart=/usr/local/bin/dockerd --containerd=/run/containerd/containerd.sock $DOCKER_OPTS\n'`) {
			t.Errorf("finding: %s\nfix: %s", f.Message, f.Fix)
		}
		return
	}
	t.Errorf("no %s finding for a unit in /usr/local/lib/systemd/system: %+v", catalog.IDDaemonHostsConflict, rep.Findings)
}
