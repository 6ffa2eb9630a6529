package doctor

import (
	"net"
	"testing"

	"github.com/docker-tls/docker-tls/pki"
)

// testTrio issues what a loopback TLS test needs: a CA named caName, a
// server certificate for 127.0.0.1 (plus srv's names) and a client
// certificate named client, both signed by the CA.
func testTrio(t *testing.T, caName string, srv pki.Request, client string) (ca, server, cli *pki.Issued) {
	t.Helper()
	ca, err := pki.NewCA(pki.Request{CommonName: caName})
	if err != nil {
		t.Fatal(err)
	}
	iss := &pki.CA{Cert: ca.Cert, Key: ca.Key}
	srv.Role = pki.RoleServer
	srv.IPs = append(srv.IPs, net.ParseIP("127.0.0.1"))
	if server, err = iss.Issue(srv); err != nil {
		t.Fatal(err)
	}
	if cli, err = iss.Issue(pki.Request{Role: pki.RoleClient, CommonName: client}); err != nil {
		t.Fatal(err)
	}
	return ca, server, cli
}
