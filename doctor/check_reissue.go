package doctor

import (
	"crypto/x509"
	"path"
	"sort"
	"strings"

	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/layout"
)

// sanArg is the --san value that keeps every name and address cert
// carries and adds extra, each once (an IP in any spelling, a DNS name in
// any case), in order.
func sanArg(cert *x509.Certificate, extra ...string) string {
	var have []string
	if cert != nil {
		have = sanList(cert)
	}
	return probe.JoinSANs(append(have, extra...))
}

// signerOf finds the CA certificate file among candidates that signed
// leaf, and a private key file for it beside it (ca-key.pem) or in
// docker-tls's own directory. It returns "" for what it does not find;
// it never reports key material, only paths.
func (r *runner) signerOf(leaf *x509.Certificate, candidates ...string) (caFile, keyFile string) {
	own := path.Join(r.configDir(), layout.OwnTLSDirName)
	if leaf != nil {
		// Only a signature proves that docker-tls's own CA is the one.
		candidates = append(candidates, path.Join(own, layout.ClientCAFile))
	}
	seen := map[string]bool{}
	for _, c := range candidates {
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		fi, data := r.readFile(c)
		if !fi.Exists || data == nil {
			continue
		}
		certs, err := pki.ParseCertificates(c, data)
		if err != nil {
			continue
		}
		for _, ca := range certs {
			if leaf != nil && leaf.CheckSignatureFrom(ca) != nil {
				continue
			}
			if leaf == nil && !ca.IsCA {
				continue
			}
			for _, k := range []string{path.Join(path.Dir(c), layout.CAKeyFile), path.Join(own, layout.CAKeyFile)} {
				kfi, kdata := r.readFile(k)
				if !kfi.Exists || kdata == nil {
					continue
				}
				if key, err := pki.ParsePrivateKey(k, kdata); err == nil && pki.KeyMatches(key, ca.PublicKey) {
					return c, k
				}
			}
			if caFile == "" {
				caFile = c
			}
		}
	}
	return caFile, ""
}

// configDir is the docker CLI's configuration directory.
func (r *runner) configDir() string {
	return path.Clean(r.o.resolveCLI(ClientFlags{Config: r.o.Flags.Config, Context: layout.DefaultContextName}).ConfigDir)
}

// reissueServer is the command that re-issues a daemon's server
// certificate so that the clients keep trusting it: signed by the CA that
// signed the current one (named by its files when the doctor finds them),
// every SAN kept plus extra, written over the files dockerd loads.
func (r *runner) reissueServer(d *daemonInfo, extra ...string) string {
	var leaf *x509.Certificate
	if len(d.serverChain) > 0 {
		leaf = d.serverChain[0]
	}
	san := sanArg(leaf, extra...)
	if san == "" {
		// No SANs at all (a CN-only certificate): the CN and the
		// addresses dockerd listens on are what clients use.
		var names []string
		if leaf != nil {
			names = append(names, leaf.Subject.CommonName)
		}
		for n := range d.listenNames() {
			if !isWildcard(n) {
				names = append(names, n)
			}
		}
		sort.Strings(names[min(1, len(names)):])
		san = probe.JoinSANs(names)
	}
	if san == "" {
		san = "<the daemon's names and IPs>"
	}
	var b strings.Builder
	b.WriteString("docker tls issue server --san " + shq(san))
	caFile, keyFile := r.signerOf(leaf, d.caPath)
	switch {
	case keyFile != "":
		b.WriteString(" --ca-cert " + r.q(caFile) + " --ca-key " + r.q(keyFile))
	case caFile != "":
		b.WriteString(" --ca-cert " + r.q(caFile) + " --ca-key <the key of " + r.q(caFile) + ">")
	default:
		b.WriteString(" --ca-cert <the CA that signed it> --ca-key <its key>")
	}
	dir := path.Dir(d.certPath)
	if path.Base(d.certPath) == layout.DaemonCertFile && d.keyPath == path.Join(dir, layout.DaemonKeyFile) {
		b.WriteString(" --out " + r.q(dir) + " --force")
		return b.String() + ", then restart dockerd"
	}
	b.WriteString(` --out "$d" && cp "$d/` + layout.DaemonCertFile + `" ` + r.q(d.certPath) + ` && cp "$d/` + layout.DaemonKeyFile + `" ` + r.q(d.keyPath))
	return "d=$(mktemp -d) && " + b.String() + ", then restart dockerd"
}

// reissueClient is the command that issues a client certificate the
// daemon accepts: signed by the daemon's tlscacert (its key named when
// the doctor finds it) and installed where the client set reads it.
func (r *runner) reissueClient(d *daemonInfo, s *clientSet, certPath string) string {
	caFile, keyFile := r.signerOf(nil, d.caPath)
	if caFile == "" {
		caFile = d.caPath
	}
	key := keyFile
	if key == "" {
		key = "<the key of " + caFile + ">"
	} else {
		key = r.q(key)
	}
	cmd := `d=$(mktemp -d) && docker tls issue client --ca-cert ` + r.q(caFile) + ` --ca-key ` + key + ` --out "$d"`
	dir := path.Dir(certPath)
	if s.ep.Context != "" && s.ep.Context != layout.DefaultContextName {
		return cmd + ` && docker tls install client --context ` + shq(s.ep.Context) + ` --host ` + shq(s.host) + ` --ca ` + r.q(caFile) + ` --cert "$d/cert.pem" --key "$d/key.pem"`
	}
	return cmd + ` && cp "$d/cert.pem" "$d/key.pem" ` + r.q(dir) + `/`
}
