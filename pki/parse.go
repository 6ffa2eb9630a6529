package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Kind is what a file holds, as far as TLS loaders care.
type Kind string

const (
	KindEmpty        Kind = "empty"
	KindCertificate  Kind = "certificate"
	KindPrivateKey   Kind = "private key"
	KindEncryptedKey Kind = "encrypted private key"
	KindCSR          Kind = "certificate request"
	KindPublicKey    Kind = "public key"
	KindPKCS7        Kind = "PKCS#7 bundle"
	KindPKCS12       Kind = "PKCS#12 bundle"
	KindCRL          Kind = "certificate revocation list"
	KindUnknown      Kind = "unrecognised data"
)

// Encoding is how the file is encoded.
type Encoding string

const (
	EncPEM  Encoding = "PEM"
	EncDER  Encoding = "DER"
	EncNone Encoding = ""
)

// Material is everything Sniff found in one file. It holds parsed keys, so
// callers must never print it wholesale.
type Material struct {
	Encoding Encoding
	// Kinds lists what was found, in file order, one entry per PEM block
	// (or one for a DER file).
	Kinds []Kind
	Certs []*x509.Certificate
	Keys  []crypto.Signer
	// BadBlocks describes PEM blocks that claimed to be a certificate or
	// key but did not parse.
	BadBlocks []string
	// PEMTypes are the PEM block types seen, in order.
	PEMTypes []string
	// PEMHeaders: some PEM block had headers (Proc-Type: …), which
	// crypto/x509's AppendCertsFromPEM skips.
	PEMHeaders bool
}

// Has reports whether k is among the kinds found.
func (m *Material) Has(k Kind) bool {
	for _, x := range m.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Primary is the single kind that best describes the file.
func (m *Material) Primary() Kind {
	if len(m.Kinds) == 0 {
		return KindEmpty
	}
	for _, k := range []Kind{KindEncryptedKey, KindPrivateKey, KindCertificate, KindPKCS12, KindPKCS7, KindCSR, KindPublicKey, KindCRL} {
		if m.Has(k) {
			return k
		}
	}
	return m.Kinds[0]
}

var (
	oidPKCS7SignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidPKCS7Data       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
)

// Sniff identifies and parses the content of a certificate or key file in
// any format users hand us: PEM (certificates, PKCS#1/PKCS#8/SEC1 keys,
// encrypted keys, CSRs, PKCS#7), DER certificates and keys, PKCS#7 and
// PKCS#12 bundles. It never fails: what it cannot read is KindUnknown.
func Sniff(data []byte) *Material {
	m := &Material{}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return m
	}
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		m.Encoding = EncPEM
		m.PEMTypes = append(m.PEMTypes, block.Type)
		if len(block.Headers) > 0 {
			m.PEMHeaders = true
		}
		m.addPEMBlock(block, len(m.PEMTypes))
	}
	if m.Encoding == EncPEM {
		return m
	}
	// DER is taken byte for byte: trimming could cut a final byte that
	// happens to be 0x0a or 0x20. Only if that fails, try without
	// surrounding white space (a DER file with a newline appended).
	m.sniffDER(data)
	if m.Primary() == KindUnknown && len(trimmed) != len(data) {
		m.Kinds = nil
		m.sniffDER(trimmed)
	}
	return m
}

func (m *Material) addPEMBlock(b *pem.Block, n int) {
	switch b.Type {
	case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE":
		m.Kinds = append(m.Kinds, KindCertificate)
		der := b.Bytes
		c, err := x509.ParseCertificate(der)
		if err != nil && b.Type == "TRUSTED CERTIFICATE" {
			// OpenSSL's trusted form appends trust settings after the certificate.
			var raw asn1.RawValue
			if _, e := asn1.Unmarshal(der, &raw); e == nil {
				c, err = x509.ParseCertificate(raw.FullBytes)
			}
		}
		if err != nil {
			m.BadBlocks = append(m.BadBlocks, fmt.Sprintf("PEM block %d (%s) does not parse: %v", n, b.Type, err))
			return
		}
		m.Certs = append(m.Certs, c)
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
		if _, enc := b.Headers["Proc-Type"]; enc && strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			m.Kinds = append(m.Kinds, KindEncryptedKey)
			return
		}
		m.Kinds = append(m.Kinds, KindPrivateKey)
		k, err := parseKeyDER(b.Bytes)
		if err != nil {
			m.BadBlocks = append(m.BadBlocks, fmt.Sprintf("PEM block %d (%s) does not parse: %v", n, b.Type, err))
			return
		}
		m.Keys = append(m.Keys, k)
	case "ENCRYPTED PRIVATE KEY":
		m.Kinds = append(m.Kinds, KindEncryptedKey)
	case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
		m.Kinds = append(m.Kinds, KindCSR)
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		m.Kinds = append(m.Kinds, KindPublicKey)
	case "PKCS7", "PKCS #7 SIGNED DATA", "CMS":
		m.Kinds = append(m.Kinds, KindPKCS7)
	case "X509 CRL":
		m.Kinds = append(m.Kinds, KindCRL)
	default:
		m.Kinds = append(m.Kinds, KindUnknown)
	}
}

func (m *Material) sniffDER(der []byte) {
	if c, err := x509.ParseCertificate(der); err == nil {
		m.Encoding = EncDER
		m.Kinds = []Kind{KindCertificate}
		m.Certs = []*x509.Certificate{c}
		return
	}
	if k, err := parseKeyDER(der); err == nil {
		m.Encoding = EncDER
		m.Kinds = []Kind{KindPrivateKey}
		m.Keys = []crypto.Signer{k}
		return
	}
	if _, err := x509.ParseCertificateRequest(der); err == nil {
		m.Encoding = EncDER
		m.Kinds = []Kind{KindCSR}
		return
	}
	if _, err := x509.ParsePKIXPublicKey(der); err == nil {
		m.Encoding = EncDER
		m.Kinds = []Kind{KindPublicKey}
		return
	}
	if k := sniffContentInfo(der); k != "" {
		m.Encoding = EncDER
		m.Kinds = []Kind{k}
		return
	}
	if isEncryptedPKCS8(der) {
		m.Encoding = EncDER
		m.Kinds = []Kind{KindEncryptedKey}
		return
	}
	m.Kinds = []Kind{KindUnknown}
}

// sniffContentInfo recognises PKCS#7 signedData (a .p7b certificate bundle)
// and PKCS#12 (PFX: SEQUENCE { INTEGER 3, ContentInfo{data ...} ... }).
func sniffContentInfo(der []byte) Kind {
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,optional,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &ci); err == nil && ci.Type.Equal(oidPKCS7SignedData) {
		return KindPKCS7
	}
	var pfx struct {
		Version  int
		AuthSafe struct {
			Type    asn1.ObjectIdentifier
			Content asn1.RawValue `asn1:"explicit,optional,tag:0"`
		}
		MacData asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(der, &pfx); err == nil && pfx.Version == 3 &&
		(pfx.AuthSafe.Type.Equal(oidPKCS7Data) || pfx.AuthSafe.Type.Equal(oidPKCS7SignedData)) {
		return KindPKCS12
	}
	return ""
}

// isEncryptedPKCS8 recognises DER EncryptedPrivateKeyInfo.
func isEncryptedPKCS8(der []byte) bool {
	var epki struct {
		Algo struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.RawValue `asn1:"optional"`
		}
		Data []byte
	}
	rest, err := asn1.Unmarshal(der, &epki)
	return err == nil && len(rest) == 0 && len(epki.Data) > 0 && len(epki.Algo.Algorithm) > 0
}

func parseKeyDER(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, fmt.Errorf("unsupported PKCS#8 key type %T", k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("not a PKCS#8, PKCS#1 or SEC 1 private key")
}

// ParseCertificates returns the certificates in a PEM file. name is the file
// name used in error messages. A file that holds something else gets an
// error that says what was found and how to convert it.
func ParseCertificates(name string, data []byte) ([]*x509.Certificate, error) {
	m := Sniff(data)
	if len(m.BadBlocks) > 0 && m.Has(KindCertificate) {
		return nil, fmt.Errorf("%s: %s; expected a PEM certificate", name, m.BadBlocks[0])
	}
	if m.Encoding == EncPEM && len(m.Certs) > 0 {
		return m.Certs, nil
	}
	return nil, fmt.Errorf("%s: %s, expected a PEM certificate (-----BEGIN CERTIFICATE-----)%s", name, m.Describe(), m.convertHint(name, KindCertificate))
}

// ParsePrivateKey returns the single private key in a PEM file. It refuses
// encrypted keys, as Docker does, and names what was found otherwise.
func ParsePrivateKey(name string, data []byte) (crypto.Signer, error) {
	m := Sniff(data)
	if m.Has(KindEncryptedKey) {
		return nil, fmt.Errorf("%s: found an encrypted private key, expected an unencrypted PEM private key: Docker does not support encrypted keys (decrypt it with: openssl pkey -in %s -out %s.decrypted)", name, name, name)
	}
	if len(m.BadBlocks) > 0 && m.Has(KindPrivateKey) {
		return nil, fmt.Errorf("%s: %s; expected a PEM private key", name, m.BadBlocks[0])
	}
	if m.Encoding == EncPEM && len(m.Keys) == 1 {
		return m.Keys[0], nil
	}
	if m.Encoding == EncPEM && len(m.Keys) > 1 {
		return nil, fmt.Errorf("%s: found %d private keys, expected exactly one", name, len(m.Keys))
	}
	return nil, fmt.Errorf("%s: %s, expected a PEM private key (-----BEGIN PRIVATE KEY-----)%s", name, m.Describe(), m.convertHint(name, KindPrivateKey))
}

// Describe says in words what the file holds: "a DER-encoded certificate",
// "a private key", "2 certificates and a private key", "no PEM data".
func (m *Material) Describe() string {
	if len(m.Kinds) == 0 {
		return "found an empty file"
	}
	if m.Encoding == EncNone {
		return "found no PEM data"
	}
	counts := map[Kind]int{}
	var order []Kind
	for _, k := range m.Kinds {
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		n := counts[k]
		word := string(k)
		if k == KindUnknown && m.Encoding == EncPEM {
			word = "PEM block of another type"
		}
		switch {
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n, word))
		case startsWithVowel(word):
			parts = append(parts, "an "+word)
		default:
			parts = append(parts, "a "+word)
		}
	}
	s := strings.Join(parts, " and ")
	if m.Encoding == EncDER {
		s = strings.Replace(s, "a ", "a DER-encoded ", 1)
		s = strings.Replace(s, "an ", "a DER-encoded ", 1)
	}
	return "found " + s
}

func startsWithVowel(s string) bool {
	return s != "" && strings.ContainsRune("aeiouAEIOU", rune(s[0]))
}

func (m *Material) convertHint(name string, want Kind) string {
	p := m.Primary()
	switch {
	case m.Encoding == EncDER && p == KindCertificate && want == KindCertificate:
		return fmt.Sprintf(" (convert it with: openssl x509 -inform der -in %s -out %s.pem)", name, name)
	case m.Encoding == EncDER && p == KindPrivateKey && want == KindPrivateKey:
		return fmt.Sprintf(" (convert it with: openssl pkey -inform der -in %s -out %s.pem)", name, name)
	case p == KindPKCS7 && want == KindCertificate:
		return fmt.Sprintf(" (extract the certificates with: openssl pkcs7 -print_certs -in %s -out %s.pem)", name, name)
	case p == KindPKCS12 && want == KindCertificate:
		return fmt.Sprintf(" (extract the certificate with: openssl pkcs12 -in %s -clcerts -nokeys -out cert.pem)", name)
	case p == KindPKCS12 && want == KindPrivateKey:
		return fmt.Sprintf(" (extract the key with: openssl pkcs12 -in %s -nocerts -nodes -out key.pem)", name)
	case p == KindPrivateKey && want == KindCertificate, p == KindCertificate && want == KindPrivateKey:
		return " (are the certificate and key files swapped?)"
	}
	return ""
}
