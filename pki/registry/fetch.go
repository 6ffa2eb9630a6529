package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/layout"
)

// Address is host:port to dial for a registry (port 443 when none is given).
func Address(h layout.RegistryHost) string {
	port := h.Port
	if port == 0 {
		port = layout.DefaultRegistryPort
	}
	return net.JoinHostPort(h.Host, strconv.Itoa(port))
}

// FetchChain connects to the registry with TLS and returns the certificates
// it presents. Nothing is verified and nothing is trusted here: the chain is
// only shown to the user, who must confirm the CA (or pass its fingerprint)
// before it is installed. A handshake that fails after the server sent its
// certificates (a registry that demands a client certificate) still returns
// them.
func FetchChain(ctx context.Context, h layout.RegistryHost, timeout time.Duration) ([]*x509.Certificate, error) {
	var got []*x509.Certificate
	var parseErr error
	cfg := &tls.Config{
		// Only to read the presented chain; see above.
		InsecureSkipVerify: true, //nolint:gosec
		MinVersion:         tls.VersionTLS12,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			for _, der := range raw {
				c, err := x509.ParseCertificate(der)
				if err != nil {
					parseErr = err
					return err
				}
				got = append(got, c)
			}
			return nil
		},
	}
	if net.ParseIP(h.Host) == nil {
		cfg.ServerName = h.Host
	}
	addr := Address(h)
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if conn != nil {
		// A TLS 1.3 server that wants a client certificate rejects us only
		// after the handshake; read nothing, just close.
		conn.Close()
	}
	if parseErr != nil {
		return nil, fmt.Errorf("%s presented a certificate that does not parse: %w", addr, parseErr)
	}
	if len(got) > 0 {
		return got, nil
	}
	if err != nil {
		var rec tls.RecordHeaderError
		if errors.As(err, &rec) {
			return nil, fmt.Errorf("connecting to %s: %w (is it a plain-HTTP registry? certs.d is only used for TLS registries)", addr, err)
		}
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	return nil, fmt.Errorf("%s presented no certificate", addr)
}

// DescribeChain renders the presented chain for the user: subject, issuer,
// SHA-256 fingerprint and validity of each certificate.
func DescribeChain(chain []*x509.Certificate, now time.Time) []string {
	var out []string
	for i, c := range chain {
		tags := ""
		if c.BasicConstraintsValid && c.IsCA {
			tags = " (CA"
			if pki.IsSelfSigned(c) {
				tags += ", self-signed"
			}
			tags += ")"
		}
		out = append(out, fmt.Sprintf("%d. subject     %s%s", i+1, c.Subject.String(), tags))
		out = append(out, fmt.Sprintf("   issuer      %s", c.Issuer.String()))
		out = append(out, fmt.Sprintf("   fingerprint %s", pki.Fingerprint(c)))
		valid := fmt.Sprintf("   valid       %s to %s", c.NotBefore.UTC().Format(time.DateOnly), c.NotAfter.UTC().Format(time.DateOnly))
		switch {
		case now.After(c.NotAfter):
			valid += " (EXPIRED)"
		case now.Before(c.NotBefore):
			valid += " (not yet valid)"
		}
		out = append(out, valid)
	}
	return out
}

// RootOf picks the CA to install from a presented chain: its last
// certificate, which must be a self-signed CA that the rest of the chain
// verifies against. A server that does not send its root is refused: there
// is nothing trustworthy to install. warnings are things to show (a chain
// that does not cover the host name, for example).
func RootOf(h layout.RegistryHost, chain []*x509.Certificate, now time.Time) (root *x509.Certificate, warnings []string, err error) {
	addr := Address(h)
	if len(chain) == 0 {
		return nil, nil, fmt.Errorf("%s presented no certificate", addr)
	}
	last := chain[len(chain)-1]
	if !pki.IsSelfSigned(last) {
		return nil, nil, fmt.Errorf("%s did not send its root CA: the last certificate it presented (%q) was issued by %q, which is not in the chain; get that CA certificate from the registry's administrator and pass it with --ca FILE", addr, certName(last), last.Issuer.String())
	}
	if !last.BasicConstraintsValid || !last.IsCA {
		return nil, nil, fmt.Errorf("%s presented a self-signed certificate for %q that is not a CA (no basicConstraints CA:TRUE): there is no CA to install; issue the registry's certificate from a CA (for example with 'docker tls issue server') or pass its CA with --ca FILE", addr, certName(last))
	}
	roots := x509.NewCertPool()
	roots.AddCert(last)
	inter := x509.NewCertPool()
	for _, c := range chain[1 : len(chain)-1] {
		inter.AddCert(c)
	}
	if len(chain) > 1 {
		if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return nil, nil, fmt.Errorf("%s: the certificates it presented do not verify against the root it sent (%q): %v", addr, certName(last), err)
		}
		if err := pki.CoversHost(chain[0], h.Host); err != nil {
			warnings = append(warnings, fmt.Sprintf("the registry's certificate does not cover %s (%v): installing its CA will not be enough, clients will fail with that error", h.Host, err))
		}
	}
	return last, warnings, nil
}

// MatchFingerprint checks the user's --fingerprint against the CA that is
// about to be installed. Only the CA counts: a fingerprint of another
// certificate of the chain is refused with a message that says which one it
// is.
func MatchFingerprint(want string, h layout.RegistryHost, root *x509.Certificate, chain []*x509.Certificate) error {
	norm, ok := pki.ParseFingerprint(want)
	if !ok {
		return fmt.Errorf("--fingerprint %q: expected SHA256: followed by 32 hex bytes, as --fetch-ca prints it", want)
	}
	got := pki.Fingerprint(root)
	if norm == got {
		return nil
	}
	for i, c := range chain {
		if pki.Fingerprint(c) == norm {
			return fmt.Errorf("--fingerprint %s is the fingerprint of certificate %d of the chain %s presented (%q), not of the CA that would be installed (%q, %s)", norm, i+1, Address(h), certName(c), certName(root), got)
		}
	}
	return fmt.Errorf("--fingerprint %s does not match the CA %s presented (%q, %s): nothing was installed; the connection may be intercepted, or the registry's CA has changed", norm, Address(h), certName(root), got)
}

// NotConfirmedError is the refusal of a non-interactive --fetch-ca without
// --fingerprint: it names the fingerprint to check and pass.
func NotConfirmedError(h layout.RegistryHost, root *x509.Certificate) error {
	fp := pki.Fingerprint(root)
	return fmt.Errorf("%s presented the CA %q with fingerprint %s; standard input is not a terminal, so it cannot be confirmed interactively: check the fingerprint with the registry's administrator and rerun with --fingerprint %s", Address(h), certName(root), fp, fp)
}

// ConfirmPrompt is the interactive question for a fetched CA.
func ConfirmPrompt(h layout.RegistryHost, root *x509.Certificate) string {
	return fmt.Sprintf("Install %q (%s) as the CA for %s? [y/N] ", certName(root), pki.Fingerprint(root), h.String())
}
