package pki

import (
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// formats builds one file per format users hand us, with the real openssl.
func formats(t *testing.T) (dir string, keyDER []byte) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is required for this test (apt-get install openssl)")
	}
	ca := mustCA(t, KeyECDSAP256)
	leaf, err := ca.Issue(Request{Role: RoleClient, CommonName: "c"})
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	keyPEM, _ := leaf.KeyPEM()
	writePEM(t, dir, "cert.pem", leaf.CertPEM())
	writePEM(t, dir, "key.pem", keyPEM)
	writePEM(t, dir, "ca.pem", EncodeCert(ca.Cert))
	writePEM(t, dir, "empty.pem", []byte("\n  \n"))
	writePEM(t, dir, "garbage.txt", []byte("hello, this is not a certificate\n"))
	writePEM(t, dir, "bundle.pem", append(leaf.CertPEM(), EncodeCert(ca.Cert)...))
	writePEM(t, dir, "combined.pem", append(leaf.CertPEM(), keyPEM...))
	block, _ := pem.Decode(keyPEM)
	keyDER = block.Bytes
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("x509", "-in", "cert.pem", "-outform", "der", "-out", "cert.der")
	run("pkey", "-in", "key.pem", "-outform", "der", "-out", "key.der")
	run("crl2pkcs7", "-nocrl", "-certfile", "bundle.pem", "-out", "bundle.p7b")
	run("crl2pkcs7", "-nocrl", "-certfile", "bundle.pem", "-outform", "der", "-out", "bundle.p7b.der")
	run("pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-passout", "pass:secret", "-out", "bundle.p12")
	run("pkey", "-in", "key.pem", "-aes256", "-passout", "pass:secret", "-out", "enc.pem")
	run("ec", "-in", "key.pem", "-aes256", "-passout", "pass:secret", "-out", "legacy-enc.pem")
	run("pkcs8", "-topk8", "-in", "key.pem", "-v2", "aes256", "-passout", "pass:secret", "-outform", "der", "-out", "enc.der")
	run("ec", "-in", "key.pem", "-out", "sec1.pem")
	run("req", "-new", "-key", "key.pem", "-subj", "/CN=x", "-out", "req.csr")
	return dir, keyDER
}

func TestSniffFormats(t *testing.T) {
	dir, _ := formats(t)
	for file, want := range map[string]string{
		"cert.pem":       "found a certificate",
		"key.pem":        "found a private key",
		"sec1.pem":       "found a private key",
		"bundle.pem":     "found 2 certificates",
		"combined.pem":   "found a certificate and a private key",
		"cert.der":       "found a DER-encoded certificate",
		"key.der":        "found a DER-encoded private key",
		"bundle.p7b":     "found a PKCS#7 bundle",
		"bundle.p7b.der": "found a DER-encoded PKCS#7 bundle",
		"bundle.p12":     "found a DER-encoded PKCS#12 bundle",
		"enc.pem":        "found an encrypted private key",
		"legacy-enc.pem": "found an encrypted private key",
		"enc.der":        "found a DER-encoded encrypted private key",
		"req.csr":        "found a certificate request",
		"empty.pem":      "found an empty file",
		"garbage.txt":    "found no PEM data",
	} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := Sniff(data).Describe(); got != want {
			t.Errorf("%s: Describe() = %q, want %q", file, got, want)
		}
	}
}

func TestParseErrorsNameFileAndFix(t *testing.T) {
	dir, keyDER := formats(t)
	read := func(f string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	certCases := map[string]string{
		"key.pem":     "key.pem: found a private key, expected a PEM certificate (-----BEGIN CERTIFICATE-----) (are the certificate and key files swapped?)",
		"cert.der":    "cert.der: found a DER-encoded certificate, expected a PEM certificate (-----BEGIN CERTIFICATE-----) (convert it with: openssl x509 -inform der -in cert.der -out cert.der.pem)",
		"bundle.p7b":  "bundle.p7b: found a PKCS#7 bundle, expected a PEM certificate (-----BEGIN CERTIFICATE-----) (extract the certificates with: openssl pkcs7 -print_certs -in bundle.p7b -out bundle.p7b.pem)",
		"bundle.p12":  "bundle.p12: found a DER-encoded PKCS#12 bundle, expected a PEM certificate (-----BEGIN CERTIFICATE-----) (extract the certificate with: openssl pkcs12 -in bundle.p12 -clcerts -nokeys -out cert.pem)",
		"empty.pem":   "empty.pem: found an empty file, expected a PEM certificate (-----BEGIN CERTIFICATE-----)",
		"garbage.txt": "garbage.txt: found no PEM data, expected a PEM certificate (-----BEGIN CERTIFICATE-----)",
	}
	for f, want := range certCases {
		_, err := ParseCertificates(f, read(f))
		if err == nil || err.Error() != want {
			t.Errorf("ParseCertificates(%s) = %v\nwant %q", f, err, want)
		}
	}
	keyCases := map[string]string{
		"cert.pem":       "cert.pem: found a certificate, expected a PEM private key (-----BEGIN PRIVATE KEY-----) (are the certificate and key files swapped?)",
		"key.der":        "key.der: found a DER-encoded private key, expected a PEM private key (-----BEGIN PRIVATE KEY-----) (convert it with: openssl pkey -inform der -in key.der -out key.der.pem)",
		"enc.pem":        "enc.pem: found an encrypted private key, expected an unencrypted PEM private key: Docker does not support encrypted keys (decrypt it with: openssl pkey -in enc.pem -out enc.pem.decrypted)",
		"legacy-enc.pem": "legacy-enc.pem: found an encrypted private key, expected an unencrypted PEM private key: Docker does not support encrypted keys (decrypt it with: openssl pkey -in legacy-enc.pem -out legacy-enc.pem.decrypted)",
		"bundle.p12":     "bundle.p12: found a DER-encoded PKCS#12 bundle, expected a PEM private key (-----BEGIN PRIVATE KEY-----) (extract the key with: openssl pkcs12 -in bundle.p12 -nocerts -nodes -out key.pem)",
	}
	for f, want := range keyCases {
		_, err := ParsePrivateKey(f, read(f))
		if err == nil || err.Error() != want {
			t.Errorf("ParsePrivateKey(%s) = %v\nwant %q", f, err, want)
		}
	}
	// Good inputs parse, and the key matches the certificate.
	certs, err := ParseCertificates("bundle.pem", read("bundle.pem"))
	if err != nil || len(certs) != 2 {
		t.Fatalf("bundle: %v (%d certs)", err, len(certs))
	}
	for _, f := range []string{"key.pem", "sec1.pem"} {
		k, err := ParsePrivateKey(f, read(f))
		if err != nil || !KeyMatches(k, certs[0].PublicKey) || KeyMatches(k, certs[1].PublicKey) {
			t.Errorf("%s: err=%v, or matched the wrong certificate", f, err)
		}
	}
	// No error text carries key material.
	secret := base64.StdEncoding.EncodeToString(keyDER)
	for f := range keyCases {
		_, err := ParsePrivateKey(f, read(f))
		if strings.Contains(err.Error(), secret[:16]) || strings.Contains(err.Error(), "PRIVATE KEY-----\n") {
			t.Errorf("error for %s leaks key material", f)
		}
	}
}

func TestFingerprints(t *testing.T) {
	ca := mustCA(t, KeyECDSAP256)
	fp := Fingerprint(ca.Cert)
	if !strings.HasPrefix(fp, "SHA256:") || len(fp) != len("SHA256:")+32*3-1 {
		t.Errorf("fingerprint %q", fp)
	}
	for _, in := range []string{fp, strings.ToLower(fp), strings.ReplaceAll(strings.TrimPrefix(fp, "SHA256:"), ":", "")} {
		if got, ok := ParseFingerprint(in); !ok || got != fp {
			t.Errorf("ParseFingerprint(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := ParseFingerprint("SHA256:AB:CD"); ok {
		t.Error("short fingerprint accepted")
	}
	if pin := SPKIPin(ca.Cert); !strings.HasPrefix(pin, "sha256/") || len(pin) != 51 {
		t.Errorf("pin %q", pin)
	}
}

// TestSniffDERTrailingWhitespaceByte: a DER certificate whose last byte is
// 0x0a or 0x20 must not be trimmed (it was, once: a flaky "no PEM data").
func TestSniffDERTrailingWhitespaceByte(t *testing.T) {
	ca := mustCA(t, KeyECDSAP256)
	for i := 0; i < 5000; i++ {
		iss, err := ca.Issue(Request{Role: RoleClient, CommonName: "c"})
		if err != nil {
			t.Fatal(err)
		}
		der := iss.Cert.Raw
		if last := der[len(der)-1]; last != '\n' && last != ' ' && last != '\t' && last != '\r' {
			continue
		}
		if got := Sniff(der).Describe(); got != "found a DER-encoded certificate" {
			t.Fatalf("DER ending in %#x: %s", der[len(der)-1], got)
		}
		return
	}
	t.Fatal("no certificate ending in a white-space byte in 5000 tries")
}
