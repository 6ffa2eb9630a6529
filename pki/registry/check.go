// Package registry builds what `docker tls install-registry` installs: the
// certs.d files (ca.crt, client.cert, client.key) Docker, rootless Docker and
// containers/image read, and containerd's hosts.toml, merged into an existing
// one. It has no docker/cli imports so that it builds, tests and fuzzes fast.
package registry

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/pki"
)

// certName is how messages name a certificate: its CN, else its first SAN,
// else its whole subject.
func certName(c *x509.Certificate) string {
	switch {
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	case len(c.IPAddresses) > 0:
		return c.IPAddresses[0].String()
	}
	return c.Subject.String()
}

func hasEKU(c *x509.Certificate, u x509.ExtKeyUsage) bool {
	for _, x := range c.ExtKeyUsage {
		if x == u {
			return true
		}
	}
	return false
}

// describeNonCA says what a certificate that is not a CA is, for example
// `a server certificate for "myreg" (extended key usage serverAuth, not a CA)`.
func describeNonCA(c *x509.Certificate) string {
	name := certName(c)
	ekus := pki.ExtKeyUsageNames(c)
	if len(ekus) == 0 {
		return fmt.Sprintf("a certificate for %q that is not a CA (no basicConstraints CA:TRUE)", name)
	}
	kind := "a certificate"
	switch {
	case hasEKU(c, x509.ExtKeyUsageServerAuth):
		kind = "a server certificate"
	case hasEKU(c, x509.ExtKeyUsageClientAuth):
		kind = "a client certificate"
	}
	return fmt.Sprintf("%s for %q (extended key usage %s, not a CA)", kind, name, strings.Join(ekus, ","))
}

// CheckCA validates the registry's CA certificate file: every certificate
// in it must be a CA (a registry's own certificate copied as ca.crt is the
// classic mistake), and it must not hold a private key, since ca.crt is
// world-readable. It returns the certificates re-encoded as PEM (comments and
// other blocks dropped) and warnings for the user.
func CheckCA(name string, data []byte, now time.Time) (pemData []byte, certs []*x509.Certificate, warnings []string, err error) {
	certs, err = pki.ParseCertificates(name, data)
	if err != nil {
		return nil, nil, nil, err
	}
	if m := pki.Sniff(data); m.Has(pki.KindPrivateKey) || m.Has(pki.KindEncryptedKey) {
		return nil, nil, nil, fmt.Errorf("%s: found a private key next to the certificate; refusing to install it as the world-readable %s: pass a file with only the CA certificate", name, "ca.crt")
	}
	for i, c := range certs {
		if c.BasicConstraintsValid && c.IsCA {
			continue
		}
		which := ""
		if len(certs) > 1 {
			which = fmt.Sprintf(" (certificate %d of %d)", i+1, len(certs))
		}
		hint := ""
		if pki.IsSelfSigned(c) {
			hint = "; it is self-signed: reissue the registry's certificate from a CA, for example with 'docker tls issue server'"
		}
		return nil, nil, nil, fmt.Errorf("%s: found %s%s, expected the CA certificate that signed the registry's certificate%s", name, describeNonCA(c), which, hint)
	}
	for _, c := range certs {
		pemData = append(pemData, pki.EncodeCert(c)...)
		if now.After(c.NotAfter) {
			warnings = append(warnings, fmt.Sprintf("%s: the CA %q expired on %s: clients will reject the registry's certificate (\"x509: certificate has expired or is not yet valid\")", name, certName(c), c.NotAfter.UTC().Format(time.DateOnly)))
		}
		if !pki.IsSelfSigned(c) {
			warnings = append(warnings, fmt.Sprintf("%s: the CA %q is not self-signed (it was issued by %q): clients trust it as an anchor, which works as long as the registry's certificate chains to it", name, certName(c), c.Issuer.String()))
		}
	}
	return pemData, certs, warnings, nil
}

// ClientPair is a validated client certificate and key.
type ClientPair struct {
	Cert    *x509.Certificate
	CertPEM []byte // the certificates only, re-encoded
	KeyPEM  []byte // as given
}

// CheckClientPair validates a client certificate and key for a registry:
// they must belong together, and the certificate must allow clientAuth.
func CheckClientPair(certFile string, certData []byte, keyName string, keyData []byte, now time.Time) (*ClientPair, []string, error) {
	certs, err := pki.ParseCertificates(certFile, certData)
	if err != nil {
		return nil, nil, err
	}
	key, err := pki.ParsePrivateKey(keyName, keyData)
	if err != nil {
		return nil, nil, err
	}
	c := certs[0]
	if c.BasicConstraintsValid && c.IsCA {
		return nil, nil, fmt.Errorf("%s: found a CA certificate (%q), expected the client certificate to present to the registry", certFile, certName(c))
	}
	if !pki.KeyMatches(key, c.PublicKey) {
		return nil, nil, fmt.Errorf("%s does not match %s: the key's public key (%s) is not the certificate's (%s)", keyName, certFile, pki.DescribeKey(key.Public()), pki.DescribeKey(c.PublicKey))
	}
	if !pki.AllowsUsage(c, x509.ExtKeyUsageClientAuth) {
		return nil, nil, fmt.Errorf("%s: certificate %q does not allow client authentication (extended key usage %s, expected clientAuth); the registry would answer \"remote error: tls: bad certificate\"", certFile, certName(c), strings.Join(pki.ExtKeyUsageNames(c), ","))
	}
	var warnings []string
	if now.After(c.NotAfter) {
		warnings = append(warnings, fmt.Sprintf("%s: the client certificate %q expired on %s: the registry will reject it (\"remote error: tls: expired certificate\")", certFile, certName(c), c.NotAfter.UTC().Format(time.DateOnly)))
	}
	var certPEM []byte
	for _, x := range certs {
		certPEM = append(certPEM, pki.EncodeCert(x)...)
	}
	return &ClientPair{Cert: c, CertPEM: certPEM, KeyPEM: keyData}, warnings, nil
}
