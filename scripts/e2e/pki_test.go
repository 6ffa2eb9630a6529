//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// testPKI is a throw-away CA made with the openssl CLI. It stands in for the
// docker-tls CLI until that can issue certificates.
type testPKI struct {
	dir           string
	caCert, caKey string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("e2e: openssl is required to make test certificates: %v", err)
	}
	p := &testPKI{dir: t.TempDir()}
	p.caCert = filepath.Join(p.dir, "ca.pem")
	p.caKey = filepath.Join(p.dir, "ca-key.pem")
	openssl(t, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", p.caKey, "-out", p.caCert, "-days", "2", "-subj", "/CN=docker-tls e2e CA",
		"-addext", "basicConstraints=critical,CA:TRUE",
		"-addext", "keyUsage=critical,keyCertSign,cRLSign")
	return p
}

// issue makes a leaf certificate and key named name.pem / name-key.pem.
// extKeyUsage is "serverAuth" or "clientAuth"; san is an OpenSSL
// subjectAltName value such as "DNS:localhost,IP:127.0.0.1" (may be empty).
func (p *testPKI) issue(t *testing.T, name, cn, extKeyUsage, san string) (cert, key string) {
	t.Helper()
	cert = filepath.Join(p.dir, name+".pem")
	key = filepath.Join(p.dir, name+"-key.pem")
	csr := filepath.Join(p.dir, name+".csr")
	ext := filepath.Join(p.dir, name+".ext")
	extText := "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=" + extKeyUsage + "\n"
	if san != "" {
		extText += "subjectAltName=" + san + "\n"
	}
	if err := os.WriteFile(ext, []byte(extText), 0o600); err != nil {
		t.Fatal(err)
	}
	openssl(t, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", key, "-out", csr, "-subj", "/CN="+cn)
	openssl(t, "x509", "-req", "-in", csr, "-CA", p.caCert, "-CAkey", p.caKey, "-CAcreateserial",
		"-days", "2", "-extfile", ext, "-out", cert)
	return cert, key
}

func openssl(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

// copyFile copies src to dst with the given mode, creating dst's directory.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
}
