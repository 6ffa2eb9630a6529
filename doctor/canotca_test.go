package doctor

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/pki"
)

// A self-signed certificate without CA:TRUE as ca.pem: its issuer is
// itself, so "replace it with the CA that issued it" would name the file
// being replaced. The fix is a real CA and re-issued certificates.
func TestCANotCASelfSignedFix(t *testing.T) {
	key, err := pki.GenerateKey(pki.KeyECDSAP256, nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "docker.example.com"},
		NotBefore: fixtureNow.AddDate(0, -1, 0), NotAfter: fixtureNow.AddDate(1, 0, 0), BasicConstraintsValid: true,
		DNSNames: []string{"docker.example.com"}, IPAddresses: []net.IP{net.ParseIP("10.0.0.5"), net.ParseIP("10.0.0.5")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	m := fstest.MapFS{"home/u/.docker/ca.pem": {Data: pki.EncodeCert(c), Mode: 0o644}}
	rep, err := Run(Options{FS: m, Env: map[string]string{"HOME": "/home/u", "DOCKER_TLS_VERIFY": "1", "DOCKER_HOST": "tcp://docker.example.com:2376"}, Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.CheckID != catalog.IDCANotCA {
			continue
		}
		if strings.Contains(f.Fix, "look for the issuer") || !strings.Contains(f.Fix, "self-signed and no CA") ||
			!strings.Contains(f.Fix, "docker tls init --san docker.example.com,10.0.0.5 --out DIR") || !strings.Contains(f.Fix, "re-issue the server and client certificates") {
			t.Errorf("fix for a self-signed non-CA ca.pem: %s", f.Fix)
		}
		return
	}
	t.Errorf("no ca-not-ca finding: %+v", rep.Findings)
}
