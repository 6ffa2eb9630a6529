//go:build linux

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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

// TestDoctorLeafAloneRemote: the doctor runs where it cannot read the
// daemon (another machine; here another mount namespace): the live result
// alone must lead and tell where the intermediate is published, which file
// to append it to, and the restart. Its command, run where the daemon's
// files are, then the restart, makes docker version work.
func TestDoctorLeafAloneRemote(t *testing.T) {
	Require(t)
	ForEachCell(t, func(t *testing.T, c *Cell) {
		dir := t.TempDir()
		pk, cl := filepath.Join(dir, "pki"), filepath.Join(dir, "client")
		mustDockerTLS(t, nil, "init", "--san", "localhost,127.0.0.1", "--out", pk)
		if err := os.Mkdir(cl, 0o700); err != nil {
			t.Fatal(err)
		}
		serveLeafAlone(t, pk, cl, false, true)
		ns := NewNamespace(t)
		writeFile(t, ns.HostPath("/etc/docker/daemon.json"), []byte("{}\n"))
		target := fmt.Sprintf("tcp://127.0.0.1:%d", FreePort(t, "127.0.0.1"))
		p := func(n string) string { return filepath.Join(pk, n) }
		args := []string{"-H", target, "--tlsverify", "--tlscacert", p("ca.pem"), "--tlscert", p("server-cert.pem"), "--tlskey", p("server-key.pem")}
		d := StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns, Args: args})
		env := []string{"DOCKER_HOST=" + target, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + cl}
		_, dockerErr, code := ns.RunDocker(t, env, "version")
		if code == 0 {
			t.Fatal("docker version succeeded against a leaf sent alone")
		}
		remote := NewNamespace(t) // the client's machine: no dockerd, no /etc/docker
		out, stderr, code := dockerTLSInNamespace(t, remote, env, "doctor", target, "--format", "json")
		if code != 1 {
			t.Fatalf("doctor: exit %d\n%s\n%s", code, out, stderr)
		}
		rep := parseReport(t, out)
		if len(rep.Findings) == 0 || rep.Findings[0].ID != "probe-server-chain-incomplete" || rep.Summary == nil || rep.Summary.CheckID != "probe-server-chain-incomplete" {
			t.Fatalf("the missing intermediate does not lead: summary %+v\n%+v", rep.Summary, rep.Findings)
		}
		f := rep.Findings[0]
		if got, want := maskTimes(f.Docker), maskTimes(lastLine(dockerErr)); got != want {
			t.Errorf("doctor quotes\n  %q\ndocker printed\n  %q", got, want)
		}
		const lead = "serve the full chain: append the intermediate CN=Example Corp Issuing CA 1,O=Example Corp (published at http://127.0.0.1:"
		_, cmd, ok := strings.Cut(f.Fix, "then restart dockerd: ")
		if !strings.HasPrefix(f.Fix, lead) || !strings.Contains(f.Fix, ") to the file dockerd's tlscert (--tlscert) names, then restart dockerd: ") || !ok {
			t.Fatalf("fix %q", f.Fix)
		}
		cmd, _, _ = strings.Cut(cmd, "; or add the intermediate")
		// The user runs it where dockerd's certificate is, then restarts
		// dockerd.
		runFix(t, ns, "cd "+pk+" && "+cmd)
		d.Stop()
		StartDockerd(t, DockerdOpts{Cell: c, Namespace: ns, Args: args})
		if _, stderr, code := ns.RunDocker(t, env, "version"); code != 0 {
			t.Fatalf("docker version after the printed fix: %s", stderr)
		}
	})
}
