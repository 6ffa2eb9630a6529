package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// detReader is a deterministic byte stream (SHA-256 in counter mode) used
// for serial numbers and PEM encryption IVs, so fixtures are stable.
type detReader struct {
	seed []byte
	ctr  uint64
	buf  []byte
}

func newDet(seed string) *detReader { return &detReader{seed: []byte(seed)} }

func (d *detReader) Read(p []byte) (int, error) {
	for len(d.buf) < len(p) {
		h := sha256.New()
		h.Write(d.seed)
		fmt.Fprintf(h, "/%d", d.ctr)
		d.ctr++
		d.buf = h.Sum(d.buf)
	}
	n := copy(p, d.buf)
	d.buf = d.buf[n:]
	return n, nil
}

// keyStore derives ECDSA and Ed25519 keys from their names (deterministic)
// and keeps RSA keys, which cannot be derived cheaply, in keyDir.
type keyStore struct {
	keyDir string
	cache  map[string]crypto.Signer
}

func (ks *keyStore) key(name, kind string) (crypto.Signer, error) {
	id := kind + "/" + name
	if k, ok := ks.cache[id]; ok {
		return k, nil
	}
	seed := sha256.Sum256([]byte("docker-tls fixture key " + id))
	var k crypto.Signer
	var err error
	switch kind {
	case "ecdsa":
		n := elliptic.P256().Params().N
		d := new(big.Int).SetBytes(seed[:])
		d.Mod(d, new(big.Int).Sub(n, big.NewInt(1)))
		d.Add(d, big.NewInt(1))
		raw := make([]byte, 32)
		d.FillBytes(raw)
		k, err = ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
	case "ed25519":
		k = ed25519.NewKeyFromSeed(seed[:])
	case "rsa1024", "rsa2048", "rsa4096":
		k, err = ks.rsaKey(name, kind)
	default:
		err = fmt.Errorf("unknown key kind %q", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", id, err)
	}
	ks.cache[id] = k
	return k, nil
}

func (ks *keyStore) rsaKey(name, kind string) (crypto.Signer, error) {
	p := filepath.Join(ks.keyDir, kind+"-"+name+".pem")
	if data, err := os.ReadFile(p); err == nil {
		b, _ := pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("%s: no PEM data", p)
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return k.(crypto.Signer), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	bits := map[string]int{"rsa1024": 1024, "rsa2048": 2048, "rsa4096": 4096}[kind]
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(ks.keyDir, 0o755); err != nil {
		return nil, err
	}
	return k, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o644)
}

// certSpec describes one fixture certificate. The zero values give an
// ECDSA leaf valid for 825 days from now, self-signed unless parent is set.
type certSpec struct {
	name      string // seeds the key and serial
	keyKind   string // ecdsa (default), ed25519, rsa1024, rsa2048, rsa4096
	keyName   string // key seed name when different from name
	cn        string
	ca        bool
	noKU      bool // omit keyUsage (OpenSSL default CA, Docker docs recipe)
	dns       []string
	ips       []string
	eku       []x509.ExtKeyUsage
	from, to  time.Time
	sigAlg    x509.SignatureAlgorithm
	negSerial bool
	parent    *issued
}

type issued struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func (g *gen) cert(s certSpec) *issued {
	if s.keyKind == "" {
		s.keyKind = "ecdsa"
	}
	if s.keyName == "" {
		s.keyName = s.name
	}
	key, err := g.keys.key(s.keyName, s.keyKind)
	must(err)
	if s.from.IsZero() {
		s.from = fixtureNow.Add(-24 * time.Hour)
	}
	if s.to.IsZero() {
		s.to = s.from.Add(825 * 24 * time.Hour)
		if s.ca {
			s.to = s.from.Add(3650 * 24 * time.Hour)
		}
	}
	serialBytes := make([]byte, 16)
	newDet("serial/" + s.name).Read(serialBytes)
	serialBytes[0] &= 0x7f
	serialBytes[0] |= 0x10
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	must(err)
	skid := sha1.Sum(pubDER)
	t := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(serialBytes),
		Subject:               pkix.Name{CommonName: s.cn},
		NotBefore:             s.from,
		NotAfter:              s.to,
		SubjectKeyId:          skid[:],
		DNSNames:              s.dns,
		ExtKeyUsage:           s.eku,
		SignatureAlgorithm:    s.sigAlg,
		BasicConstraintsValid: s.ca,
		IsCA:                  s.ca,
	}
	for _, ip := range s.ips {
		t.IPAddresses = append(t.IPAddresses, net.ParseIP(ip))
	}
	switch {
	case s.noKU:
	case s.ca:
		t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	default:
		t.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := key.Public().(*rsa.PublicKey); ok {
			t.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
	}
	parent, signer := t, key
	if s.parent != nil {
		parent, signer = s.parent.cert, s.parent.key
	}
	der, err := x509.CreateCertificate(newDet("sign/"+s.name), t, parent, key.Public(), signer)
	must(err)
	if s.negSerial {
		der = negateSerial(der, signer)
	}
	der = g.stableDER(s.name, der)
	c, err := x509.ParseCertificate(der)
	if err != nil && s.negSerial {
		// Go refuses to parse it; keep the raw DER in a shell certificate.
		c = &x509.Certificate{Raw: der}
	} else {
		must(err)
	}
	return &issued{cert: c, key: key}
}

// stableDER returns the certificate cached in .certs/<name>.der when its
// to-be-signed part equals der's, so that re-running the generator does not
// change certificates whose content did not change (ECDSA signatures are
// randomised), and refreshes the cache otherwise.
func (g *gen) stableDER(name string, der []byte) []byte {
	p := filepath.Join(g.keys.keyDir, "..", ".certs", name+".der")
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(tbsOf(old), tbsOf(der)) && tbsOf(der) != nil {
		return old
	}
	must(os.MkdirAll(filepath.Dir(p), 0o755))
	must(os.WriteFile(p, der, 0o644))
	return der
}

// tbsOf extracts the to-be-signed bytes without parsing the certificate
// (Go refuses some fixtures, such as a negative serial).
func tbsOf(der []byte) []byte {
	var outer struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return nil
	}
	return outer.TBS.FullBytes
}

// negateSerial rewrites the serial number of a certificate to its negative
// and signs it again with signer (SHA-256), which x509.CreateCertificate
// refuses to do.
func negateSerial(der []byte, signer crypto.Signer) []byte {
	var outer struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}
	_, err := asn1.Unmarshal(der, &outer)
	must(err)
	rest := outer.TBS.Bytes
	var elems [][]byte
	for len(rest) > 0 {
		var rv asn1.RawValue
		rest, err = asn1.Unmarshal(rest, &rv)
		must(err)
		elems = append(elems, rv.FullBytes)
	}
	var serial *big.Int
	_, err = asn1.Unmarshal(elems[1], &serial)
	must(err)
	neg, err := asn1.Marshal(new(big.Int).Neg(serial))
	must(err)
	elems[1] = neg
	tbs, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: bytes.Join(elems, nil)})
	must(err)
	digest := sha256.Sum256(tbs)
	sig, err := signer.Sign(newDet("negserial"), digest[:], crypto.SHA256)
	must(err)
	out, err := asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, outer.Alg, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	must(err)
	return out
}

func certPEM(cs ...*issued) []byte {
	var b bytes.Buffer
	for _, c := range cs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw})
	}
	return b.Bytes()
}

func keyPEM(i *issued) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(i.key)
	must(err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// encryptedKeyPEM is the legacy OpenSSL "Proc-Type: 4,ENCRYPTED" form
// that docker/cli detects with x509.IsEncryptedPEMBlock.
func encryptedKeyPEM(i *issued) []byte {
	k, ok := i.key.(*ecdsa.PrivateKey)
	if !ok {
		panic("encryptedKeyPEM needs an ECDSA key")
	}
	der, err := x509.MarshalECPrivateKey(k)
	must(err)
	//lint:ignore SA1019 the fixture is legacy RFC 1423 encryption on purpose (docker/cli refuses it)
	b, err := x509.EncryptPEMBlock(newDet("pem-iv"), "EC PRIVATE KEY", der, []byte("fixture-passphrase"), x509.PEMCipherAES256)
	must(err)
	return pem.EncodeToMemory(b)
}

func tlv(class, tag int, compound bool, content ...[]byte) []byte {
	out, err := asn1.Marshal(asn1.RawValue{Class: class, Tag: tag, IsCompound: compound, Bytes: bytes.Join(content, nil)})
	must(err)
	return out
}

func oid(o asn1.ObjectIdentifier) []byte {
	out, err := asn1.Marshal(o)
	must(err)
	return out
}

func integer(n int) []byte {
	out, err := asn1.Marshal(n)
	must(err)
	return out
}

// pkcs7 builds a degenerate PKCS#7 signedData holding certificates: what a
// .p7b from a Windows CA or a vendor looks like.
func pkcs7(cs ...*issued) []byte {
	var certs [][]byte
	for _, c := range cs {
		certs = append(certs, c.cert.Raw)
	}
	sd := tlv(0, asn1.TagSequence, true,
		integer(1),
		tlv(0, asn1.TagSet, true),
		tlv(0, asn1.TagSequence, true, oid(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1})),
		tlv(2, 0, true, certs...),
		tlv(0, asn1.TagSet, true),
	)
	return tlv(0, asn1.TagSequence, true, oid(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}), tlv(2, 0, true, sd))
}

// pkcs12Shell is the outer structure of a PFX (version 3, authSafe of type
// data, MAC data) with placeholder content: enough for any format sniffer
// (and for openssl pkcs12 -info to say "MAC verify error"), without
// carrying a key.
func pkcs12Shell() []byte {
	auth := tlv(0, asn1.TagSequence, true,
		oid(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}),
		tlv(2, 0, true, tlv(0, asn1.TagOctetString, false, []byte("docker-tls fixture: placeholder PKCS#12 content"))))
	mac := tlv(0, asn1.TagSequence, true,
		tlv(0, asn1.TagSequence, true,
			tlv(0, asn1.TagSequence, true, oid(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}), tlv(0, asn1.TagNull, false)),
			tlv(0, asn1.TagOctetString, false, make([]byte, 32))),
		tlv(0, asn1.TagOctetString, false, make([]byte, 8)),
		integer(2048))
	return tlv(0, asn1.TagSequence, true, integer(3), auth, mac)
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
