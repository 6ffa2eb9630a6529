package doctor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/pki/loader"
)

// A registry mirror dockerd refuses is a static error quoting dockerd's
// line (daemon.json and the unit's flag), in the daemon's version's words.
func TestMirrorInvalidStatic(t *testing.T) {
	fsys := fstest.MapFS{
		"lib/systemd/system/docker.service": {Data: []byte("[Service]\nExecStart=/usr/bin/dockerd -H fd:// --registry-mirror=ftp://m.example\n")},
		"etc/docker/daemon.json":            {Data: []byte(`{"registry-mirrors": ["mirror.example:5000", "https://ok.example", "http://plain.example:5000"]}`)},
	}
	for _, c := range []struct {
		version string
		want    []string
	}{
		{"", []string{
			`dockerd refuses the registry mirror "mirror.example:5000" and does not start: unable to configure the Docker daemon with file /etc/docker/daemon.json: merged configuration validation from file and command line flags failed: invalid mirror: no scheme specified for "mirror.example:5000": must use either 'https://' or 'http://'`,
			`dockerd refuses the registry mirror "ftp://m.example" and does not start: invalid argument "ftp://m.example" for "--registry-mirror" flag: invalid mirror: unsupported scheme "ftp" in "ftp://m.example": must use either 'https://' or 'http://'`}},
		{"20.10.24+dfsg1", []string{
			`dockerd refuses the registry mirror "mirror.example:5000" and does not start: invalid mirror: unsupported scheme "mirror.example" in "mirror.example:5000"`,
			`dockerd refuses the registry mirror "ftp://m.example" and does not start: invalid argument "ftp://m.example" for "--registry-mirror" flag: invalid mirror: unsupported scheme "ftp" in "ftp://m.example"`}},
	} {
		rep, err := Run(Options{FS: fsys, Env: map[string]string{"HOME": "/root"}, Now: fixtureNow, Dockerd: loader.DockerdFacts{Version: c.version}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range rep.Findings {
			if f.CheckID == catalog.IDDaemonMirrorInvalid {
				got = append(got, f.Message)
				if f.Severity != catalog.SeverityError || !strings.Contains(f.Fix, "write it as ") || !strings.HasSuffix(f.Fix, ", then restart dockerd") {
					t.Errorf("%s: %+v", c.version, f)
				}
				if strings.Contains(f.Message, "mirror.example:5000") && !strings.HasPrefix(f.Fix, "write it as https://mirror.example:5000 (http:// for a plain-HTTP mirror) in /etc/docker/daemon.json") {
					t.Errorf("fix: %s", f.Fix)
				}
			}
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("dockerd %q:\n got %s\nwant %s", c.version, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}

func registryHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		}
	})
}

// A mirror target, bare or http://, is a registry (dockerd's
// registry-mirrors say so); an http:// mirror is probed in plain HTTP,
// with no TLS checks; one listed as http:// that speaks TLS gets the
// https:// fix; docker pull prints nothing of a mirror's error.
func TestMirrorTargets(t *testing.T) {
	plain := httptest.NewServer(registryHandler())
	defer plain.Close()
	tlsReg := httptest.NewTLSServer(registryHandler())
	defer tlsReg.Close()
	p := strings.TrimPrefix(plain.URL, "http://")
	tr := strings.TrimPrefix(tlsReg.URL, "https://")
	fsys := fstest.MapFS{"etc/docker/daemon.json": {Data: []byte(`{"registry-mirrors": ["http://` + p + `", "http://` + tr + `/"]}`)}}
	opts := Options{FS: fsys, Env: map[string]string{"HOME": "/root"}}
	po := probe.Options{Timeout: 2 * time.Second}
	for _, c := range []struct {
		in, target string
		outcome    probe.Outcome
		cause, fix string
	}{
		{p, "http://" + p, probe.OutcomeOKPlain, "the mirror answered over plain HTTP: registry-mirrors lists http://" + p + "/ (a mirror of Docker Hub), so dockerd speaks no TLS to it", "list it as https://" + p},
		{"http://" + p, "http://" + p, probe.OutcomeOKPlain, "no certificate applies", "nothing to do for pulls to work"},
		{tr, "http://" + tr, probe.OutcomePlainClientToTLS, "registry-mirrors lists http://" + tr + "/ (a mirror of Docker Hub), plain HTTP, but " + tr + " speaks TLS", "write https://" + tr + " in registry-mirrors"},
	} {
		live, infos, err := Intake(context.Background(), opts, []string{c.in}, IntakeOptions{Identify: true, Alternatives: true, Probe: po})
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 1 || infos[0].Kind != KindRegistry || infos[0].Target != c.target || !strings.Contains(infos[0].KindReason, "registry-mirrors lists") {
			t.Fatalf("%s: %+v", c.in, infos)
		}
		if len(live) != 1 || live[0].Client.TLS || live[0].Client.Mirror == "" {
			t.Fatalf("%s: live %+v", c.in, live)
		}
		res := Probe(context.Background(), live, po, 1)[0]
		if res.Outcome != c.outcome || !strings.Contains(res.Cause, c.cause) || !strings.Contains(res.Fix, c.fix) || res.DockerError != "" {
			t.Errorf("%s: %s\ncause %s\nfix %s\ndocker %q", c.in, res.Outcome, res.Cause, res.Fix, res.DockerError)
		}
	}
	// Not a mirror: http:// stays refused.
	if _, _, err := Intake(context.Background(), Options{FS: fstest.MapFS{}, Env: map[string]string{"HOME": "/root"}}, []string{"http://" + p}, IntakeOptions{Identify: true, Probe: po}); err == nil || !strings.Contains(err.Error(), "http:// is plain HTTP") {
		t.Errorf("http:// target that is no mirror: %v", err)
	}
}
