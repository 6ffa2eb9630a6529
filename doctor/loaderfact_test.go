package doctor

import (
	"testing"
	"testing/fstest"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/pki"
)

// A finding about a file in a registry directory names the loader that
// reads the directory (docker tls doctor --fix plans with it); one about
// a certs.d root's own entries names none.
func TestFindingLoaderFact(t *testing.T) {
	ca, err := pki.NewCA(pki.Request{CommonName: "facts CA", Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := (&pki.CA{Cert: ca.Cert, Key: ca.Key}).Issue(pki.Request{Role: pki.RoleClient, CommonName: "facts", Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	file := func(b []byte) *fstest.MapFile { return &fstest.MapFile{Data: b, Mode: 0o644} }
	m := fstest.MapFS{
		"etc/docker/certs.d/reg.example.com:5000/client.cert":     file(leaf.CertPEM()),
		"etc/containerd/certs.d/reg.example.com:5000/client.cert": file(leaf.CertPEM()),
		"etc/docker/certs.d/stray.crt":                            file(ca.CertPEM()),
		"etc/docker/certs.d/docker.io/ca.crt":                     file(ca.CertPEM()),
	}
	rep, err := Run(Options{FS: m, Env: map[string]string{"HOME": "/root"}, Now: fixtureNow, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		catalog.IDCertsDCertWithoutKey + " /etc/docker/certs.d/reg.example.com:5000/client.cert":     "moby",
		catalog.IDCertsDCertWithoutKey + " /etc/containerd/certs.d/reg.example.com:5000/client.cert": "containerd",
		catalog.IDCertsDIgnoredFile + " /etc/docker/certs.d/stray.crt":                               "",
		catalog.IDCertsDIgnoredFile + " /etc/docker/certs.d/docker.io":                               "",
	}
	for _, f := range rep.Findings {
		k := f.CheckID + " " + f.Subject
		l, ok := want[k]
		if !ok {
			continue
		}
		delete(want, k)
		if f.Loader() != l {
			t.Errorf("%s: loader %q, want %q", k, f.Loader(), l)
		}
	}
	for k := range want {
		t.Errorf("no finding %s; got %+v", k, rep.Findings)
	}
}
