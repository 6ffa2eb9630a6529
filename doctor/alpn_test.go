package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/pki"
)

// A TLS endpoint that demands a client certificate and picks http/1.1 by
// ALPN (dockerd; a registry behind an HTTP/1.1-only proxy) is asked again
// with the client certificate of a setup the user has (~/.docker): a
// registry is then a registry. Without such material the kind is guessed
// from ALPN, and the reason says so.
func TestIntakeAsksWithClientMaterial(t *testing.T) {
	ca, srv, cli := testTrio(t, "r CA", pki.Request{CommonName: "r"}, "c")
	key, _ := cli.KeyPEM()
	for _, kind := range []string{KindRegistry, KindDaemon} {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case kind == KindRegistry && r.URL.Path == "/v2/":
				w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
			case kind == KindDaemon && r.URL.Path == "/_ping":
				w.Header().Set("Api-Version", "1.51")
			default:
				http.NotFound(w, r)
			}
		})
		ts := httptest.NewUnstartedServer(h)
		ts.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{srv.Cert.Raw}, PrivateKey: srv.Key}},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: x509.NewCertPool(), NextProtos: []string{"http/1.1"}}
		ts.TLS.ClientCAs.AddCert(ca.Cert)
		ts.StartTLS()
		in := ts.Listener.Addr().String()
		po := probe.Options{Timeout: 3 * time.Second}
		withMaterial := Options{FS: fstest.MapFS{
			"home/u/.docker/ca.pem":   {Data: ca.CertPEM(), Mode: 0o600},
			"home/u/.docker/cert.pem": {Data: cli.CertPEM(), Mode: 0o600},
			"home/u/.docker/key.pem":  {Data: key, Mode: 0o600},
		}, Env: map[string]string{"HOME": "/home/u"}}
		_, infos, err := Intake(context.Background(), withMaterial, []string{in}, IntakeOptions{Identify: true, Alternatives: true, Probe: po})
		if err != nil {
			t.Fatal(err)
		}
		answer := "/v2/ answered with Docker-Distribution-Api-Version registry/2.0"
		if kind == KindDaemon {
			answer = "/_ping answered with Api-Version 1.51"
		}
		if len(infos) != 1 || infos[0].Kind != kind || !strings.Contains(infos[0].KindReason, "asked again with the client certificate of docker -H tcp://"+in+" --tlsverify: https://"+in+answer) {
			t.Errorf("%s with material in ~/.docker: %+v", kind, infos)
		}
		_, infos, err = Intake(context.Background(), Options{FS: fstest.MapFS{}, Env: map[string]string{"HOME": "/home/u"}}, []string{in}, IntakeOptions{Identify: true, Alternatives: true, Probe: po})
		ts.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 1 || infos[0].Kind != KindDaemon || !strings.Contains(infos[0].KindReason, "so the kind is guessed from ALPN: it picked http/1.1 by ALPN, as dockerd does and is taken for a daemon") {
			t.Errorf("%s without material: %+v", kind, infos)
		}
	}
}
