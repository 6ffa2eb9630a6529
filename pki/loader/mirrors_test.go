package loader

import (
	"fmt"
	"net"
	"testing"
)

// The newest wording is checked against docker/docker v28.5.2 in
// scripts/oracle/registry (TestMirrors, FuzzMirror) and against the real
// dockerds in e2e (TestRegistryMirrorsReal); the older generations here
// are read from moby v20.10.27, v23.0.0 and v25.0.0 registry/config.go.
func TestValidateMirrorVersions(t *testing.T) {
	cases := []struct{ version, in, want string }{
		{"20.10.24+dfsg1", "mirror.example:5000", `invalid mirror: unsupported scheme "mirror.example" in "mirror.example:5000"`},
		{"20.10.24", "10.0.0.1:5000", `invalid mirror: "10.0.0.1:5000" is not a valid URI`},
		{"23.0.6", "10.0.0.1:5000", `invalid mirror: "10.0.0.1:5000" is not a valid URI: parse "10.0.0.1:5000": first path segment in URL cannot contain colon`},
		{"20.10.24", "https://m.example/path", `invalid mirror: path, query, or fragment at end of the URI "https://m.example/path"`},
		{"24.0.9", "https://m.example/?a=1", `invalid mirror: path, query, or fragment at end of the URI "https://m.example/?a=1"`},
		{"25.0.0", "https://m.example/path", "https://m.example/path/"},
		{"28.2.2", "mirror.example:5000", `invalid mirror: unsupported scheme "mirror.example" in "mirror.example:5000"`},
		{"28.2.2", "https://m.example?a=1", `invalid mirror: query or fragment at end of the URI "https://m.example?a=1"`},
		{"28.3.0", "mirror.example:5000", `invalid mirror: no scheme specified for "mirror.example:5000": must use either 'https://' or 'http://'`},
		{"", "ftp://m.example", `invalid mirror: unsupported scheme "ftp" in "ftp://m.example": must use either 'https://' or 'http://'`},
		{"29.1.0", "https://u:pw@m.example", `invalid mirror: username/password not allowed in URI "https://u:xxxxx@m.example"`},
		{"20.10.24", "https://u:pw@m.example", `invalid mirror: username/password not allowed in URI "https://u:xxxxx@m.example"`},
		{"20.10.24", "http://m.example:5000", "http://m.example:5000/"},
	}
	for _, c := range cases {
		got, err := ValidateMirror(c.version, c.in)
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s %q:\n got %s\nwant %s", c.version, c.in, got, c.want)
		}
	}
}

func TestLoadMirrors(t *testing.T) {
	ms, err := LoadMirrors("28.5.2", []string{"https://m.example:5000", "https://m.example:5000/", "http://127.0.0.1:5001", "https://hub.example"})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(len(ms))
	for _, m := range ms {
		got += fmt.Sprintf(" %s|%s|%s", m.URL, m.Scheme, m.Host)
	}
	if want := "3 https://m.example:5000/|https|m.example:5000 http://127.0.0.1:5001/|http|127.0.0.1:5001 https://hub.example/|https|hub.example"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for _, c := range []struct {
		target string
		want   string
	}{{"m.example:5000", "https://m.example:5000/"}, {"127.0.0.1:5001", "http://127.0.0.1:5001/"}, {"hub.example", "https://hub.example/"}, {"hub.example:443", "https://hub.example/"}, {"m.example", ""}} {
		m, ok := MirrorFor(ms, c.target)
		if ok != (c.want != "") || m.URL != c.want {
			t.Errorf("MirrorFor %s: %+v %v, want %s", c.target, m, ok, c.want)
		}
	}
	// The first bad entry stops dockerd; the good ones before it are kept.
	ms, err = LoadMirrors("28.5.2", []string{"https://ok.example", "bad.example:5000", "https://late.example"})
	if len(ms) != 1 || err == nil || err.Error() != `invalid mirror: no scheme specified for "bad.example:5000": must use either 'https://' or 'http://'` {
		t.Errorf("bad entry: %+v %v", ms, err)
	}
	if !MirrorsApply("docker.io") || !MirrorsApply("index.docker.io") || MirrorsApply("registry-1.docker.io") || MirrorsApply("m.example:5000") {
		t.Error("MirrorsApply")
	}
}

func TestMirrorAccess(t *testing.T) {
	ms, _ := LoadMirrors("", []string{"https://m.example:5000", "http://m.example:5001", "https://127.0.0.1:5002", "https://10.1.2.3:5003"})
	cfg := DockerdRegistryConfig{Major: 28, Insecure: []string{"10.0.0.0/8"}}
	noLookup := func(string) ([]net.IP, error) { return nil, fmt.Errorf("no DNS in tests") }
	cases := []struct {
		i         int
		ctrd      bool
		plain     bool
		certs     string
		insecure  bool
		whyPrefix string
	}{
		{0, false, false, "m.example:5000", false, ""},
		{0, true, false, "docker.io", false, ""},
		{1, false, true, "", false, ""},
		{1, true, true, "", false, ""},
		{2, false, false, "", true, "dockerd treats 127.0.0.0/8"},
		{2, true, false, "docker.io", true, "dockerd treats 127.0.0.0/8"},
		{3, false, false, "", true, `dockerd's "insecure-registries" lists 10.0.0.0/8`},
	}
	for _, c := range cases {
		a := MirrorAccessFor(cfg, ms[c.i], c.ctrd, noLookup)
		if a.Plain != c.plain || a.CertsDirHost != c.certs || a.Insecure.Insecure != c.insecure || len(a.Insecure.Why) < len(c.whyPrefix) || a.Insecure.Why[:len(c.whyPrefix)] != c.whyPrefix {
			t.Errorf("%s containerd=%v: %+v", ms[c.i].URL, c.ctrd, a)
		}
	}
}

// With the containerd image store one insecure mirror turns verification
// off for the others (they share docker.io's transport): proven in e2e
// TestRegistryMirrorsDoctor by a pull through a mirror whose CA dockerd
// does not have.
func TestMirrorAccessSharedTransport(t *testing.T) {
	cfg := DockerdRegistryConfig{Major: 28, Mirrors: []string{"https://m.example:5000", "http://127.0.0.1:5001"}}
	ms, _ := LoadMirrors("", cfg.Mirrors)
	noLookup := func(string) ([]net.IP, error) { return nil, fmt.Errorf("no DNS in tests") }
	if a := MirrorAccessFor(cfg, ms[0], false, noLookup); a.Insecure.Insecure || a.CertsDirHost != "m.example:5000" {
		t.Errorf("classic: %+v", a)
	}
	a := MirrorAccessFor(cfg, ms[0], true, noLookup)
	if !a.Insecure.Insecure || a.Insecure.Why != "mirror http://127.0.0.1:5001/ is insecure (dockerd treats 127.0.0.0/8 as insecure by default), and with the containerd image store docker.io and all its mirrors share one transport, which dockerd then sets to skip verification" {
		t.Errorf("containerd store: %+v", a)
	}
}
