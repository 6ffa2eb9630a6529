package doctor

import (
	"net"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/daemoncfg"
)

// A dockerd started with flags only (no unit, no daemon.json hosts or TLS
// keys): the doctor reads the running process's command line, finds the
// TLS files it names and checks them against the local target.
func TestRunningDockerdFlagsOnly(t *testing.T) {
	ca, err := pki.NewCA(pki.Request{CommonName: "run CA", Now: fixtureNow.AddDate(0, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := (&pki.CA{Cert: ca.Cert, Key: ca.Key}).Issue(pki.Request{Role: pki.RoleServer, CommonName: "dk", DNSNames: []string{"dk.example"}, IPs: []net.IP{net.ParseIP("10.0.0.5")}, Now: fixtureNow.AddDate(0, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := srv.KeyPEM()
	caKey, _ := ca.KeyPEM()
	fsys := fstest.MapFS{
		"srv/tls/ca.pem":         {Data: ca.CertPEM()},
		"srv/tls/ca-key.pem":     {Data: caKey, Mode: 0o600},
		"srv/tls/cert.pem":       {Data: srv.CertPEM()},
		"srv/tls/key.pem":        {Data: key, Mode: 0o600},
		"etc/docker/daemon.json": {Data: []byte(`{"log-level": "info"}`)},
	}
	procs := []daemoncfg.Process{
		{PID: 10, Argv: []string{"dockerd", "-H", "unix:///run/other.sock"}},
		{PID: 77, Argv: []string{"/usr/bin/dockerd", "-H", "tcp://0.0.0.0:2376", "--tlsverify", "--tlscacert=/srv/tls/ca.pem", "--tlscert", "/srv/tls/cert.pem", "--tlskey", "/srv/tls/key.pem"}},
	}
	rep, err := Run(Options{FS: fsys, Env: map[string]string{"HOME": "/root"}, Now: fixtureNow, Dockerds: procs, LocalTargets: []string{"127.0.0.1:2376"}})
	if err != nil {
		t.Fatal(err)
	}
	var src bool
	for _, s := range rep.Sources {
		if s.Kind == "running dockerd" && s.Path == "/proc/77/cmdline" && strings.Contains(s.Detail, "--tlscert /srv/tls/cert.pem") {
			src = true
		}
	}
	if !src {
		t.Errorf("the running dockerd is not a source: %+v", rep.Sources)
	}
	var sans bool
	for _, f := range rep.Findings {
		if f.CheckID == catalog.IDHostNotInSANs && f.Subject == "tcp://127.0.0.1:2376" &&
			strings.Contains(f.Message, "the running dockerd (pid 77)") && strings.Contains(f.Message, "/srv/tls/cert.pem does not cover \"127.0.0.1\"") &&
			strings.Contains(f.Fix, "docker tls issue server --san dk.example,10.0.0.5,127.0.0.1 --ca-cert /srv/tls/ca.pem --ca-key /srv/tls/ca-key.pem --out \"$d\" && cp \"$d/server-cert.pem\" /srv/tls/cert.pem && cp \"$d/server-key.pem\" /srv/tls/key.pem") {
			sans = true
		}
		if f.CheckID == catalog.IDDaemonTCPWithoutVerify || f.CheckID == catalog.IDTLSFileMissing {
			t.Errorf("unexpected finding: %+v", f)
		}
	}
	if !sans {
		t.Errorf("no host-not-in-sans for 127.0.0.1 against the running dockerd's cert: %+v", rep.Findings)
	}

	// The same dockerd without its certificate: the missing file is the
	// one the process names; DOCKER_CERT_PATH in its environment moves
	// the defaults.
	delete(fsys, "srv/tls/cert.pem")
	procs[1].Argv = []string{"dockerd", "-H", "tcp://127.0.0.1:2376", "--tlsverify"}
	procs[1].Env = map[string]string{"DOCKER_CERT_PATH": "/srv/tls"}
	rep, err = Run(Options{FS: fsys, Env: map[string]string{"HOME": "/root"}, Now: fixtureNow, Dockerds: procs, LocalTargets: []string{"127.0.0.1:2376"}})
	if err != nil {
		t.Fatal(err)
	}
	var missing bool
	for _, f := range rep.Findings {
		if f.CheckID == catalog.IDTLSFileMissing && f.Subject == "/srv/tls/cert.pem" {
			missing = true
		}
	}
	if !missing {
		t.Errorf("no tls-file-missing for the default cert in DOCKER_CERT_PATH: %+v", rep.Findings)
	}

	// A target on another port is not this dockerd: the unit and
	// daemon.json speak (no TCP listener, no findings about it).
	rep, _ = Run(Options{FS: fsys, Env: map[string]string{"HOME": "/root"}, Now: fixtureNow, Dockerds: procs, LocalTargets: []string{"127.0.0.1:9999"}})
	for _, s := range rep.Sources {
		if s.Kind == "running dockerd" {
			t.Errorf("a dockerd not listening on the target is read: %+v", s)
		}
	}
}

func TestPickDockerd(t *testing.T) {
	a := daemoncfg.Process{PID: 1, Argv: []string{"dockerd", "-H", "fd://"}}
	b := daemoncfg.Process{PID: 2, Argv: []string{"dockerd", "-H", "unix:///x.sock", "-H", "tcp://127.0.0.1:2376"}}
	c := daemoncfg.Process{PID: 3, Argv: []string{"dockerd"}}
	for _, tc := range []struct {
		procs   []daemoncfg.Process
		targets []string
		want    int
	}{
		{nil, nil, 0},
		{[]daemoncfg.Process{b}, nil, 2},
		{[]daemoncfg.Process{a, b}, nil, 1},
		{[]daemoncfg.Process{a, b}, []string{"127.0.0.1:2376"}, 2},
		{[]daemoncfg.Process{a, b}, []string{"localhost:2376"}, 2},
		{[]daemoncfg.Process{a, b}, []string{"127.0.0.1:2377"}, 0},
		{[]daemoncfg.Process{c}, []string{"127.0.0.1:2376"}, 3},
		{[]daemoncfg.Process{b, c}, nil, 3},
	} {
		p := pickDockerd(tc.procs, tc.targets)
		got := 0
		if p != nil {
			got = p.PID
		}
		if got != tc.want {
			t.Errorf("pickDockerd(%v, %v) = %d, want %d", tc.procs, tc.targets, got, tc.want)
		}
	}
}
