package doctor

import (
	"bytes"
	"crypto/x509"
	"errors"
	"path"
	"strings"
)

// signedBy reports whether parent's key signed child. It ignores CA flags,
// validity and EKU (other checks report those). A signature made with an
// algorithm Go refuses (SHA-1) is judged by names and key identifiers.
func signedBy(child, parent *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
	}
	err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	if err == nil {
		return true
	}
	var ia x509.InsecureAlgorithmError
	if errors.As(err, &ia) {
		return len(child.AuthorityKeyId) == 0 || len(parent.SubjectKeyId) == 0 || bytes.Equal(child.AuthorityKeyId, parent.SubjectKeyId)
	}
	return false
}

// chains reports whether leaf reaches one of roots through intermediates,
// the way Go's verifier builds chains (any certificate in the root pool is
// an anchor; intermediates come from the peer's chain).
func chains(leaf *x509.Certificate, intermediates, roots []*x509.Certificate) bool {
	return chainsDepth(leaf, intermediates, roots, 0)
}

func chainsDepth(c *x509.Certificate, inter, roots []*x509.Certificate, depth int) bool {
	if depth > 8 {
		return false
	}
	for _, root := range roots {
		if c.Equal(root) || signedBy(c, root) {
			return true
		}
	}
	for _, ic := range inter {
		if ic.Equal(c) {
			continue
		}
		if signedBy(c, ic) && chainsDepth(ic, inter, roots, depth+1) {
			return true
		}
	}
	return false
}

// chainVerdict is how a leaf relates to a CA file.
type chainVerdict int

const (
	chainOK chainVerdict = iota
	chainMismatch
	chainMissingIntermediate
)

// relate decides whether leaf (with the rest of its file, extra) chains to
// roots; if not, whether an intermediate found in candidates would fix it.
// It returns the path of that intermediate when found.
func relate(leaf *x509.Certificate, extra, roots []*x509.Certificate, candidates []namedCert) (chainVerdict, string) {
	if chains(leaf, extra, roots) {
		return chainOK, ""
	}
	for _, cand := range candidates {
		if !isCertSigner(cand.c) || !bytes.Equal(leaf.RawIssuer, cand.c.RawSubject) {
			continue
		}
		if chains(leaf, append(append([]*x509.Certificate{}, extra...), cand.c), roots) {
			return chainMissingIntermediate, cand.path
		}
	}
	return chainMismatch, ""
}

type namedCert struct {
	path string
	c    *x509.Certificate
}

// siblingCerts reads the certificates in the other PEM-looking files of
// dir, as candidates for a missing intermediate. It skips the files in skip
// and anything that is not a small regular file.
func (r *runner) siblingCerts(dir string, skip ...string) []namedCert {
	entries, err := r.readDir(dir)
	if err != nil {
		return nil
	}
	var out []namedCert
	for _, e := range entries {
		name := e.Name()
		p := path.Join(dir, name)
		if e.IsDir() || containsStr(skip, p) {
			continue
		}
		switch strings.ToLower(path.Ext(name)) {
		case ".pem", ".crt", ".cert", ".cer":
		default:
			continue
		}
		t := r.load(p)
		if t.mat == nil {
			continue
		}
		for _, c := range t.mat.Certs {
			out = append(out, namedCert{path: p, c: c})
		}
	}
	return out
}

// intermediateCandidates are the certificates a server's missing
// intermediate may be in: the files next to its certificate, next to the
// daemon's CA, and next to the CA the client trusts (where a CA's bundle is
// often unpacked), each directory once. The server's own certificate and
// key files are not candidates.
func (r *runner) intermediateCandidates(certPath, keyPath string, caPaths ...string) []namedCert {
	dirs := []string{path.Dir(certPath)}
	for _, p := range caPaths {
		if p != "" && !containsStr(dirs, path.Dir(p)) {
			dirs = append(dirs, path.Dir(p))
		}
	}
	var out []namedCert
	for _, d := range dirs {
		out = append(out, r.siblingCerts(d, certPath, keyPath)...)
	}
	return out
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
