package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"strings"
	"time"
)

// Role is what a certificate is for.
type Role string

const (
	RoleCA     Role = "ca"
	RoleServer Role = "server"
	RoleClient Role = "client"
)

// Validity defaults. Leaves stay within 825 days, the longest lifetime
// Apple's and Go-based strict verifiers accept for TLS server certificates.
const (
	DefaultCADays   = 3650
	DefaultLeafDays = 825
	MaxLeafDays     = 825
	// Backdate absorbs small clock differences between the issuing host and
	// the daemon or client that verifies.
	Backdate = 5 * time.Minute
)

// Request describes a certificate to issue.
type Request struct {
	Role       Role
	CommonName string
	// Organization is optional subject O.
	Organization string
	DNSNames     []string
	IPs          []net.IP
	// Days of validity; 0 means the role's default.
	Days int
	// KeyType of the new key; "" means DefaultKeyType.
	KeyType KeyType
	// Now pins the issuance time (tests and fixtures); zero means time.Now().
	Now time.Time
	// Rand is the randomness source; nil means crypto/rand.
	Rand io.Reader
	// Key, when set, is used instead of generating one (re-issuing for an
	// existing key, fixtures).
	Key crypto.Signer
}

// Issued is a certificate and its private key.
type Issued struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Notes are things the caller should tell the user (a validity shortened
	// to fit the CA, for example).
	Notes []string
}

// CertPEM returns the certificate in PEM.
func (i *Issued) CertPEM() []byte { return EncodeCert(i.Cert) }

// KeyPEM returns the private key in PKCS#8 PEM.
func (i *Issued) KeyPEM() ([]byte, error) { return EncodeKey(i.Key) }

// EncodeCert PEM-encodes a certificate.
func EncodeCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// EncodeKey PEM-encodes a private key as PKCS#8 ("PRIVATE KEY"), which
// Go, OpenSSL and Docker all read.
func EncodeKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseSANs splits a list of subject alternative names (comma-separated
// entries are split too) into DNS names and IP addresses, the way Go
// matches them: an entry that parses as an IP is an IP SAN, anything else
// must be a valid DNS name, optionally with one leading "*." wildcard label.
// "DNS:" and "IP:" prefixes (OpenSSL's extfile syntax) are accepted.
func ParseSANs(values []string) (dns []string, ips []net.IP, err error) {
	seen := map[string]bool{}
	for _, v := range values {
		for _, raw := range strings.Split(v, ",") {
			s := strings.TrimSpace(raw)
			if s == "" {
				continue
			}
			forceIP, forceDNS := false, false
			switch low := strings.ToLower(s); {
			case strings.HasPrefix(low, "ip:"):
				s, forceIP = strings.TrimSpace(s[3:]), true
			case strings.HasPrefix(low, "dns:"):
				s, forceDNS = strings.TrimSpace(s[4:]), true
			}
			host := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
			if ip := net.ParseIP(host); ip != nil && !forceDNS {
				key := "ip:" + ip.String()
				if !seen[key] {
					seen[key] = true
					ips = append(ips, normaliseIP(ip))
				}
				continue
			}
			if forceIP {
				//lint:ignore ST1005 the text names the "IP:" prefix the user typed
				return nil, nil, fmt.Errorf("invalid SAN %q: expected an IP address after IP:", raw)
			}
			name := strings.ToLower(strings.TrimSuffix(s, "."))
			if looksNumeric(name) {
				return nil, nil, fmt.Errorf("invalid SAN %q: not an IP address (an IPv4 address is four numbers 0-255 separated by dots) and not a DNS name (its last label is a number)", strings.TrimSpace(raw))
			}
			if err := validateDNSName(name); err != nil {
				return nil, nil, fmt.Errorf("invalid SAN %q: %v", strings.TrimSpace(raw), err)
			}
			if !seen["dns:"+name] {
				seen["dns:"+name] = true
				dns = append(dns, name)
			}
		}
	}
	return dns, ips, nil
}

// looksNumeric reports whether a name's last label is all digits: such a
// name is a mistyped IP address (300.1.1.1, 10.0.0.256, 10.0.5), never a
// resolvable DNS name (no top-level domain is numeric), and Go's verifier
// would match it only as a DNS name.
func looksNumeric(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	for _, c := range last {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func normaliseIP(ip net.IP) net.IP {
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return ip
}

func validateDNSName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if strings.Contains(name, "://") || strings.ContainsAny(name, "/:@ ") {
		return errors.New("expected a DNS name or IP address, not a URL, host:port or path")
	}
	if len(name) > 253 {
		return errors.New("name longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if l == "*" {
			if i != 0 {
				return errors.New("a wildcard must be the whole left-most label (*.example.com)")
			}
			if len(labels) < 3 {
				return errors.New("a wildcard needs at least two labels after it (*.example.com, not *.com)")
			}
			continue
		}
		if strings.Contains(l, "*") {
			return errors.New("a wildcard must be the whole left-most label (*.example.com)")
		}
		if l == "" {
			return errors.New("empty label")
		}
		if len(l) > 63 {
			return fmt.Errorf("label %q longer than 63 characters", l)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with a hyphen", l)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("invalid character %q", r)
			}
		}
	}
	return nil
}

// NewSerial returns a positive random serial of 128 bits of entropy.
func NewSerial(r io.Reader) (*big.Int, error) {
	if r == nil {
		r = rand.Reader
	}
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(r, limit)
		if err != nil {
			return nil, fmt.Errorf("generating serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// skid computes a subject key identifier: the leftmost 160 bits of the
// SHA-256 of the subjectPublicKey (RFC 7093 method 1).
func skid(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algo      pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(spki.PublicKey.Bytes)
	return sum[:20], nil
}

func (r *Request) validity(now time.Time) (time.Time, time.Time) {
	days := r.Days
	if days <= 0 {
		days = DefaultLeafDays
		if r.Role == RoleCA {
			days = DefaultCADays
		}
	}
	return now.Add(-Backdate), now.Add(time.Duration(days) * 24 * time.Hour)
}

func (r *Request) template(pub crypto.PublicKey) (*x509.Certificate, error) {
	now := r.Now
	if now.IsZero() {
		now = time.Now()
	}
	serial, err := NewSerial(r.Rand)
	if err != nil {
		return nil, err
	}
	id, err := skid(pub)
	if err != nil {
		return nil, fmt.Errorf("computing subject key identifier: %w", err)
	}
	nb, na := r.validity(now)
	t := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: r.CommonName},
		NotBefore:    nb,
		NotAfter:     na,
		SubjectKeyId: id,
		DNSNames:     r.DNSNames,
		IPAddresses:  r.IPs,
	}
	if r.Organization != "" {
		t.Subject.Organization = []string{r.Organization}
	}
	switch r.Role {
	case RoleCA:
		t.IsCA = true
		t.BasicConstraintsValid = true
		t.MaxPathLen = 0
		t.MaxPathLenZero = true
		t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		if len(r.DNSNames)+len(r.IPs) > 0 {
			return nil, errors.New("a CA certificate takes no SANs")
		}
	case RoleServer, RoleClient:
		t.BasicConstraintsValid = true
		t.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := pub.(*rsa.PublicKey); ok {
			t.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
		if r.Role == RoleServer {
			t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			if len(r.DNSNames)+len(r.IPs) == 0 {
				return nil, errors.New("a server certificate needs at least one SAN (--san): Go clients, and so Docker, ignore the Common Name")
			}
		} else {
			t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		}
	default:
		return nil, fmt.Errorf("unknown certificate role %q", r.Role)
	}
	return t, nil
}

func (r *Request) key() (crypto.Signer, error) {
	if r.Key != nil {
		return r.Key, nil
	}
	return GenerateKey(r.KeyType, r.Rand)
}

// NewCA creates a self-signed CA: critical basicConstraints CA:TRUE with
// path length 0, key usage keyCertSign+cRLSign, a subject key identifier.
func NewCA(r Request) (*Issued, error) {
	r.Role = RoleCA
	key, err := r.key()
	if err != nil {
		return nil, err
	}
	t, err := r.template(key.Public())
	if err != nil {
		return nil, err
	}
	if r.CommonName == "" {
		// A name of its own per CA: two CAs with one name make Go send a
		// client certificate the server then rejects, and make "which CA
		// signed this?" unanswerable from the names alone.
		t.Subject.CommonName = DefaultCAName(t.SubjectKeyId)
	}
	t.AuthorityKeyId = t.SubjectKeyId
	return sign(t, t, key.Public(), key, key, r.Rand)
}

// DefaultCAName is "docker-tls CA" followed by the first four bytes of the
// CA's subject key identifier in hex, unique per CA key.
func DefaultCAName(skid []byte) string {
	if len(skid) < 4 {
		return "docker-tls CA"
	}
	return fmt.Sprintf("docker-tls CA %x", skid[:4])
}

// CA is a signing authority: its certificate and private key.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// LoadCA parses a CA certificate and key and checks that they belong
// together and that the certificate may sign certificates.
func LoadCA(certName string, certPEM []byte, keyName string, keyPEM []byte) (*CA, error) {
	certs, err := ParseCertificates(certName, certPEM)
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKey(keyName, keyPEM)
	if err != nil {
		return nil, err
	}
	c := certs[0]
	if !KeyMatches(key, c.PublicKey) {
		return nil, fmt.Errorf("CA key %s does not match CA certificate %s: the key's public key is not the certificate's (%s key vs %s certificate)", keyName, certName, DescribeKey(key.Public()), DescribeKey(c.PublicKey))
	}
	if !c.BasicConstraintsValid || !c.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate (subject %q has no basicConstraints CA:TRUE): it cannot sign certificates", certName, c.Subject.String())
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%s is a CA without the keyCertSign key usage (subject %q): certificates it signs will not verify", certName, c.Subject.String())
	}
	return &CA{Cert: c, Key: key}, nil
}

// Issue signs a server or client certificate with the CA. A requested
// validity that outlives the CA is shortened to the CA's and noted.
func (ca *CA) Issue(r Request) (*Issued, error) {
	if r.Role != RoleServer && r.Role != RoleClient {
		return nil, fmt.Errorf("can only issue server or client certificates, not %q", r.Role)
	}
	now := r.Now
	if now.IsZero() {
		now = time.Now()
	}
	if now.After(ca.Cert.NotAfter) {
		return nil, fmt.Errorf("the CA %q expired on %s: create a new CA", ca.Cert.Subject.CommonName, ca.Cert.NotAfter.UTC().Format(time.DateOnly))
	}
	if r.Days > MaxLeafDays {
		return nil, fmt.Errorf("invalid validity %d days: leaf certificates may be valid for at most %d days", r.Days, MaxLeafDays)
	}
	key, err := r.key()
	if err != nil {
		return nil, err
	}
	t, err := r.template(key.Public())
	if err != nil {
		return nil, err
	}
	var notes []string
	if t.NotAfter.After(ca.Cert.NotAfter) {
		t.NotAfter = ca.Cert.NotAfter
		notes = append(notes, fmt.Sprintf("validity shortened to end with the CA on %s", ca.Cert.NotAfter.UTC().Format(time.DateOnly)))
	}
	if t.NotBefore.Before(ca.Cert.NotBefore) {
		t.NotBefore = ca.Cert.NotBefore
	}
	t.AuthorityKeyId = ca.Cert.SubjectKeyId
	iss, err := sign(t, ca.Cert, key.Public(), ca.Key, key, r.Rand)
	if err != nil {
		return nil, err
	}
	iss.Notes = notes
	return iss, nil
}

func sign(t, parent *x509.Certificate, pub crypto.PublicKey, signer, key crypto.Signer, r io.Reader) (*Issued, error) {
	if r == nil {
		r = rand.Reader
	}
	der, err := x509.CreateCertificate(r, t, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing signed certificate: %w", err)
	}
	return &Issued{Cert: c, Key: key}, nil
}

// Satisfies reports whether an existing certificate and key already are
// what r asks the CA for, so that re-running a command can keep them: the
// CA signed the certificate, the key is its key, the role, common name and
// SANs are the requested ones, and it is valid now and for at least 30 more
// days. The key type is compared when r.KeyType is set; the validity
// length is not. why says what differs when it does not.
func (ca *CA) Satisfies(r Request, cert *x509.Certificate, key crypto.Signer, now time.Time) (ok bool, why string) {
	switch {
	case cert.CheckSignatureFrom(ca.Cert) != nil:
		return false, "signed by another CA"
	case !KeyMatches(key, cert.PublicKey):
		return false, "its key does not match"
	case r.Role == RoleServer && !AllowsUsage(cert, x509.ExtKeyUsageServerAuth),
		r.Role == RoleClient && !AllowsUsage(cert, x509.ExtKeyUsageClientAuth):
		return false, "another extended key usage"
	case now.Before(cert.NotBefore) || cert.NotAfter.Sub(now) < 30*24*time.Hour:
		return false, "expires on " + cert.NotAfter.UTC().Format(time.DateOnly)
	case r.KeyType != "" && keyTypeOf(cert.PublicKey) != r.KeyType:
		return false, "its key is " + DescribeKey(cert.PublicKey)
	}
	if r.Role == RoleServer {
		want := map[string]bool{}
		for _, d := range r.DNSNames {
			want["DNS:"+strings.ToLower(d)] = true
		}
		for _, ip := range r.IPs {
			want["IP:"+ip.String()] = true
		}
		have := map[string]bool{}
		for _, d := range cert.DNSNames {
			have["DNS:"+strings.ToLower(d)] = true
		}
		for _, ip := range cert.IPAddresses {
			have["IP:"+ip.String()] = true
		}
		if !maps.Equal(want, have) {
			names := append(append([]string{}, cert.DNSNames...), IPStrings(cert.IPAddresses)...)
			return false, "other SANs (" + strings.Join(names, ", ") + ")"
		}
	}
	if r.CommonName != "" && cert.Subject.CommonName != r.CommonName {
		return false, fmt.Sprintf("common name %q", cert.Subject.CommonName)
	}
	return true, ""
}

// keyTypeOf is the --key value that makes a key like pub, or "".
func keyTypeOf(pub crypto.PublicKey) KeyType {
	switch DescribeKey(pub) {
	case "ECDSA P-256":
		return KeyECDSAP256
	case "ECDSA P-384":
		return KeyECDSAP384
	case "RSA 2048":
		return KeyRSA2048
	case "RSA 3072":
		return KeyRSA3072
	case "RSA 4096":
		return KeyRSA4096
	case "Ed25519":
		return KeyEd25519
	}
	return ""
}
