//go:build linux

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"
)

// hierarchy is a three-level PKI as public and corporate CAs run them,
// which docker-tls's own CAs (path length 0) cannot make: a root that
// allows one intermediate, the intermediate, and a server leaf the
// intermediate signed.
type hierarchy struct {
	RootPEM, InterPEM, LeafPEM, LeafKeyPEM []byte
	InterDER                               []byte
}

// newHierarchy makes the three certificates for the SANs given. With an
// aia URL the leaf publishes its issuer there (Authority Information
// Access caIssuers), as certificates of public CAs do; Go never fetches it.
func newHierarchy(t *testing.T, org string, sans []string, aia string) hierarchy {
	t.Helper()
	now := time.Now()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := int64(1)
	sign := func(tmpl, parent *x509.Certificate, pub, priv any) (*x509.Certificate, []byte) {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.AddDate(1, 0, 0)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	rootKey, interKey, leafKey := key(), key(), key()
	rootTmpl := &x509.Certificate{Subject: pkix.Name{Organization: []string{org}, CommonName: org + " Root CA"},
		IsCA: true, BasicConstraintsValid: true, MaxPathLen: 1, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	root, rootPEM := sign(rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	inter, interPEM := sign(&x509.Certificate{Subject: pkix.Name{Organization: []string{org}, CommonName: org + " Issuing CA 1"},
		IsCA: true, BasicConstraintsValid: true, MaxPathLen: 0, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign},
		root, &interKey.PublicKey, rootKey)
	leafTmpl := &x509.Certificate{Subject: pkix.Name{Organization: []string{org}, CommonName: sans[0]},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, s := range sans {
		if ip := net.ParseIP(s); ip != nil {
			leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, ip)
		} else {
			leafTmpl.DNSNames = append(leafTmpl.DNSNames, s)
		}
	}
	if aia != "" {
		leafTmpl.IssuingCertificateURL = []string{aia}
	}
	_, leafPEM := sign(leafTmpl, inter, &leafKey.PublicKey, interKey)
	der, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	return hierarchy{RootPEM: rootPEM, InterPEM: interPEM, InterDER: inter.Raw, LeafPEM: leafPEM,
		LeafKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}
}

// serveLeafAlone replaces the daemon's server pair in pk with a leaf of a
// three-level hierarchy, sent alone, and makes the client in cl trust the
// hierarchy's root while keeping the client pair the daemon's own CA
// (pk/ca.pem, its --tlscacert) signed. With nextTo the intermediate is in
// pk/intermediate.pem, next to the certificate, where the user put it.
// With aia the leaf publishes its intermediate at a URL this test serves
// (DER, as CAs publish them) on loopback.
func serveLeafAlone(t *testing.T, pk, cl string, nextTo, aia bool) hierarchy {
	t.Helper()
	var url string
	var der []byte
	if aia {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/issuing-ca-1.crt" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/pkix-cert")
			_, _ = w.Write(der)
		}))
		t.Cleanup(srv.Close)
		url = srv.URL + "/issuing-ca-1.crt"
	}
	h := newHierarchy(t, "Example Corp", []string{"localhost", "127.0.0.1"}, url)
	der = h.InterDER
	writeFile(t, filepath.Join(pk, "server-cert.pem"), h.LeafPEM)
	writeFile(t, filepath.Join(pk, "server-key.pem"), h.LeafKeyPEM)
	if nextTo {
		writeFile(t, filepath.Join(pk, "intermediate.pem"), h.InterPEM)
	}
	writeFile(t, filepath.Join(cl, "ca.pem"), h.RootPEM)
	copyFile(t, filepath.Join(pk, "cert.pem"), filepath.Join(cl, "cert.pem"), 0o600)
	copyFile(t, filepath.Join(pk, "key.pem"), filepath.Join(cl, "key.pem"), 0o600)
	return h
}
