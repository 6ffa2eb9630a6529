package doctor

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/probe"

	"github.com/docker-tls/docker-tls/pki"
)

// certProblem is what one per-certificate check found.
type certProblem struct {
	msg, fix string
	// sev overrides the catalog's severity when set.
	sev catalog.Severity
}

type certCtx struct {
	r    *runner
	c    *x509.Certificate
	path string // logical path of the file holding c
	use  certUse
	now  time.Time
}

func (x *certCtx) where() string {
	return fmt.Sprintf("%s (%s %s)", x.r.disp(x.path), x.use, certName(x.c))
}

// certCheck is one row of the per-certificate check table.
type certCheck struct {
	id   string
	uses []certUse // roles it applies to
	run  func(x *certCtx) *certProblem
}

var allUses = []certUse{useCA, useServer, useClient, useChain}

// certCheckTable holds every check that looks at one certificate alone.
// Relations (key match, chains, host names) are checked elsewhere.
var certCheckTable = []certCheck{
	{catalog.IDCertExpired, allUses, func(x *certCtx) *certProblem {
		if !x.now.After(x.c.NotAfter) {
			return nil
		}
		days := -pki.DaysLeft(x.c, x.now)
		return &certProblem{
			msg: fmt.Sprintf("%s expired on %s (%s ago): \"x509: certificate has expired or is not yet valid\"", x.where(), date(x.c.NotAfter), plural(days, "day")),
			fix: renewFix(x),
		}
	}},
	{catalog.IDCertNotYetValid, allUses, func(x *certCtx) *certProblem {
		if !x.now.Before(x.c.NotBefore) {
			return nil
		}
		return &certProblem{
			msg: fmt.Sprintf("%s is not valid before %s: \"x509: certificate has expired or is not yet valid: current time %s is before %s\"", x.where(),
				x.c.NotBefore.UTC().Format(time.RFC3339), x.now.UTC().Format(time.RFC3339), x.c.NotBefore.UTC().Format(time.RFC3339)),
			fix: "check the clock on this machine and the issuing one (timedatectl), or reissue the certificate with a correct start time",
		}
	}},
	{catalog.IDCertExpiring, allUses, func(x *certCtx) *certProblem {
		left := x.c.NotAfter.Sub(x.now)
		if x.now.After(x.c.NotAfter) || x.now.Before(x.c.NotBefore) || left > max(x.r.o.ExpiryWarn, x.r.o.ExpiryFail) {
			return nil
		}
		p := &certProblem{
			msg: fmt.Sprintf("%s expires on %s, in %s", x.where(), date(x.c.NotAfter), plural(pki.DaysLeft(x.c, x.now), "day")),
			fix: renewFix(x),
		}
		if x.r.o.ExpiryFail > 0 && left <= x.r.o.ExpiryFail {
			// The renewal gate (--expiry-fail): same check, raised to error.
			p.msg += fmt.Sprintf(", within the --expiry-fail threshold of %s", FormatThreshold(x.r.o.ExpiryFail))
			p.sev = catalog.SeverityError
		}
		return p
	}},
	{catalog.IDCANotCA, []certUse{useCA, useChain}, func(x *certCtx) *certProblem {
		if isCertSigner(x.c) {
			return nil
		}
		why := "has no basicConstraints CA:TRUE"
		if x.c.BasicConstraintsValid && x.c.IsCA {
			why = "has a key usage without keyCertSign (" + joinOr(pki.KeyUsageNames(x.c.KeyUsage), "none") + ")"
		}
		fix := fmt.Sprintf("replace %s with the CA certificate that issued the server/client certificates (look for the issuer %q)", x.r.q(x.path), x.c.Issuer.String())
		if string(x.c.RawIssuer) == string(x.c.RawSubject) && x.c.CheckSignature(x.c.SignatureAlgorithm, x.c.RawTBSCertificate, x.c.Signature) == nil {
			// Self-signed: no other CA issued it, so naming its issuer
			// names itself. The way out is a real CA and new leaves.
			san := "<the daemon's names and IPs>"
			if names := sanList(x.c); len(names) > 0 {
				san = shq(probe.JoinSANs(names))
			}
			fix = fmt.Sprintf("%s is self-signed and no CA, so nothing can replace it: create a real CA and re-issue the server and client certificates from it (docker tls init --san %s --out DIR), install them on the daemon (docker tls install daemon --cert DIR/server-cert.pem --key DIR/server-key.pem --client-ca DIR/ca.pem) and on each client (docker tls install client --ca DIR/ca.pem --cert DIR/cert.pem --key DIR/key.pem)", x.r.q(x.path), san)
		}
		return &certProblem{
			msg: fmt.Sprintf("%s %s: certificates it signed fail with \"x509: certificate signed by unknown authority\"; it only matches a peer presenting this exact certificate", x.where(), why),
			fix: fix,
		}
	}},
	{catalog.IDEKUClientMissing, []certUse{useClient}, func(x *certCtx) *certProblem {
		if pki.AllowsUsage(x.c, x509.ExtKeyUsageClientAuth) {
			return nil
		}
		return &certProblem{
			msg: fmt.Sprintf("%s has extendedKeyUsage %s without clientAuth: the server refuses it with \"remote error: tls: bad certificate\"", x.where(), ekuList(x.c)),
			fix: fmt.Sprintf("issue a client certificate (docker tls issue client) and replace %s and its key", x.r.q(x.path)),
		}
	}},
	{catalog.IDEKUServerMissing, []certUse{useServer}, func(x *certCtx) *certProblem {
		if pki.AllowsUsage(x.c, x509.ExtKeyUsageServerAuth) {
			return nil
		}
		return &certProblem{
			msg: fmt.Sprintf("%s has extendedKeyUsage %s without serverAuth: clients fail with \"x509: certificate specifies an incompatible key usage\"", x.where(), ekuList(x.c)),
			fix: fmt.Sprintf("issue a server certificate (docker tls issue server) and replace %s and its key", x.r.q(x.path)),
		}
	}},
	{catalog.IDCertCNOnly, []certUse{useServer}, func(x *certCtx) *certProblem {
		if hasSANs(x.c) {
			return nil
		}
		return &certProblem{
			msg: fmt.Sprintf("%s has no subjectAltName, only CN=%q: Go ignores the CN (\"x509: certificate relies on legacy Common Name field, use SANs instead\")", x.where(), x.c.Subject.CommonName),
			fix: fmt.Sprintf("reissue it with SANs: docker tls issue server --san %s", sanHint(x.c.Subject.CommonName)),
		}
	}},
	{catalog.IDSigSHA1, allUses, func(x *certCtx) *certProblem {
		if !weakSignature(x.c.SignatureAlgorithm) || pki.IsSelfSigned(x.c) {
			return nil
		}
		return &certProblem{
			msg: fmt.Sprintf("%s is signed with %s: Go fails with \"x509: cannot verify signature: insecure algorithm %s\"", x.where(), x.c.SignatureAlgorithm, x.c.SignatureAlgorithm),
			fix: "reissue the certificate with a SHA-256 signature (docker tls issue)",
		}
	}},
	{catalog.IDRSAWeak, allUses, func(x *certCtx) *certProblem {
		bits := rsaBits(x.c.PublicKey)
		if bits == 0 || bits >= 2048 {
			return nil
		}
		return &certProblem{
			msg: fmt.Sprintf("%s has a %d-bit RSA key, below the 2048 bits minimum", x.where(), bits),
			fix: "reissue it with a stronger key (docker tls issue --key ecdsa-p256)",
		}
	}},
}

func weakSignature(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1, x509.MD5WithRSA, x509.MD2WithRSA:
		return true
	}
	return false
}

func renewFix(x *certCtx) string {
	switch x.use {
	case useCA:
		return fmt.Sprintf("create a new CA (docker tls ca create), reissue the certificates it signs, and replace %s", x.r.q(x.path))
	case useServer:
		return fmt.Sprintf("issue a new server certificate (docker tls issue server) and replace %s", x.r.q(x.path))
	case useClient:
		return fmt.Sprintf("issue a new client certificate (docker tls issue client) and replace %s", x.r.q(x.path))
	}
	return fmt.Sprintf("get a current intermediate certificate from the CA and replace it in %s", x.r.q(x.path))
}

func sanHint(cn string) string {
	if cn == "" {
		return "HOST"
	}
	return shq(cn)
}

func joinOr(s []string, empty string) string {
	if len(s) == 0 {
		return empty
	}
	out := s[0]
	for _, x := range s[1:] {
		out += ", " + x
	}
	return out
}

// certChecks runs the table on one certificate.
func (r *runner) certChecks(c *x509.Certificate, p string, use certUse) {
	x := &certCtx{r: r, c: c, path: p, use: use, now: r.o.Now}
	for i := range certCheckTable {
		ck := &certCheckTable[i]
		if !usesContain(ck.uses, use) {
			continue
		}
		if pr := ck.run(x); pr != nil {
			r.addSev(ck.id, pr.sev, r.disp(p), pr.msg, pr.fix, certEvidence(c))
		}
	}
}

func usesContain(us []certUse, u certUse) bool {
	for _, x := range us {
		if x == u {
			return true
		}
	}
	return false
}
