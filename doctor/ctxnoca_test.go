package doctor

import (
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/loader"
)

// A context with a client certificate and key but no CA is not a load
// error: docker verifies the daemon against the system roots (the client
// model says so) and fails with "certificate signed by unknown authority"
// when the daemon's CA is private.
func TestContextWithoutCAIsNotALoadError(t *testing.T) {
	ca, err := pki.NewCA(pki.Request{CommonName: "ctx CA", Now: fixtureNow.AddDate(0, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := (&pki.CA{Cert: ca.Cert, Key: ca.Key}).Issue(pki.Request{Role: pki.RoleClient, CommonName: "u", Now: fixtureNow.AddDate(0, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := cli.KeyPEM()
	m := fstest.MapFS{}
	ctxMeta(t, m, "/home/u/.docker", "prod", "tcp://h.example:2376")
	_, tlsDir := loader.ContextDir("/home/u/.docker", "prod")
	m[strings.TrimPrefix(path.Join(tlsDir, "docker", "cert.pem"), "/")] = &fstest.MapFile{Data: cli.CertPEM(), Mode: 0o600}
	m[strings.TrimPrefix(path.Join(tlsDir, "docker", "key.pem"), "/")] = &fstest.MapFile{Data: key, Mode: 0o600}
	opts := Options{FS: m, Env: map[string]string{"HOME": "/home/u", "DOCKER_CONTEXT": "prod"}, Now: fixtureNow}
	rep, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Severity == catalog.SeverityError {
			t.Errorf("static error for a context without ca.pem: %+v", f)
		}
	}
	ep, err := ActiveEndpoint(opts)
	if err != nil {
		t.Fatalf("the client model fails the context: %v", err)
	}
	if !ep.CLI.SystemRoots || !ep.TLS {
		t.Errorf("the model does not verify with the system roots: %+v", ep.CLI)
	}
	c := ClientFor(opts, ep)
	if c.ConfigErr != nil || !c.SystemRoots {
		t.Errorf("probe client: ConfigErr %v, SystemRoots %v (want system roots, no load error)", c.ConfigErr, c.SystemRoots)
	}
	_ = probe.Client{}
}
