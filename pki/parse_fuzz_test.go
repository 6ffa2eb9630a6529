package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/internal/fixturetree"
)

// fuzzMaterial is real material in every shape users hand us, generated
// with this package: the seed corpus of the parsing fuzz targets.
func fuzzMaterial(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	add := func(b []byte) { out = append(out, b) }
	for _, kt := range []KeyType{KeyECDSAP256, KeyECDSAP384, KeyRSA2048, KeyEd25519} {
		caIss, err := NewCA(Request{KeyType: kt})
		if err != nil {
			f.Fatal(err)
		}
		ca := &CA{Cert: caIss.Cert, Key: caIss.Key}
		leaf, err := ca.Issue(Request{Role: RoleServer, CommonName: "srv", DNSNames: []string{"docker.example"}, KeyType: kt})
		if err != nil {
			f.Fatal(err)
		}
		keyPEM, err := leaf.KeyPEM()
		if err != nil {
			f.Fatal(err)
		}
		block, _ := pem.Decode(keyPEM)
		add(leaf.CertPEM())
		add(leaf.Cert.Raw)
		add(append(append([]byte{}, leaf.Cert.Raw...), '\n'))
		add(keyPEM)
		add(block.Bytes)
		add(append(leaf.CertPEM(), EncodeCert(ca.Cert)...))
		add(append(leaf.CertPEM(), keyPEM...))
		add(append(append(leaf.CertPEM(), keyPEM...), keyPEM...))
		add(pem.EncodeToMemory(&pem.Block{Type: "TRUSTED CERTIFICATE", Bytes: append(append([]byte{}, leaf.Cert.Raw...), 0x30, 0x00)}))
		add(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, Bytes: block.Bytes}))
		add(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: block.Bytes}))
		if pub, err := x509.MarshalPKIXPublicKey(leaf.Key.Public()); err == nil {
			add(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
			add(pub)
		}
		if csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, leaf.Key); err == nil {
			add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}))
			add(csr)
		}
		switch k := leaf.Key.(type) {
		case *ecdsa.PrivateKey:
			if der, err := x509.MarshalECPrivateKey(k); err == nil {
				add(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
			}
		default:
			if der, ok := pkcs1(k); ok {
				add(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}))
			}
		}
		// A key block that does not parse, and a truncated certificate.
		add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: block.Bytes[:len(block.Bytes)/2]}))
		add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Cert.Raw[:len(leaf.Cert.Raw)-3]}))
	}
	// An ECDH (X25519-style) PKCS#8 key is a key Go parses but cannot sign with.
	if k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err == nil {
		if ek, err := k.ECDH(); err == nil {
			if der, err := x509.MarshalPKCS8PrivateKey(ek); err == nil {
				add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
			}
		}
	}
	// PKCS#7 / PKCS#12 outer shapes, a CRL header, empty and garbage input.
	add([]byte{0x30, 0x0f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x02, 0x30, 0x00})
	add([]byte{0x30, 0x14, 0x02, 0x01, 0x03, 0x30, 0x0f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x02, 0x04, 0x00})
	add([]byte("-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----\n"))
	add([]byte("-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n"))
	add([]byte("-----BEGIN FOO-----\nMAA=\n-----END FOO-----\n"))
	add([]byte(""))
	add([]byte(" \n\t"))
	add([]byte("hello, this is not a certificate\n"))
	out = append(out, fixturetree.Files(".pem", ".crt", ".cert", ".key")...)
	return out
}

func pkcs1(k any) ([]byte, bool) {
	if rk, ok := k.(*rsa.PrivateKey); ok {
		return x509.MarshalPKCS1PrivateKey(rk), true
	}
	return nil, false
}

// keyLeaks reports a piece of private key material from data found in msg:
// a 16-byte window of a key block's DER, or a 32-character window of its
// base64 or hex encoding.
func keyLeaks(data []byte, msg string) string {
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if !strings.Contains(b.Type, "PRIVATE KEY") || len(b.Bytes) < 16 {
			continue
		}
		if w := window(string(b.Bytes), msg, 16); w != "" {
			return "raw key bytes " + hex.EncodeToString([]byte(w))
		}
		if w := window(base64.StdEncoding.EncodeToString(b.Bytes), msg, 32); w != "" {
			return "base64 key body " + w
		}
		if w := window(hex.EncodeToString(b.Bytes), msg, 32); w != "" {
			return "hex key bytes " + w
		}
	}
	return ""
}

func window(secret, msg string, n int) string {
	for i := 0; i+n <= len(secret); i++ {
		if w := secret[i : i+n]; strings.Contains(msg, w) {
			return w
		}
	}
	return ""
}

// FuzzSniff feeds arbitrary bytes to Sniff, ParseCertificates,
// ParsePrivateKey and Describe: they must not panic, must describe every
// input, must round-trip what they accept, and must never echo private key
// material in an error.
func FuzzSniff(f *testing.F) {
	for _, b := range fuzzMaterial(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := Sniff(data)
		d := m.Describe()
		if !strings.HasPrefix(d, "found ") {
			t.Fatalf("Describe() = %q", d)
		}
		if len(m.Kinds) == 0 && len(bytes.TrimSpace(data)) != 0 {
			t.Fatalf("non-empty input described as empty: %q", d)
		}
		_ = m.Primary()
		if m.Encoding == EncDER && len(m.Kinds) != 1 {
			t.Fatalf("DER input with %d kinds", len(m.Kinds))
		}
		for _, s := range append([]string{d}, m.BadBlocks...) {
			if leak := keyLeaks(data, s); leak != "" {
				t.Fatalf("Describe/BadBlocks carry %s: %q", leak, s)
			}
		}

		certs, err := ParseCertificates("in.pem", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "in.pem: ") {
				t.Fatalf("certificate error does not name the file: %v", err)
			}
			if leak := keyLeaks(data, err.Error()); leak != "" {
				t.Fatalf("certificate error carries %s: %v", leak, err)
			}
		} else {
			if len(certs) == 0 {
				t.Fatal("ParseCertificates: no error and no certificates")
			}
			// Round trip: re-encoding what was parsed parses to the same certificates.
			var re []byte
			for _, c := range certs {
				re = append(re, EncodeCert(c)...)
				_ = Fingerprint(c)
			}
			again, err := ParseCertificates("re.pem", re)
			if err != nil || len(again) != len(certs) {
				t.Fatalf("re-encoded certificates do not parse: %v", err)
			}
			for i := range certs {
				if !bytes.Equal(again[i].Raw, certs[i].Raw) {
					t.Fatalf("certificate %d changed in the round trip", i)
				}
			}
		}

		key, err := ParsePrivateKey("in.pem", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "in.pem: ") {
				t.Fatalf("key error does not name the file: %v", err)
			}
			if leak := keyLeaks(data, err.Error()); leak != "" {
				t.Fatalf("key error carries %s: %v", leak, err)
			}
			return
		}
		if key == nil {
			t.Fatal("ParsePrivateKey: no error and no key")
		}
		_ = DescribeKey(key.Public())
		// Round trip: the PKCS#8 re-encoding is the same key, and is
		// idempotent.
		pemKey, err := EncodeKey(key)
		if err != nil {
			t.Fatalf("EncodeKey of a parsed key: %v", err)
		}
		key2, err := ParsePrivateKey("re.pem", pemKey)
		if err != nil {
			t.Fatalf("re-encoded key does not parse: %v", err)
		}
		if !PublicKeysEqual(key.Public(), key2.Public()) {
			t.Fatal("key changed in the round trip")
		}
		pemKey2, err := EncodeKey(key2)
		if err != nil || !bytes.Equal(pemKey, pemKey2) {
			t.Fatalf("PKCS#8 encoding is not stable: %v", err)
		}
	})
}

// FuzzParseSANs checks that what ParseSANs accepts is valid, free of
// duplicates, and parses back to itself when written as DNS:/IP: entries.
func FuzzParseSANs(f *testing.F) {
	for _, s := range []string{
		"docker.example.com", "docker.example.com,10.0.0.5", "DNS:a.example, IP:::1", "*.example.com",
		"[::1]", "::ffff:10.0.0.1", "localhost.", "IP:1.2.3.4\nDNS:1.2.3.4", "a_b.example", "tcp://h:2376",
		"*.com", "a.*.b", "-x.example", strings.Repeat("a", 64) + ".example", "fe80::1%eth0", "UPPER.Example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		values := strings.Split(s, "\n")
		dns, ips, err := ParseSANs(values)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid SAN ") {
				t.Fatalf("error %q", err)
			}
			return
		}
		seen := map[string]bool{}
		var again []string
		for _, n := range dns {
			if err := validateDNSName(n); err != nil || n != strings.ToLower(n) || seen["dns:"+n] {
				t.Fatalf("accepted DNS name %q: %v (duplicate %v)", n, err, seen["dns:"+n])
			}
			seen["dns:"+n] = true
			again = append(again, "DNS:"+n)
		}
		for _, ip := range ips {
			if len(ip) != 4 && len(ip) != 16 || seen["ip:"+ip.String()] {
				t.Fatalf("accepted IP %v (len %d)", ip, len(ip))
			}
			seen["ip:"+ip.String()] = true
			again = append(again, "IP:"+ip.String())
		}
		dns2, ips2, err := ParseSANs(again)
		if err != nil || strings.Join(dns2, ",") != strings.Join(dns, ",") || strings.Join(IPStrings(ips2), ",") != strings.Join(IPStrings(ips), ",") {
			t.Fatalf("round trip of %q: %q %v %v, want %q %v", again, dns2, ips2, err, dns, ips)
		}
	})
}

// FuzzParseFingerprint checks that an accepted fingerprint is normalised to
// the Fingerprint form and that normalising is idempotent and case-blind.
func FuzzParseFingerprint(f *testing.F) {
	iss, err := NewCA(Request{})
	if err != nil {
		f.Fatal(err)
	}
	fp := Fingerprint(iss.Cert)
	for _, s := range []string{
		fp, strings.ToLower(fp), strings.ReplaceAll(strings.TrimPrefix(fp, "SHA256:"), ":", ""),
		"sha256:" + strings.ReplaceAll(strings.TrimPrefix(fp, "SHA256:"), ":", " "), "SHA1:AB", "", "sha256:", "zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := ParseFingerprint(s)
		if !ok {
			if out != "" {
				t.Fatalf("rejected %q but returned %q", s, out)
			}
			return
		}
		if len(out) != len("SHA256:")+32*3-1 || !strings.HasPrefix(out, "SHA256:") || strings.ToUpper(out) != out {
			t.Fatalf("ParseFingerprint(%q) = %q", s, out)
		}
		for _, v := range []string{out, strings.ToLower(out), strings.ReplaceAll(strings.TrimPrefix(out, "SHA256:"), ":", "")} {
			if again, ok := ParseFingerprint(v); !ok || again != out {
				t.Fatalf("ParseFingerprint(%q) = %q %v, want %q", v, again, ok, out)
			}
		}
	})
}
