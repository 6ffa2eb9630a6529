package pki

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}

func mustCA(t *testing.T, kt KeyType) *CA {
	t.Helper()
	iss, err := NewCA(Request{KeyType: kt})
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: iss.Cert, Key: iss.Key}
}

func writePEM(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIssuedChainsVerify issues a CA, a server and a client certificate for
// each key type and checks them with Go's verifier (with the role's EKU and
// the SANs) and with `openssl verify -x509_strict -purpose …`.
func TestIssuedChainsVerify(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is required for this test (apt-get install openssl)")
	}
	for _, kt := range KeyTypes {
		if kt == KeyRSA4096 || kt == KeyRSA3072 {
			continue // slow key generation; same code path as rsa-2048
		}
		t.Run(string(kt), func(t *testing.T) {
			ca := mustCA(t, kt)
			dns, ips, err := ParseSANs([]string{"docker.example.com,localhost", "10.0.0.5", "::1"})
			if err != nil {
				t.Fatal(err)
			}
			srv, err := ca.Issue(Request{Role: RoleServer, CommonName: "docker.example.com", DNSNames: dns, IPs: ips, KeyType: kt})
			if err != nil {
				t.Fatal(err)
			}
			cli, err := ca.Issue(Request{Role: RoleClient, CommonName: "alice", KeyType: kt})
			if err != nil {
				t.Fatal(err)
			}
			roots := x509.NewCertPool()
			roots.AddCert(ca.Cert)
			for _, host := range []string{"docker.example.com", "localhost", "10.0.0.5", "::1"} {
				if _, err := srv.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
					t.Errorf("server cert for %s: %v", host, err)
				}
			}
			if _, err := srv.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "other.example.com"}); err == nil {
				t.Error("server cert verified for a name it does not carry")
			}
			if _, err := cli.Cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("client cert: %v", err)
			}
			if _, err := cli.Cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
				t.Error("client cert verified as a server certificate")
			}
			dir := t.TempDir()
			caFile := writePEM(t, dir, "ca.pem", EncodeCert(ca.Cert))
			for _, c := range []struct {
				file, purpose string
				pem           []byte
			}{
				{"ca.pem", "any", EncodeCert(ca.Cert)},
				{"server-cert.pem", "sslserver", srv.CertPEM()},
				{"cert.pem", "sslclient", cli.CertPEM()},
			} {
				f := writePEM(t, dir, c.file, c.pem)
				out, err := exec.Command(openssl, "verify", "-x509_strict", "-purpose", c.purpose, "-CAfile", caFile, f).CombinedOutput()
				if err != nil || !strings.Contains(string(out), ": OK") {
					t.Errorf("openssl verify -x509_strict -purpose %s %s: %v\n%s", c.purpose, c.file, err, out)
				}
			}
			// The wrong purpose must fail: proves the openssl check can fail.
			out, err := exec.Command(openssl, "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", caFile, filepath.Join(dir, "cert.pem")).CombinedOutput()
			if err == nil {
				t.Errorf("openssl accepted a client certificate as a server certificate:\n%s", out)
			}
		})
	}
}

func TestCAProfile(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	iss, err := NewCA(Request{Now: now, CommonName: "Test CA"})
	if err != nil {
		t.Fatal(err)
	}
	c := iss.Cert
	if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("CA basic constraints: IsCA=%v valid=%v pathlen=%d zero=%v", c.IsCA, c.BasicConstraintsValid, c.MaxPathLen, c.MaxPathLenZero)
	}
	critical := false
	for _, e := range c.Extensions {
		if e.Id.Equal(oidBasicConstraints) {
			critical = e.Critical
		}
	}
	if !critical {
		t.Error("basicConstraints is not critical")
	}
	if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("CA key usage = %v, want keyCertSign|cRLSign", KeyUsageNames(c.KeyUsage))
	}
	if len(c.SubjectKeyId) != 20 {
		t.Errorf("CA SKID length = %d, want 20", len(c.SubjectKeyId))
	}
	if got, want := c.NotAfter.Sub(now), time.Duration(DefaultCADays)*24*time.Hour; got != want {
		t.Errorf("CA validity = %v, want %v", got, want)
	}
	if !c.NotBefore.Equal(now.Add(-Backdate)) {
		t.Errorf("NotBefore = %v, want backdated by %v", c.NotBefore, Backdate)
	}
	if _, ok := iss.Key.(*ecdsa.PrivateKey); !ok {
		t.Errorf("default key is %T, want ECDSA", iss.Key)
	}
}

func TestLeafProfile(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	caIss, err := NewCA(Request{Now: now, KeyType: KeyRSA2048})
	if err != nil {
		t.Fatal(err)
	}
	ca := &CA{Cert: caIss.Cert, Key: caIss.Key}
	for _, tc := range []struct {
		kt      KeyType
		role    Role
		wantKU  x509.KeyUsage
		wantEKU x509.ExtKeyUsage
	}{
		{KeyECDSAP256, RoleServer, x509.KeyUsageDigitalSignature, x509.ExtKeyUsageServerAuth},
		{KeyRSA2048, RoleServer, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, x509.ExtKeyUsageServerAuth},
		{KeyECDSAP256, RoleClient, x509.KeyUsageDigitalSignature, x509.ExtKeyUsageClientAuth},
		{KeyRSA2048, RoleClient, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, x509.ExtKeyUsageClientAuth},
	} {
		req := Request{Role: tc.role, KeyType: tc.kt, Now: now, CommonName: "x"}
		if tc.role == RoleServer {
			req.DNSNames = []string{"x.example"}
		}
		iss, err := ca.Issue(req)
		if err != nil {
			t.Fatal(err)
		}
		c := iss.Cert
		if c.KeyUsage != tc.wantKU {
			t.Errorf("%s %s: KU = %v", tc.kt, tc.role, KeyUsageNames(c.KeyUsage))
		}
		if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != tc.wantEKU {
			t.Errorf("%s %s: EKU = %v", tc.kt, tc.role, ExtKeyUsageNames(c))
		}
		if c.IsCA {
			t.Errorf("%s %s: leaf is a CA", tc.kt, tc.role)
		}
		if string(c.AuthorityKeyId) != string(ca.Cert.SubjectKeyId) {
			t.Errorf("%s %s: AKID does not match the CA's SKID", tc.kt, tc.role)
		}
		if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 || c.SerialNumber.BitLen() < 64 {
			t.Errorf("serial %x: want a positive random 128-bit number", c.SerialNumber)
		}
		if d := c.NotAfter.Sub(now); d != time.Duration(DefaultLeafDays)*24*time.Hour {
			t.Errorf("leaf validity %v, want %d days", d, DefaultLeafDays)
		}
		if _, isRSA := iss.Key.(*rsa.PrivateKey); isRSA != (tc.kt == KeyRSA2048) {
			t.Errorf("key type %T for %s", iss.Key, tc.kt)
		}
	}
}

func TestIssueRules(t *testing.T) {
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	caIss, err := NewCA(Request{Now: now, Days: 100})
	if err != nil {
		t.Fatal(err)
	}
	ca := &CA{Cert: caIss.Cert, Key: caIss.Key}
	// Leaf validity is clamped to the CA's, with a note.
	iss, err := ca.Issue(Request{Role: RoleClient, Now: now, Days: 365})
	if err != nil {
		t.Fatal(err)
	}
	if !iss.Cert.NotAfter.Equal(ca.Cert.NotAfter) || len(iss.Notes) != 1 || !strings.Contains(iss.Notes[0], "shortened to end with the CA on 2026-04-12") {
		t.Errorf("clamp: NotAfter=%v notes=%q", iss.Cert.NotAfter, iss.Notes)
	}
	for _, tc := range []struct {
		req  Request
		want string
	}{
		{Request{Role: RoleServer, Now: now}, "a server certificate needs at least one SAN (--san): Go clients, and so Docker, ignore the Common Name"},
		{Request{Role: RoleClient, Now: now, Days: 900}, "invalid validity 900 days: leaf certificates may be valid for at most 825 days"},
		{Request{Role: RoleCA, Now: now}, `can only issue server or client certificates, not "ca"`},
		{Request{Role: RoleClient, Now: now.AddDate(1, 0, 0)}, `the CA "` + ca.Cert.Subject.CommonName + `" expired on 2026-04-12: create a new CA`},
	} {
		_, err := ca.Issue(tc.req)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Issue(%+v) error = %v, want %q", tc.req.Role, err, tc.want)
		}
	}
}

func TestParseSANs(t *testing.T) {
	dns, ips, err := ParseSANs([]string{"Docker.Example.com, 10.0.0.5", "IP:::1", "DNS:*.svc.example", "[fe80::1]", "localhost.", "10.0.0.5"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(dns, ","); got != "docker.example.com,*.svc.example,localhost" {
		t.Errorf("dns = %s", got)
	}
	if got := strings.Join(IPStrings(ips), ","); got != "10.0.0.5,::1,fe80::1" {
		t.Errorf("ips = %s", got)
	}
	if len(ips[0]) != net.IPv4len {
		t.Errorf("IPv4 SAN stored as %d bytes, want 4", len(ips[0]))
	}
	for in, want := range map[string]string{
		"*.com":                   `invalid SAN "*.com": a wildcard needs at least two labels after it (*.example.com, not *.com)`,
		"a.*.example.com":         `invalid SAN "a.*.example.com": a wildcard must be the whole left-most label (*.example.com)`,
		"f*.example.com":          `invalid SAN "f*.example.com": a wildcard must be the whole left-most label (*.example.com)`,
		"tcp://docker.example:1":  `invalid SAN "tcp://docker.example:1": expected a DNS name or IP address, not a URL, host:port or path`,
		"docker.example.com:2376": `invalid SAN "docker.example.com:2376": expected a DNS name or IP address, not a URL, host:port or path`,
		"IP:docker.example.com":   `invalid SAN "IP:docker.example.com": expected an IP address after IP:`,
		"-bad.example.com":        `invalid SAN "-bad.example.com": label "-bad" starts or ends with a hyphen`,
		"bad..example":            `invalid SAN "bad..example": empty label`,
		"über.example":            `invalid SAN "über.example": invalid character 'ü'`,
		"300.1.1.1":               `invalid SAN "300.1.1.1": not an IP address (an IPv4 address is four numbers 0-255 separated by dots) and not a DNS name (its last label is a number)`,
		"10.0.0.256":              `invalid SAN "10.0.0.256": not an IP address (an IPv4 address is four numbers 0-255 separated by dots) and not a DNS name (its last label is a number)`,
		"DNS:10.0.5":              `invalid SAN "DNS:10.0.5": not an IP address (an IPv4 address is four numbers 0-255 separated by dots) and not a DNS name (its last label is a number)`,
	} {
		if _, _, err := ParseSANs([]string{in}); err == nil || err.Error() != want {
			t.Errorf("ParseSANs(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestLoadCA(t *testing.T) {
	a, b := mustCA(t, KeyECDSAP256), mustCA(t, KeyECDSAP256)
	aKey, _ := EncodeKey(a.Key)
	bKey, _ := EncodeKey(b.Key)
	if _, err := LoadCA("ca.pem", EncodeCert(a.Cert), "ca-key.pem", aKey); err != nil {
		t.Fatal(err)
	}
	_, err := LoadCA("ca.pem", EncodeCert(a.Cert), "other-key.pem", bKey)
	want := "CA key other-key.pem does not match CA certificate ca.pem: the key's public key is not the certificate's (ECDSA P-256 key vs ECDSA P-256 certificate)"
	if err == nil || err.Error() != want {
		t.Errorf("mismatch error = %v, want %q", err, want)
	}
	leaf, err := a.Issue(Request{Role: RoleClient, CommonName: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	leafKey, _ := leaf.KeyPEM()
	_, err = LoadCA("cert.pem", leaf.CertPEM(), "key.pem", leafKey)
	if err == nil || err.Error() != `cert.pem is not a CA certificate (subject "CN=bob" has no basicConstraints CA:TRUE): it cannot sign certificates` {
		t.Errorf("leaf as CA: %v", err)
	}
	_, err = LoadCA("ca-key.pem", aKey, "ca.pem", EncodeCert(a.Cert))
	if err == nil || err.Error() != "ca-key.pem: found a private key, expected a PEM certificate (-----BEGIN CERTIFICATE-----) (are the certificate and key files swapped?)" {
		t.Errorf("swapped: %v", err)
	}
}
