// Package pki issues, parses and matches the certificates and keys docker-tls
// works with. It returns errors and never prints or exits.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"strings"
)

// KeyType names a key algorithm and size as the --key flag spells it.
type KeyType string

const (
	KeyECDSAP256 KeyType = "ecdsa-p256"
	KeyECDSAP384 KeyType = "ecdsa-p384"
	KeyRSA2048   KeyType = "rsa-2048"
	KeyRSA3072   KeyType = "rsa-3072"
	KeyRSA4096   KeyType = "rsa-4096"
	KeyEd25519   KeyType = "ed25519"
)

// DefaultKeyType is what every command issues unless --key says otherwise.
const DefaultKeyType = KeyECDSAP256

// KeyTypes lists the accepted --key values in the order help text shows them.
var KeyTypes = []KeyType{KeyECDSAP256, KeyECDSAP384, KeyRSA2048, KeyRSA3072, KeyRSA4096, KeyEd25519}

// ParseKeyType accepts the --key spellings (case-insensitive; "ecdsa" and
// "rsa" alone mean P-256 and 2048 bits).
func ParseKeyType(s string) (KeyType, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	switch v {
	case "", "ecdsa", "ec", "p256", "p-256", "ecdsa-p-256":
		return KeyECDSAP256, nil
	case "rsa":
		return KeyRSA2048, nil
	}
	for _, k := range KeyTypes {
		if string(k) == v {
			return k, nil
		}
	}
	names := make([]string, len(KeyTypes))
	for i, k := range KeyTypes {
		names[i] = string(k)
	}
	return "", fmt.Errorf("invalid key type %q: expected one of %s", s, strings.Join(names, ", "))
}

// GenerateKey creates a new private key of type kt.
func GenerateKey(kt KeyType, r io.Reader) (crypto.Signer, error) {
	if r == nil {
		r = rand.Reader
	}
	switch kt {
	case KeyECDSAP256, "":
		return ecdsa.GenerateKey(elliptic.P256(), r)
	case KeyECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), r)
	case KeyRSA2048:
		return rsa.GenerateKey(r, 2048)
	case KeyRSA3072:
		return rsa.GenerateKey(r, 3072)
	case KeyRSA4096:
		return rsa.GenerateKey(r, 4096)
	case KeyEd25519:
		_, k, err := ed25519.GenerateKey(r)
		return k, err
	}
	return nil, fmt.Errorf("invalid key type %q", kt)
}

// DescribeKey returns "ECDSA P-256", "RSA 2048", "Ed25519" for a public key.
func DescribeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// KeyBits returns the key size in bits (curve size for ECDSA, 256 for Ed25519).
func KeyBits(pub crypto.PublicKey) int {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return k.Curve.Params().BitSize
	case *rsa.PublicKey:
		return k.N.BitLen()
	case ed25519.PublicKey:
		return 256
	}
	return 0
}

// PublicKeysEqual reports whether two public keys are the same key. It works
// for RSA, ECDSA and Ed25519.
func PublicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	ea, ok := a.(equaler)
	return ok && ea.Equal(b)
}

// KeyMatches reports whether the private key belongs to the certificate's public key.
func KeyMatches(key crypto.Signer, certPub crypto.PublicKey) bool {
	return key != nil && PublicKeysEqual(key.Public(), certPub)
}
