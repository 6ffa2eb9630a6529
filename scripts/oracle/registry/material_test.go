package registry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"testing"
	"time"
)

// Materials are the file contents trees are built from: real certificates
// and keys made once per run, and the malformed shapes users produce.
var (
	matOnce sync.Once
	mat     map[string][]byte
	matKeys []string
)

func pemOf(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }

func mkKey(t testing.TB) (*ecdsa.PrivateKey, []byte) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, pemOf("PRIVATE KEY", der)
}

func mkCert(t testing.TB, tmpl *x509.Certificate, key *ecdsa.PrivateKey, parent *x509.Certificate, pkey *ecdsa.PrivateKey) (*x509.Certificate, []byte) {
	if parent == nil {
		parent, pkey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, pkey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, der
}

var serial int64

func tmpl(cn string, ca bool, eku ...x509.ExtKeyUsage) *x509.Certificate {
	serial++
	c := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		BasicConstraintsValid: true, IsCA: ca, ExtKeyUsage: eku,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if ca {
		c.KeyUsage |= x509.KeyUsageCertSign
	}
	if cn == "reg.example" {
		c.DNSNames = []string{"reg.example"}
	}
	return c
}

func materials(t testing.TB) map[string][]byte {
	matOnce.Do(func() {
		m := map[string][]byte{}
		caK, caKeyPEM := mkKey(t)
		ca, caDER := mkCert(t, tmpl("oracle CA", true), caK, nil, nil)
		ca2K, _ := mkKey(t)
		_, ca2DER := mkCert(t, tmpl("oracle CA 2", true), ca2K, nil, nil)
		leafK, leafKeyPEM := mkKey(t)
		_, leafDER := mkCert(t, tmpl("reg.example", false, x509.ExtKeyUsageServerAuth), leafK, ca, caK)
		clK, clKeyPEM := mkKey(t)
		_, clDER := mkCert(t, tmpl("oracle client", false, x509.ExtKeyUsageClientAuth), clK, ca, caK)
		scK, scKeyPEM := mkKey(t)
		_, scDER := mkCert(t, tmpl("self-signed client", true), scK, nil, nil)
		_, otherKeyPEM := mkKey(t)
		m["ca"] = pemOf("CERTIFICATE", caDER)
		m["cakey"] = caKeyPEM
		m["ca2"] = pemOf("CERTIFICATE", ca2DER)
		m["bundle"] = append(pemOf("CERTIFICATE", caDER), pemOf("CERTIFICATE", ca2DER)...)
		m["leaf"] = pemOf("CERTIFICATE", leafDER)
		m["leafkey"] = leafKeyPEM
		m["client"] = pemOf("CERTIFICATE", clDER)
		m["clientkey"] = clKeyPEM
		m["combined"] = append(pemOf("CERTIFICATE", clDER), clKeyPEM...)
		m["selfclient"] = pemOf("CERTIFICATE", scDER)
		m["selfclientkey"] = scKeyPEM
		m["otherkey"] = otherKeyPEM
		m["trusted"] = pemOf("TRUSTED CERTIFICATE", caDER)
		m["der"] = caDER
		m["empty"] = nil
		m["garbage"] = []byte("not a certificate\n")
		m["headers"] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: caDER})
		m["badder"] = pemOf("CERTIFICATE", []byte{0x30, 0x03, 0x02, 0x01, 0x01})
		mat = m
		for k := range m {
			matKeys = append(matKeys, k)
		}
		sortStrings(matKeys)
	})
	return mat
}
