package doctor

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/pki"
)

// A daemon certificate issued by an intermediate that server-cert.pem does
// not hold, the client trusting the root: the fix names the file to append
// to, the intermediate's file when the doctor finds it (next to the
// certificate, or next to a CA), or else the URL the certificate publishes
// it at, and ends with the restart that makes dockerd read it. Without
// that evidence (no AIA) it stays a CA mismatch.
func TestMissingIntermediateFix(t *testing.T) {
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	n := int64(0)
	sign := func(tmpl, parent *x509.Certificate, pub, priv any) *x509.Certificate {
		n++
		tmpl.SerialNumber = big.NewInt(n)
		tmpl.NotBefore, tmpl.NotAfter = fixtureNow.AddDate(0, -1, 0), fixtureNow.AddDate(1, 0, 0)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c
	}
	const aia = "http://pki.example.test/issuing-ca-1.crt"
	rk, ik, lk := key(), key(), key()
	rootT := &x509.Certificate{Subject: pkix.Name{Organization: []string{"Example Corp"}, CommonName: "Example Root"},
		IsCA: true, BasicConstraintsValid: true, MaxPathLen: 1, KeyUsage: x509.KeyUsageCertSign}
	root := sign(rootT, rootT, &rk.PublicKey, rk)
	inter := sign(&x509.Certificate{Subject: pkix.Name{Organization: []string{"Example Corp"}, CommonName: "Example Issuing CA"},
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign}, root, &ik.PublicKey, rk)
	leafT := func(withAIA bool) *x509.Certificate {
		l := &x509.Certificate{Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if withAIA {
			l.IssuingCertificateURL = []string{aia}
		}
		return l
	}
	leafAIA, leafPlain := sign(leafT(true), inter, &lk.PublicKey, ik), sign(leafT(false), inter, &lk.PublicKey, ik)
	keyPEM, err := pki.EncodeKey(lk)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{"hosts": []string{"tcp://0.0.0.0:2376"}, "tlsverify": true,
		"tlscacert": "/etc/docker/tls/ca.pem", "tlscert": "/etc/docker/tls/server-cert.pem", "tlskey": "/etc/docker/tls/server-key.pem"})
	const chain = "cat /etc/docker/tls/server-cert.pem %s > /etc/docker/tls/server-cert.pem.chain && mv /etc/docker/tls/server-cert.pem.chain /etc/docker/tls/server-cert.pem, then restart dockerd"
	for _, tc := range []struct {
		name    string
		leaf    *x509.Certificate
		interAt string // where the intermediate is, "" nowhere
		id, fix string
	}{
		{"next to the certificate", leafPlain, "/etc/docker/tls/intermediate.pem", catalog.IDMissingIntermediate,
			strings.Replace(chain, "%s", "/etc/docker/tls/intermediate.pem", 1)},
		{"next to the client's CA", leafPlain, "/home/u/.docker/issuing-ca.crt", catalog.IDMissingIntermediate,
			strings.Replace(chain, "%s", "/home/u/.docker/issuing-ca.crt", 1)},
		{"nowhere, published", leafAIA, "", catalog.IDMissingIntermediate,
			"curl -fsSL " + aia + " | openssl x509 -inform der -out /etc/docker/tls/intermediate.pem && " + strings.Replace(chain, "%s", "/etc/docker/tls/intermediate.pem", 1)},
		{"nowhere, unpublished", leafPlain, "", catalog.IDCAMismatchServer, "cp /etc/docker/tls/ca.pem /home/u/.docker/ca.pem (the daemon's CA)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := fstest.MapFS{
				"etc/docker/daemon.json":         {Data: cfg, Mode: 0o644},
				"etc/docker/tls/ca.pem":          {Data: pki.EncodeCert(root), Mode: 0o644},
				"etc/docker/tls/server-cert.pem": {Data: pki.EncodeCert(tc.leaf), Mode: 0o644},
				"etc/docker/tls/server-key.pem":  {Data: keyPEM, Mode: 0o600},
				"home/u/.docker/ca.pem":          {Data: pki.EncodeCert(root), Mode: 0o644},
			}
			if tc.interAt != "" {
				m[strings.TrimPrefix(tc.interAt, "/")] = &fstest.MapFile{Data: pki.EncodeCert(inter), Mode: 0o644}
			}
			rep, err := Run(Options{FS: m, Env: map[string]string{"HOME": "/home/u", "DOCKER_TLS_VERIFY": "1", "DOCKER_HOST": "tcp://localhost:2376"}, Now: fixtureNow})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Findings {
				if f.CheckID == catalog.IDMissingIntermediate || f.CheckID == catalog.IDCAMismatchServer {
					if f.CheckID != tc.id || !strings.HasPrefix(f.Fix, tc.fix) {
						t.Errorf("%s\n fix %s\nwant %s %s", f.CheckID, f.Fix, tc.id, tc.fix)
					}
					if f.CheckID == catalog.IDMissingIntermediate && tc.interAt == "" && !strings.Contains(f.Message, "published at "+aia) {
						t.Errorf("message does not say where the intermediate is published: %s", f.Message)
					}
					return
				}
			}
			t.Errorf("no %s finding: %+v", tc.id, rep.Findings)
		})
	}
}
