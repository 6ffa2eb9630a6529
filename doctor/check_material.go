package doctor

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"io/fs"
	"runtime"
	"strings"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/pki"
)

// tlsFile is one file read for its TLS content. mat is nil when the file
// does not exist or could not be read (fi.Problem says why).
type tlsFile struct {
	fi  fileInfo
	mat *pki.Material
	// truncated: the file ends with a PEM BEGIN line that has no END line
	// after it, which pem.Decode (and so Docker) skips without a word.
	truncated bool
}

// truncatedHint is how a finding says tlsFile.truncated.
const truncatedHint = "it ends with a BEGIN line without its END line: truncated?"

// danglingPEM reports whether data ends with a PEM BEGIN line and no END
// line after it.
func danglingPEM(data []byte) bool {
	// The last BEGIN, found forwards: bytes.Index is vectorised,
	// bytes.LastIndex is not (and the pattern cannot overlap itself).
	begin := []byte("-----BEGIN ")
	i := -1
	for off := 0; ; {
		j := bytes.Index(data[off:], begin)
		if j < 0 {
			break
		}
		i = off + j
		off = i + len(begin)
	}
	return i >= 0 && !bytes.Contains(data[i:], []byte("-----END "))
}

func (r *runner) load(p string) *tlsFile {
	fi, data := r.readFile(p)
	t := &tlsFile{fi: fi}
	if data != nil || (fi.Exists && fi.Problem == "" && fi.Mode.IsRegular()) {
		t.mat = r.sniff(p, data)
		t.truncated = danglingPEM(data)
	}
	return t
}

// truncatedTail warns about a file whose certificates parse but whose end
// was cut off: the loader uses what is before the cut and ignores the rest
// (a CA or intermediate that was there is silently missing).
func (r *runner) truncatedTail(t *tlsFile, what string) {
	if !t.truncated || t.mat == nil || len(t.mat.Certs) == 0 {
		return
	}
	r.add(catalog.IDPEMTruncated, r.disp(t.fi.Path),
		fmt.Sprintf("%s (%s) ends with a BEGIN line without its END line (truncated?): Docker reads the %s before it and ignores the rest", r.disp(t.fi.Path), what, plural(len(t.mat.Certs), "certificate")),
		fmt.Sprintf("restore the end of %s from where it was copied (every PEM block ends with an -----END ...----- line)", r.q(t.fi.Path)), nil)
}

// certUse is the role a certificate plays where it was found.
type certUse int

const (
	useCA     certUse = iota // a trust anchor (ca.pem, certs.d *.crt, tlscacert)
	useServer                // the daemon's (or a registry's) server certificate
	useClient                // a client certificate
	useChain                 // an intermediate after the leaf in a certificate file
)

func (u certUse) String() string {
	switch u {
	case useCA:
		return "CA certificate"
	case useServer:
		return "server certificate"
	case useClient:
		return "client certificate"
	}
	return "intermediate certificate"
}

// unreadable reports a file that exists but was not read.
func (r *runner) unreadable(t *tlsFile, what string) bool {
	if t.fi.Problem == "" {
		return false
	}
	r.add(catalog.IDFileUnreadable, r.disp(t.fi.Path),
		fmt.Sprintf("%s (%s) %s", r.disp(t.fi.Path), what, t.fi.Problem),
		fmt.Sprintf("replace %s with a regular PEM file", r.q(t.fi.Path)),
		map[string]string{"problem": t.fi.Problem})
	return true
}

func badNegativeSerial(m *pki.Material) bool {
	for _, b := range m.BadBlocks {
		if strings.Contains(b, "negative serial") {
			return true
		}
	}
	return false
}

// certFile checks a file expected to hold PEM certificates and returns
// them (leaf first), or nil after reporting why it cannot be used.
func (r *runner) certFile(t *tlsFile, what string) []*x509.Certificate {
	if r.unreadable(t, what) || t.mat == nil {
		return nil
	}
	m, p := t.mat, t.fi.Path
	if badNegativeSerial(m) {
		r.add(catalog.IDSerialNegative, r.disp(p),
			fmt.Sprintf("%s (%s) holds a certificate with a negative serial number, which Go refuses to parse (\"x509: negative serial number\")", r.disp(p), what),
			"reissue the certificate with a positive serial number (docker tls issue)", nil)
		return nil
	}
	if m.Encoding == pki.EncPEM && len(m.Certs) > 0 {
		r.truncatedTail(t, what)
		return m.Certs
	}
	r.wrongFormat(t, what, pki.KindCertificate)
	return nil
}

// keyFile checks a file expected to hold one PEM private key.
func (r *runner) keyFile(t *tlsFile, what string) crypto.Signer {
	if r.unreadable(t, what) || t.mat == nil {
		return nil
	}
	m, p := t.mat, t.fi.Path
	if m.Has(pki.KindEncryptedKey) {
		r.add(catalog.IDKeyEncrypted, r.disp(p),
			fmt.Sprintf("%s (%s) is an encrypted private key: Docker fails with \"private key is encrypted - support for encrypted private keys has been removed\"", r.disp(p), what),
			fmt.Sprintf("openssl pkey -in %[1]s -out %[1]s.plain && chmod 0600 %[1]s.plain && mv %[1]s.plain %[1]s", r.q(p)), nil)
		r.keyMode(t, what)
		return nil
	}
	if m.Encoding == pki.EncPEM && len(m.Keys) > 0 {
		r.keyMode(t, what)
		return m.Keys[0]
	}
	if m.Encoding == pki.EncPEM && m.Has(pki.KindPrivateKey) {
		r.add(catalog.IDWrongFormatUnknown, r.disp(p),
			fmt.Sprintf("%s (%s) has a private key block that does not parse: %s", r.disp(p), what, m.BadBlocks[0]),
			fmt.Sprintf("replace %s with the PEM private key it should hold", r.q(p)), nil)
		return nil
	}
	r.wrongFormat(t, what, pki.KindPrivateKey)
	return nil
}

// wrongFormat reports a file that does not hold the wanted PEM kind.
func (r *runner) wrongFormat(t *tlsFile, what string, want pki.Kind) {
	m, p := t.mat, t.fi.Path
	dp, qp := r.disp(p), r.q(p)
	wantWord := "a PEM certificate"
	if want == pki.KindPrivateKey {
		wantWord = "a PEM private key"
	}
	ev := map[string]string{"found": strings.TrimPrefix(m.Describe(), "found ")}
	switch prim := m.Primary(); {
	case prim == pki.KindPKCS12:
		fix := fmt.Sprintf("openssl pkcs12 -in %[1]s -clcerts -nokeys -out %[1]s.pem && mv %[1]s.pem %[1]s (extract the key the same way with -nocerts -nodes)", qp)
		if want == pki.KindPrivateKey {
			fix = fmt.Sprintf("openssl pkcs12 -in %[1]s -nocerts -nodes -out %[1]s.pem && chmod 0600 %[1]s.pem && mv %[1]s.pem %[1]s", qp)
		}
		r.add(catalog.IDWrongFormatPKCS12, dp, fmt.Sprintf("%s (%s) is a PKCS#12 bundle, expected %s", dp, what, wantWord), fix, ev)
	case prim == pki.KindPKCS7:
		r.add(catalog.IDWrongFormatPKCS7, dp, fmt.Sprintf("%s (%s) is a PKCS#7 bundle, expected %s", dp, what, wantWord),
			fmt.Sprintf("openssl pkcs7 -print_certs -in %[1]s -out %[1]s.pem && mv %[1]s.pem %[1]s", qp), ev)
	case want == pki.KindCertificate && (m.Has(pki.KindPrivateKey) || m.Has(pki.KindEncryptedKey)):
		r.add(catalog.IDFilesSwapped, dp, fmt.Sprintf("%s (%s) holds a private key, not a certificate: \"tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched\"", dp, what),
			fmt.Sprintf("put the certificate in %s and the key in the key file (the two look swapped)", qp), ev)
	case want == pki.KindPrivateKey && m.Has(pki.KindCertificate):
		r.add(catalog.IDFilesSwapped, dp, fmt.Sprintf("%s (%s) holds a certificate, not a private key", dp, what),
			fmt.Sprintf("put the private key in %s and the certificate in the certificate file (the two look swapped)", qp), ev)
	case m.Encoding == pki.EncDER && prim == pki.KindCertificate:
		r.add(catalog.IDWrongFormatDER, dp, fmt.Sprintf("%s (%s) is a DER-encoded certificate, expected PEM", dp, what),
			fmt.Sprintf("openssl x509 -inform der -in %[1]s -out %[1]s.pem && mv %[1]s.pem %[1]s", qp), ev)
	case m.Encoding == pki.EncDER && prim == pki.KindPrivateKey:
		r.add(catalog.IDWrongFormatDER, dp, fmt.Sprintf("%s (%s) is a DER-encoded private key, expected PEM", dp, what),
			fmt.Sprintf("openssl pkey -inform der -in %[1]s -out %[1]s.pem && chmod 0600 %[1]s.pem && mv %[1]s.pem %[1]s", qp), ev)
	default:
		desc := m.Describe()
		if len(m.BadBlocks) > 0 {
			desc = m.BadBlocks[0]
		}
		if t.truncated {
			desc += " (" + truncatedHint + ")"
		}
		r.add(catalog.IDWrongFormatUnknown, dp, fmt.Sprintf("%s (%s): %s, expected %s", dp, what, desc, wantWord),
			fmt.Sprintf("replace %s with %s", qp, wantWord), ev)
	}
}

// keyMode warns about a private key readable by group or others. Not on
// Windows: a file mode there (0666 or 0444) does not say who can read the
// file (its DACL does), so the mode would flag every key.
func (r *runner) keyMode(t *tlsFile, what string) {
	perm := t.fi.Mode.Perm()
	if perm&0o077 == 0 || runtime.GOOS == "windows" {
		return
	}
	r.add(catalog.IDKeyPermissions, r.disp(t.fi.Path),
		fmt.Sprintf("%s (%s) has mode %04o: readable by %s", r.disp(t.fi.Path), what, uint32(perm), whoCanRead(perm)),
		fmt.Sprintf("chmod 0600 %s", r.q(t.fi.Path)),
		map[string]string{"mode": fmt.Sprintf("%04o", uint32(perm))})
}

func whoCanRead(perm fs.FileMode) string {
	switch {
	case perm&0o004 != 0 && perm&0o040 != 0:
		return "group and others"
	case perm&0o004 != 0:
		return "others"
	case perm&0o040 != 0:
		return "group"
	}
	return "group or others (write/execute)"
}

// pairFiles checks a certificate and key meant to be used together and
// returns what is usable. what names the pair ("client", "daemon").
func (r *runner) pairFiles(certF, keyF *tlsFile, use certUse) ([]*x509.Certificate, crypto.Signer) {
	what := use.String()
	keyWhat := strings.Replace(what, "certificate", "key", 1)
	// Both present and each holding the other's kind: one finding.
	if certF.mat != nil && keyF.mat != nil && len(certF.mat.Certs) == 0 && len(certF.mat.Keys) > 0 &&
		len(keyF.mat.Keys) == 0 && len(keyF.mat.Certs) > 0 {
		dc, dk := r.disp(certF.fi.Path), r.disp(keyF.fi.Path)
		r.add(catalog.IDFilesSwapped, dc,
			fmt.Sprintf("%s holds a private key and %s a certificate: the %s files are swapped", dc, dk, what),
			fmt.Sprintf("mv %[1]s %[1]s.tmp && mv %[2]s %[1]s && mv %[1]s.tmp %[2]s && chmod 0600 %[2]s", r.q(certF.fi.Path), r.q(keyF.fi.Path)), nil)
		return nil, nil
	}
	certs := r.certFile(certF, what)
	key := r.keyFile(keyF, keyWhat)
	if len(certs) > 0 {
		r.certChecks(certs[0], certF.fi.Path, use)
		for _, c := range certs[1:] {
			r.certChecks(c, certF.fi.Path, useChain)
		}
	}
	if len(certs) > 0 && key != nil && !pki.KeyMatches(key, certs[0].PublicKey) {
		dc, dk := r.disp(certF.fi.Path), r.disp(keyF.fi.Path)
		r.add(catalog.IDKeyMismatch, dc,
			fmt.Sprintf("%s does not belong to %s: the key is %s, the certificate's public key is %s%s", dk, dc,
				pki.DescribeKey(key.Public()), pki.DescribeKey(certs[0].PublicKey), sameTypeNote(key.Public(), certs[0].PublicKey)),
			fmt.Sprintf("find the key issued with %s, or issue a new %s for %s (docker tls issue)", dc, what, dk),
			map[string]string{"certificate": certs[0].Subject.String(), "certificateFingerprint": pki.Fingerprint(certs[0])})
	}
	return certs, key
}

func sameTypeNote(a, b crypto.PublicKey) string {
	if pki.DescribeKey(a) == pki.DescribeKey(b) {
		return " (same type, different key)"
	}
	return ""
}

// caFile checks a trust-anchor file and returns its certificates.
func (r *runner) caFile(t *tlsFile) []*x509.Certificate {
	certs := r.certFile(t, useCA.String())
	for _, c := range certs {
		r.certChecks(c, t.fi.Path, useCA)
	}
	return certs
}

func certEvidence(c *x509.Certificate) map[string]string {
	return map[string]string{
		"subject":     c.Subject.String(),
		"issuer":      c.Issuer.String(),
		"notBefore":   c.NotBefore.UTC().Format("2006-01-02T15:04:05Z"),
		"notAfter":    c.NotAfter.UTC().Format("2006-01-02T15:04:05Z"),
		"fingerprint": pki.Fingerprint(c),
	}
}

func certName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("%q", c.Subject.CommonName)
	}
	return fmt.Sprintf("%q", c.Subject.String())
}

func rsaBits(pub crypto.PublicKey) int {
	if k, ok := pub.(*rsa.PublicKey); ok {
		return k.N.BitLen()
	}
	return 0
}

func hasSANs(c *x509.Certificate) bool {
	return len(c.DNSNames)+len(c.IPAddresses)+len(c.URIs)+len(c.EmailAddresses) > 0
}

func isCertSigner(c *x509.Certificate) bool {
	return c.BasicConstraintsValid && c.IsCA && (c.KeyUsage == 0 || c.KeyUsage&x509.KeyUsageCertSign != 0)
}

// hasEKU reports whether the certificate lists EKUs at all.
func hasEKU(c *x509.Certificate) bool {
	return len(c.ExtKeyUsage)+len(c.UnknownExtKeyUsage) > 0
}

func ekuList(c *x509.Certificate) string {
	n := pki.ExtKeyUsageNames(c)
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ", ")
}
