package probe

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"github.com/docker-tls/docker-tls/pki"
)

// Outcome is the closed set of things a probe can conclude. The values are
// stable IDs (doctor finding IDs use them).
type Outcome string

const (
	OutcomeOK                    Outcome = "probe-ok"
	OutcomeOKPlain               Outcome = "probe-ok-plain-http"
	OutcomeClientConfig          Outcome = "probe-client-config"
	OutcomeResolveFailed         Outcome = "probe-resolve-failed"
	OutcomeConnectRefused        Outcome = "probe-connect-refused"
	OutcomeConnectTimeout        Outcome = "probe-connect-timeout"
	OutcomeConnectFailed         Outcome = "probe-connect-failed"
	OutcomeSilent                Outcome = "probe-silent"
	OutcomeNotTLS                Outcome = "probe-not-tls"
	OutcomePlainHTTPServer       Outcome = "probe-plain-http-server"
	OutcomePlainClientToTLS      Outcome = "probe-plain-client-to-tls"
	OutcomeServerUnknownCA       Outcome = "probe-server-unknown-authority"
	OutcomeServerChainIncomplete Outcome = "probe-server-chain-incomplete"
	OutcomeServerNameMismatch    Outcome = "probe-server-name-mismatch"
	OutcomeServerCNOnly          Outcome = "probe-server-cn-only"
	OutcomeServerExpired         Outcome = "probe-server-expired"
	OutcomeServerNotYetValid     Outcome = "probe-server-not-yet-valid"
	OutcomeServerWrongEKU        Outcome = "probe-server-wrong-eku"
	OutcomeServerCACannotSign    Outcome = "probe-server-ca-cannot-sign"
	OutcomeServerCertInvalid     Outcome = "probe-server-cert-invalid"
	OutcomeClientCertMissing     Outcome = "probe-client-cert-missing"
	OutcomeClientCertNotAccepted Outcome = "probe-client-cert-not-accepted"
	OutcomeClientCertWrongEKU    Outcome = "probe-client-cert-wrong-eku"
	OutcomeClientCertRejected    Outcome = "probe-client-cert-rejected"
	OutcomeClientCertUnknownCA   Outcome = "probe-client-cert-unknown-ca"
	OutcomeClientCertExpired     Outcome = "probe-client-cert-expired"
	OutcomeTLSVersion            Outcome = "probe-tls-version-mismatch"
	OutcomeHandshakeFailed       Outcome = "probe-handshake-failed"
	OutcomeHandshakeTimeout      Outcome = "probe-handshake-timeout"
	OutcomeHTTPError             Outcome = "probe-http-error"
	OutcomeNotRegistry           Outcome = "probe-not-registry"
)

// Outcomes lists every outcome, for catalogs and tests.
var Outcomes = []Outcome{
	OutcomeOK, OutcomeOKPlain, OutcomeClientConfig, OutcomeResolveFailed, OutcomeConnectRefused, OutcomeConnectTimeout,
	OutcomeConnectFailed, OutcomeSilent, OutcomeNotTLS, OutcomePlainHTTPServer, OutcomePlainClientToTLS,
	OutcomeServerUnknownCA, OutcomeServerChainIncomplete, OutcomeServerNameMismatch, OutcomeServerCNOnly,
	OutcomeServerExpired, OutcomeServerNotYetValid, OutcomeServerWrongEKU, OutcomeServerCACannotSign,
	OutcomeServerCertInvalid, OutcomeClientCertMissing, OutcomeClientCertNotAccepted, OutcomeClientCertWrongEKU,
	OutcomeClientCertRejected, OutcomeClientCertUnknownCA, OutcomeClientCertExpired, OutcomeTLSVersion,
	OutcomeHandshakeFailed, OutcomeHandshakeTimeout, OutcomeHTTPError, OutcomeNotRegistry,
}

// OK reports whether the outcome is a success.
func (o Outcome) OK() bool { return o == OutcomeOK || o == OutcomeOKPlain }

func (r *Result) classifyHandshake(err error) {
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		// The first record the server sent is not TLS: that is the sniff.
		f := false
		r.Evidence.SpeaksTLS = &f
		r.Evidence.Banner = printable(rh.RecordHeader[:])
		if string(rh.RecordHeader[:]) == "HTTP/" {
			r.fail(StageSniff, OutcomePlainHTTPServer, err)
			return
		}
		r.fail(StageSniff, OutcomeNotTLS, err)
		return
	}
	if r.verifyErr != nil {
		r.classifyVerify(err)
		return
	}
	if alert := alertText(err); alert != "" {
		r.Evidence.Alert = alert
		r.classifyAlert(StageHandshake, alert, err)
		return
	}
	if strings.HasPrefix(err.Error(), "TLS handshake timeout") {
		if len(r.Evidence.ServerChain) == 0 {
			r.fail(StageHandshake, OutcomeSilent, err)
		} else {
			r.fail(StageHandshake, OutcomeHandshakeTimeout, err)
		}
		return
	}
	if strings.Contains(err.Error(), "protocol version") || strings.Contains(err.Error(), "no supported versions") {
		r.fail(StageHandshake, OutcomeTLSVersion, err)
		return
	}
	r.fail(StageHandshake, OutcomeHandshakeFailed, err)
}

func (r *Result) classifyVerify(err error) {
	v := r.verifyErr
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(v, &he):
		if strings.Contains(v.Error(), "legacy Common Name") {
			r.fail(StageVerify, OutcomeServerCNOnly, err)
		} else {
			r.fail(StageVerify, OutcomeServerNameMismatch, err)
		}
	case errors.As(v, &ci):
		switch ci.Reason {
		case x509.Expired:
			if len(r.peer) > 0 && r.peer[0].NotBefore.After(r.now()) {
				r.fail(StageVerify, OutcomeServerNotYetValid, err)
			} else {
				r.fail(StageVerify, OutcomeServerExpired, err)
			}
		case x509.IncompatibleUsage:
			r.fail(StageVerify, OutcomeServerWrongEKU, err)
		case x509.NotAuthorizedToSign:
			r.fail(StageVerify, OutcomeServerCACannotSign, err)
		default:
			r.fail(StageVerify, OutcomeServerCertInvalid, err)
		}
	case errors.As(v, &ua):
		if strings.Contains(v.Error(), "parent certificate cannot sign") {
			r.fail(StageVerify, OutcomeServerCACannotSign, err)
		} else if r.chainIncomplete() {
			r.fail(StageVerify, OutcomeServerChainIncomplete, err)
		} else {
			r.fail(StageVerify, OutcomeServerUnknownCA, err)
		}
	default:
		r.fail(StageVerify, OutcomeServerCertInvalid, err)
	}
}

// chainIncomplete: the server sent no certificate for its leaf's issuer, the
// issuer is not the leaf itself, and the issuer is not among the CAs the
// client trusts — typical of a server that does not send its intermediate.
func (r *Result) chainIncomplete() bool {
	return IntermediateMissing(r.peer, trustedCerts(r.client.CA))
}

// IntermediateMissing reports whether chain (a leaf and the certificates
// sent or filed with it) lacks the intermediate CA between the leaf and a
// CA in trusted, on positive evidence only (see below). The live probe
// and the doctor's static checks share this rule.
func IntermediateMissing(chain, trusted []*x509.Certificate) bool {
	if len(chain) == 0 {
		return false
	}
	leaf := chain[0]
	if string(leaf.RawIssuer) == string(leaf.RawSubject) {
		return false
	}
	for _, c := range chain[1:] {
		if string(c.RawSubject) == string(leaf.RawIssuer) {
			return false
		}
	}
	for _, c := range trusted {
		if string(c.RawSubject) == string(leaf.RawIssuer) {
			// The client trusts a CA of that name: a wrong CA, not a
			// missing intermediate.
			return false
		}
	}
	// The leaf names an issuer the client does not hold and the server did
	// not send. Call it a missing intermediate only on positive evidence:
	// the leaf publishes its issuer (AIA caIssuers, which Go never
	// fetches: a hierarchical PKI), and a trusted CA of the same
	// organisation may have intermediates (no path length 0). A trusted CA
	// that merely shares the Organization is no such evidence: it may be
	// another CA altogether.
	if len(chain) != 1 || len(leaf.Issuer.Organization) == 0 || len(leaf.IssuingCertificateURL) == 0 {
		return false
	}
	for _, c := range trusted {
		if len(c.Subject.Organization) > 0 && c.Subject.Organization[0] == leaf.Issuer.Organization[0] &&
			!(c.MaxPathLen == 0 && c.MaxPathLenZero) {
			return true
		}
	}
	return false
}

func (r *Result) classifyAlert(stage Stage, alert string, err error) {
	sent := r.Evidence.ClientCertSent != ""
	hasCert := len(r.client.Pairs) > 0
	switch alert {
	case "certificate required", "handshake failure", "bad certificate":
		switch {
		case !r.Evidence.CertRequested && alert == "handshake failure":
			r.fail(stage, OutcomeHandshakeFailed, err)
		case !hasCert:
			r.fail(stage, OutcomeClientCertMissing, err)
		case !sent:
			r.fail(stage, OutcomeClientCertNotAccepted, err)
		case sent && r.sentCert() != nil && !pki.AllowsUsage(r.sentCert(), x509.ExtKeyUsageClientAuth):
			r.fail(stage, OutcomeClientCertWrongEKU, err)
		case sent && r.sentCert() != nil && r.now().After(r.sentCert().NotAfter):
			r.fail(stage, OutcomeClientCertExpired, err)
		default:
			r.fail(stage, OutcomeClientCertRejected, err)
		}
	case "unknown certificate authority":
		r.fail(stage, OutcomeClientCertUnknownCA, err)
	case "expired certificate":
		r.fail(stage, OutcomeClientCertExpired, err)
	case "unsupported certificate":
		r.fail(stage, OutcomeClientCertWrongEKU, err)
	case "protocol version not supported", "insufficient security":
		r.fail(stage, OutcomeTLSVersion, err)
	default:
		r.fail(stage, OutcomeHandshakeFailed, err)
	}
}

func (r *Result) sentCert() *x509.Certificate {
	for _, chain := range r.clientCrts {
		if len(chain) > 0 && chain[0].Subject.String() == r.Evidence.ClientCertSent {
			return chain[0]
		}
	}
	return nil
}

func rdnString(der []byte) string {
	var rdn pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &rdn); err != nil {
		return "(unparsable name)"
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdn)
	return n.String()
}

// FetchIntermediate is the shell command that fetches the intermediate a
// certificate publishes at url (AIA caIssuers: a DER certificate, RFC 5280
// 4.2.2.1) into a PEM file; outWord is that file as a shell word (quoted
// as needed).
func FetchIntermediate(url, outWord string) string {
	return fmt.Sprintf("curl -fsSL %s | openssl x509 -inform der -out %s", shellQuote(url), outWord)
}

func trustedCerts(pemData []byte) []*x509.Certificate {
	if len(pemData) == 0 {
		return nil
	}
	return pki.Sniff(pemData).Certs
}
