package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/pki"
)

// A TLS daemon whose handshake carries no CertificateRequest (dockerd
// --tls --tlsverify=false) works for any client: the probe succeeds and
// the doctor warns that whoever reaches the port controls the daemon. With
// client authentication required there is no such warning.
func TestDaemonNoClientAuthWarning(t *testing.T) {
	ca, srv, cli := testTrio(t, "d CA", pki.Request{CommonName: "d"}, "c")
	for _, requireCert := range []bool{false, true} {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Api-Version", "1.47")
			if strings.HasSuffix(r.URL.Path, "/version") {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"Version":"27.0.0","ApiVersion":"1.47"}`))
				return
			}
			_, _ = w.Write([]byte("OK"))
		})
		ts := httptest.NewUnstartedServer(h)
		ts.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{srv.Cert.Raw}, PrivateKey: srv.Key}}}
		if requireCert {
			ts.TLS.ClientAuth = tls.RequireAndVerifyClientCert
			ts.TLS.ClientCAs = x509.NewCertPool()
			ts.TLS.ClientCAs.AddCert(ca.Cert)
		}
		ts.StartTLS()
		_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
		tgt, err := probe.ParseTarget("tcp://127.0.0.1:"+port, false)
		if err != nil {
			t.Fatal(err)
		}
		c := probe.Client{TLS: true, CA: ca.CertPEM(), CAFile: "ca.pem"}
		if requireCert {
			key, _ := cli.KeyPEM()
			c.Pairs = []probe.Pair{{CertFile: "cert.pem", KeyFile: "key.pem", Cert: cli.CertPEM(), Key: key}}
		}
		c.Prepare(probe.RoleDaemon)
		lts := []LiveTarget{{Target: tgt, Client: c, Setup: "docker -H " + tgt.String() + " --tlsverify"}}
		res := Probe(context.Background(), lts, probe.Options{Timeout: 5 * time.Second}, 1)
		ts.Close()
		if !res[0].Outcome.OK() {
			t.Fatalf("requireCert=%v: probe %s: %s", requireCert, res[0].Outcome, res[0].Err)
		}
		rep := &catalog.Report{}
		AddLive(rep, lts, res)
		var warned *catalog.Finding
		for i := range rep.Findings {
			if rep.Findings[i].CheckID == catalog.IDDaemonNoClientAuth {
				warned = &rep.Findings[i]
			}
		}
		switch {
		case !requireCert && (warned == nil || warned.Severity != catalog.SeverityWarning ||
			!strings.Contains(warned.Message, "without asking for a client certificate") || !strings.Contains(warned.Message, "whoever reaches the port controls the daemon")):
			t.Errorf("no daemon-no-client-auth warning: %+v", rep.Findings)
		case requireCert && warned != nil:
			t.Errorf("warning for a daemon that requires client certificates: %+v", *warned)
		}
		if rep.HasErrors() {
			t.Errorf("requireCert=%v: errors in %+v", requireCert, rep.Findings)
		}
	}
}
