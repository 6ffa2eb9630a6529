package doctor

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"reflect"
	"testing"

	"github.com/docker-tls/docker-tls/pki"
)

// plainKeyPair must answer exactly as tls.X509KeyPair where it answers at
// all, and answer the plain cases (the certs.d scan relies on it not to
// parse a client pair twice).
func TestPlainKeyPairAsCryptoTLS(t *testing.T) {
	issue := func(kt pki.KeyType, ca *pki.CA) *pki.Issued {
		t.Helper()
		if ca == nil {
			c, err := pki.NewCA(pki.Request{CommonName: "kp CA " + string(kt), KeyType: kt, Now: fixtureNow})
			if err != nil {
				t.Fatal(err)
			}
			ca = &pki.CA{Cert: c.Cert, Key: c.Key}
		}
		l, err := ca.Issue(pki.Request{Role: pki.RoleClient, CommonName: "kp " + string(kt), KeyType: kt, Now: fixtureNow})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	keyPEM := func(l *pki.Issued) []byte {
		t.Helper()
		k, err := l.KeyPEM()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	ec, rsaLeaf, ed, other := issue(pki.KeyECDSAP256, nil), issue(pki.KeyRSA2048, nil), issue(pki.KeyEd25519, nil), issue(pki.KeyECDSAP256, nil)
	caCA, err := pki.NewCA(pki.Request{CommonName: "chain CA", Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaLeaf.Key.(*rsa.PrivateKey))})
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0}})
	cases := []struct {
		name       string
		cert, key  []byte
		plainOK    bool // plainKeyPair answers it
		wantErrTLS bool
	}{
		{"ecdsa pkcs8", ec.CertPEM(), keyPEM(ec), true, false},
		{"rsa pkcs8", rsaLeaf.CertPEM(), keyPEM(rsaLeaf), true, false},
		{"rsa pkcs1", rsaLeaf.CertPEM(), pkcs1, true, false},
		{"ed25519", ed.CertPEM(), keyPEM(ed), true, false},
		{"chain", append(ec.CertPEM(), caCA.CertPEM()...), keyPEM(ec), true, false},
		{"mismatch", ec.CertPEM(), keyPEM(other), false, true},
		{"type mismatch", ec.CertPEM(), keyPEM(rsaLeaf), false, true},
		{"key in cert file", append(ec.CertPEM(), keyPEM(ec)...), keyPEM(ec), false, false},
		{"two keys", ec.CertPEM(), append(keyPEM(other), keyPEM(ec)...), false, true},
		{"cert before key", ec.CertPEM(), append(ec.CertPEM(), keyPEM(ec)...), false, false},
		{"encrypted", ec.CertPEM(), encrypted, false, true},
		{"switched", keyPEM(ec), ec.CertPEM(), false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, werr := tls.X509KeyPair(c.cert, c.key)
			if (werr != nil) != c.wantErrTLS {
				t.Fatalf("tls.X509KeyPair: err %v, want error %v", werr, c.wantErrTLS)
			}
			got, ok := plainKeyPair(pki.Sniff(c.cert), pki.Sniff(c.key))
			if ok != c.plainOK {
				t.Fatalf("plainKeyPair answered %v, want %v", ok, c.plainOK)
			}
			if !ok {
				return
			}
			if werr != nil {
				t.Fatalf("plainKeyPair succeeded where tls.X509KeyPair fails: %v", werr)
			}
			if !reflect.DeepEqual(got.Certificate, want.Certificate) {
				t.Errorf("certificates differ")
			}
			if !bytes.Equal(got.Leaf.Raw, want.Leaf.Raw) {
				t.Errorf("leaf differs")
			}
			if !got.PrivateKey.(interface{ Equal(crypto.PrivateKey) bool }).Equal(want.PrivateKey) {
				t.Errorf("private key differs")
			}
			if reflect.TypeOf(got.PrivateKey) != reflect.TypeOf(want.PrivateKey) {
				t.Errorf("private key type %T, tls.X509KeyPair's %T", got.PrivateKey, want.PrivateKey)
			}
		})
	}
}

// certsFromPEM must add what the loader's own decoding adds
// (AppendCertsFromPEM: CERTIFICATE blocks without headers that parse)
// wherever it answers, and answer the plain files.
func TestCertsFromPEMAsLoader(t *testing.T) {
	ca1, err := pki.NewCA(pki.Request{CommonName: "pem CA 1", Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	ca2, err := pki.NewCA(pki.Request{CommonName: "pem CA 2", Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	k, err := (&pki.Issued{Cert: ca1.Cert, Key: ca1.Key}).KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	withHeader := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{"Note": "x"}, Bytes: ca2.Cert.Raw})
	trusted := pem.EncodeToMemory(&pem.Block{Type: "TRUSTED CERTIFICATE", Bytes: ca2.Cert.Raw})
	bad := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 1, 2}})
	cases := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"one", ca1.CertPEM(), true},
		{"two", append(ca1.CertPEM(), ca2.CertPEM()...), true},
		{"text around", []byte("subject=x\n" + string(ca1.CertPEM()) + "junk\n" + string(ca2.CertPEM()) + "end"), true},
		{"header", append(ca1.CertPEM(), withHeader...), false},
		{"trusted", append(ca1.CertPEM(), trusted...), false},
		{"key too", append(ca1.CertPEM(), k...), false},
		{"bad block", append(bad, ca1.CertPEM()...), false},
		{"der", ca1.Cert.Raw, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want [][]byte
			for rest := c.data; ; {
				var b *pem.Block
				if b, rest = pem.Decode(rest); b == nil {
					break
				}
				if b.Type != "CERTIFICATE" || len(b.Headers) != 0 {
					continue
				}
				if x, err := x509.ParseCertificate(b.Bytes); err == nil {
					want = append(want, x.Raw)
				}
			}
			m := &modelFS{cache: []cachedRead{{path: "/d/ca.crt", data: c.data}}}
			got, ok := m.certsFromPEM(c.data)
			if ok != c.ok {
				t.Fatalf("answered %v, want %v", ok, c.ok)
			}
			if !ok {
				return
			}
			var raws [][]byte
			for _, x := range got {
				raws = append(raws, x.Raw)
			}
			if !reflect.DeepEqual(raws, want) {
				t.Errorf("got %d certificates, the loader's decoding %d (or in another order)", len(raws), len(want))
			}
			if other, _ := m.certsFromPEM(append([]byte(nil), c.data...)); other != nil {
				t.Errorf("answered for bytes that are not this directory's read")
			}
		})
	}
}
