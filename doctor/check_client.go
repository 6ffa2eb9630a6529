package doctor

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/pki/fsutil"

	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker-tls/docker-tls/pki/loader"
)

// clientConfig is what the doctor reads from the docker CLI's config dir.
type clientConfig struct {
	dir            string
	currentContext string
	// registries are the auths keys (registries the user logged in to).
	registries []string
}

func (r *runner) home() string {
	if h := r.o.getenv("HOME"); h != "" {
		return h
	}
	return layout.RootHome
}

func (r *runner) envWithHome(k string) string {
	if k == "HOME" {
		return r.home()
	}
	return r.o.getenv(k)
}

func (r *runner) loadClientConfig() *clientConfig {
	cfg := &clientConfig{dir: path.Clean(r.o.resolveCLI(ClientFlags{Config: r.o.Flags.Config, Context: layout.DefaultContextName}).ConfigDir)}
	p := path.Join(cfg.dir, layout.ClientConfigFile)
	fi, data := r.readFile(p)
	switch {
	case !fi.Exists:
		r.source(catalog.Source{Kind: "client config", Path: r.disp(p), Status: catalog.StatusMissing})
		return cfg
	case fi.Problem != "":
		r.source(catalog.Source{Kind: "client config", Path: r.disp(p), Status: catalog.StatusUnreadable, Detail: fi.Problem})
		return cfg
	}
	var raw struct {
		CurrentContext string                     `json:"currentContext"`
		Auths          map[string]json.RawMessage `json:"auths"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		r.source(catalog.Source{Kind: "client config", Path: r.disp(p), Status: catalog.StatusUnreadable, Detail: "invalid JSON: " + err.Error()})
		return cfg
	}
	cfg.currentContext = raw.CurrentContext
	for k := range raw.Auths {
		cfg.registries = append(cfg.registries, k)
	}
	sort.Strings(cfg.registries)
	detail := ""
	if cfg.currentContext != "" {
		detail = "currentContext " + cfg.currentContext
	}
	r.source(catalog.Source{Kind: "client config", Path: r.disp(p), Status: catalog.StatusFound, Detail: detail})
	return cfg
}

// cliInput is what the docker CLI reads, for the client model, with the
// given global flags.
func (o *Options) cliInput(f ClientFlags) loader.CLIInput {
	in := loader.CLIInput{FS: o.FS, Getenv: o.getenv, Cwd: o.Cwd, Home: layout.RootHome}
	in.Flags = loader.CLIFlags{Context: f.Context, TLS: f.TLS, TLSVerify: f.TLSVerify, Config: f.Config}
	if f.Host != "" {
		in.Flags.Hosts = []string{f.Host}
	}
	for _, x := range []struct {
		v   string
		dst **string
	}{{f.TLSCACert, &in.Flags.TLSCACert}, {f.TLSCert, &in.Flags.TLSCert}, {f.TLSKey, &in.Flags.TLSKey}} {
		if x.v != "" {
			v := x.v
			*x.dst = &v
		}
	}
	return in
}

// resolveCLI is the client model with opts' environment and flags.
func (o *Options) resolveCLI(f ClientFlags) loader.CLIEndpoint {
	return loader.ResolveCLI(o.cliInput(f))
}

// clientSet is one place the client takes TLS material from: the default
// context (env/flags) or a named context, as the client model sees it.
type clientSet struct {
	label         string // "the default context", "context \"prod\""
	dir           string
	ca, cert, key string
	explicit      map[string]bool // paths named by flags (must exist)
	host          string
	hostFrom      string // DOCKER_HOST, -H, context prod
	active        bool
	tlsOn         bool
	ep            loader.CLIEndpoint
}

// setOf turns the model's answer into the set the checks look at.
func setOf(ep loader.CLIEndpoint, f ClientFlags, active bool) *clientSet {
	s := &clientSet{label: "the default context", dir: path.Clean(ep.Dir), ca: ep.Look.CA, cert: ep.Look.Cert, key: ep.Look.Key,
		explicit: map[string]bool{}, host: ep.Host, hostFrom: ep.HostFrom, active: active, ep: ep}
	if ep.Context != layout.DefaultContextName {
		s.label = fmt.Sprintf("context %q", ep.Context)
		s.tlsOn = ep.TLS || ep.CAFile != "" || ep.CertFile != ""
		return s
	}
	for _, p := range []string{f.TLSCACert, f.TLSCert, f.TLSKey} {
		if p != "" {
			s.explicit[p] = true
		}
	}
	s.tlsOn = ep.TLSOptions
	return s
}

func (r *runner) inspectClient(cfg *clientConfig, d *daemonInfo) {
	flags := r.o.Flags
	active := r.o.resolveCLI(flags)
	r.envChecks(cfg, active)
	name, why := active.Context, active.ContextFrom
	if name != layout.DefaultContextName && active.Err != nil && strings.Contains(active.Err.Error(), "context not found") {
		r.add(catalog.IDContextMissing, "context "+name,
			fmt.Sprintf("context %q (from %s) does not exist in %s: every command fails with: %s", name, why, r.disp(path.Join(cfg.dir, layout.ContextsDirName)), active.DockerLine()),
			contextMissingFix(why), map[string]string{"context": name, "from": why})
	}
	def := active
	if name != layout.DefaultContextName {
		df := flags
		df.Context = layout.DefaultContextName
		def = r.o.resolveCLI(df)
	}
	sets := []*clientSet{setOf(def, flags, name == layout.DefaultContextName)}
	for _, n := range loader.CLIContexts(r.o.FS, cfg.dir) {
		ep := active
		if n != name {
			ep = r.o.resolveCLI(ClientFlags{Context: n, Config: flags.Config})
		}
		meta, _ := loader.ContextDir(cfg.dir, n)
		r.source(catalog.Source{Kind: "context", Path: r.disp(path.Join(meta, layout.ContextMetaFile)), Status: catalog.StatusFound, Detail: fmt.Sprintf("%s (%s)", n, ep.Host)})
		sets = append(sets, setOf(ep, ClientFlags{}, n == name))
	}
	for _, s := range sets {
		r.checkClientSet(s, d)
	}
}

func contextMissingFix(why string) string {
	switch why {
	case "DOCKER_CONTEXT":
		return "unset DOCKER_CONTEXT, or create the context (docker context create NAME --docker host=tcp://HOST:2376,ca=ca.pem,cert=cert.pem,key=key.pem)"
	case "--context":
		return "docker context ls, then pass an existing name to --context"
	}
	return "docker context use default (or create the context with docker context create)"
}

var falsy = map[string]bool{"0": true, "false": true, "no": true, "off": true, "n": true, "f": true}

func (r *runner) envChecks(cfg *clientConfig, active loader.CLIEndpoint) {
	if v := r.o.getenv("DOCKER_TLS_VERIFY"); v != "" && falsy[strings.ToLower(strings.TrimSpace(v))] {
		r.add(catalog.IDEnvTLSVerifyZero, "DOCKER_TLS_VERIFY",
			fmt.Sprintf("DOCKER_TLS_VERIFY=%s turns TLS verification ON: the docker CLI only checks that the variable is non-empty", v),
			"unset DOCKER_TLS_VERIFY (and remove it from ~/.bashrc, ~/.profile or ~/.zshrc)", map[string]string{"value": v})
	}
	if cp := r.o.getenv("DOCKER_CERT_PATH"); cp != "" {
		fi := r.stat(cp)
		switch {
		case !fi.Exists:
			r.add(catalog.IDEnvCertPathMissing, "DOCKER_CERT_PATH",
				fmt.Sprintf("DOCKER_CERT_PATH=%s does not exist: with TLS on the CLI fails with \"open %s: no such file or directory\"", r.disp(cp), r.disp(path.Join(cp, layout.ClientCAFile))),
				fmt.Sprintf("unset DOCKER_CERT_PATH, or create %s with ca.pem, cert.pem and key.pem (docker tls install client)", r.q(cp)), nil)
		case fi.Problem != "" || !fi.Mode.IsDir():
			what := fi.Problem
			if what == "" {
				what = "is a " + fsutil.DescribeMode(fi.Mode) + ", not a directory"
			}
			r.add(catalog.IDEnvCertPathMissing, "DOCKER_CERT_PATH",
				fmt.Sprintf("DOCKER_CERT_PATH=%s %s: it must name the directory holding ca.pem, cert.pem and key.pem", r.disp(cp), what),
				fmt.Sprintf("export DOCKER_CERT_PATH=%s (the directory, not a file)", r.q(path.Dir(cp))), nil)
		}
	}
	host := r.o.getenv("DOCKER_HOST")
	if active.ContextFrom != loader.FromDockerHost {
		return
	}
	if c := r.o.getenv("DOCKER_CONTEXT"); c != "" && c != layout.DefaultContextName {
		r.add(catalog.IDEnvHostOverridesContext, "DOCKER_HOST",
			fmt.Sprintf("DOCKER_HOST=%s overrides DOCKER_CONTEXT=%s: the CLI uses the default context and ignores context %q and its TLS files", host, c, c),
			fmt.Sprintf("unset DOCKER_HOST to use context %q (or run docker --context %s ...)", c, shq(c)), map[string]string{"DOCKER_HOST": host, "DOCKER_CONTEXT": c})
		return
	}
	if c := cfg.currentContext; c != "" && c != layout.DefaultContextName {
		r.add(catalog.IDEnvHostOverridesContext, "DOCKER_HOST",
			fmt.Sprintf("DOCKER_HOST=%s overrides the current context %q (docker context use): the CLI uses the default context and ignores %q's TLS files", host, c, c),
			fmt.Sprintf("unset DOCKER_HOST to use context %q (or run docker --context %s ...)", c, shq(c)), map[string]string{"DOCKER_HOST": host, "currentContext": c})
	}
}

// hostName extracts the host name or IP from a docker host URL; "" for
// unix, npipe, ssh and fd hosts, which do not use TLS.
func hostName(h string) string {
	if h == "" {
		return ""
	}
	if !strings.Contains(h, "://") {
		h = "tcp://" + h
	}
	u, err := url.Parse(h)
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "tcp", "https", "http":
		return u.Hostname()
	}
	return ""
}

func (r *runner) checkClientSet(s *clientSet, d *daemonInfo) {
	dirExists := r.isDir(s.dir)
	caF, certF, keyF := r.load(s.ca), r.load(s.cert), r.load(s.key)
	if dirExists {
		if caF.fi.Exists || certF.fi.Exists || keyF.fi.Exists {
			src := catalog.Source{Kind: "client TLS", Path: r.disp(s.dir), Status: catalog.StatusFound, Detail: s.label}
			if s.active {
				src.Detail += ", in use"
			}
			r.source(src)
		}
		r.wrongClientNames(s)
	}
	hf := s.hostFrom
	for _, t := range []*tlsFile{caF, certF, keyF} {
		if !t.fi.Exists && s.explicit[t.fi.Path] {
			r.add(catalog.IDTLSFileMissing, r.disp(t.fi.Path),
				fmt.Sprintf("%s, given with a --tls flag, does not exist", r.disp(t.fi.Path)),
				"correct the --tlscacert/--tlscert/--tlskey path", nil)
		}
	}
	if s.active && s.tlsOn && !caF.fi.Exists && !s.explicit[s.ca] && s.ep.Err == nil && s.ep.SystemRoots && !r.hasAlias(s.dir, layout.ClientCAFile) {
		// The client model loads this setup: no ca.pem means docker
		// verifies the daemon against the system roots, not a load error.
		r.addSev(catalog.IDTLSFileMissing, catalog.SeverityWarning, r.disp(s.ca),
			fmt.Sprintf("%s has no %s: docker verifies the daemon against this machine's system roots, so a daemon whose certificate comes from a private CA fails with \"tls: failed to verify certificate: x509: certificate signed by unknown authority\"", s.label, layout.ClientCAFile),
			fmt.Sprintf("install the CA that signed the daemon's certificate as %s (docker tls install client --context %s --ca CA.pem --cert CERT --key KEY), unless the daemon's certificate is publicly trusted", r.q(s.ca), shq(s.ep.Context)), nil)
	} else if s.active && s.tlsOn && !caF.fi.Exists && !s.explicit[s.ca] && !r.hasAlias(s.dir, layout.ClientCAFile) {
		why := "TLS is on (DOCKER_TLS_VERIFY, DOCKER_TLS or --tls)"
		line := fmt.Sprintf("open %s: no such file or directory", r.disp(s.ca))
		if l := s.ep.DockerLine(); l != "" {
			line = l // the client model's: what docker prints
		}
		r.add(catalog.IDTLSFileMissing, r.disp(s.ca),
			fmt.Sprintf("%s, so the docker CLI reads %s, which does not exist: commands fail with %q", why, r.disp(s.ca), line),
			fmt.Sprintf("install the CA as %s (docker tls install client), or unset DOCKER_TLS_VERIFY DOCKER_TLS DOCKER_CERT_PATH if this daemon does not use TLS", r.q(s.ca)), nil)
	}
	if s.tlsOn && certF.fi.Exists != keyF.fi.Exists {
		have, miss := certF, keyF
		if !certF.fi.Exists {
			have, miss = keyF, certF
		}
		if !r.hasAlias(s.dir, path.Base(miss.fi.Path)) {
			r.add(catalog.IDTLSFileMissing, r.disp(miss.fi.Path),
				fmt.Sprintf("%s exists but %s does not: %s sends no client certificate and a daemon with tlsverify answers \"remote error: tls: certificate required\"", r.disp(have.fi.Path), r.disp(miss.fi.Path), s.label),
				fmt.Sprintf("put the matching %s at %s", strings.TrimSuffix(path.Base(miss.fi.Path), ".pem"), r.q(miss.fi.Path)), nil)
		}
	}
	var cas []*x509.Certificate
	if caF.fi.Exists {
		cas = r.caFile(caF)
	}
	var leafChain []*x509.Certificate
	switch {
	case certF.fi.Exists && keyF.fi.Exists:
		leafChain, _ = r.pairFiles(certF, keyF, useClient)
	case certF.fi.Exists:
		if leafChain = r.certFile(certF, useClient.String()); len(leafChain) > 0 {
			r.certChecks(leafChain[0], certF.fi.Path, useClient)
		}
	case keyF.fi.Exists:
		r.keyFile(keyF, "client key")
	}
	if d == nil || !s.tlsOn {
		return
	}
	r.crossCheck(s, hf, cas, leafChain, certF.fi.Path, d)
}

// hasAlias reports whether dir holds a misnamed file standing in for want.
func (r *runner) hasAlias(dir, want string) bool {
	for alias, canon := range layout.ClientPathAliases {
		if canon == want && r.stat(path.Join(dir, alias)).Exists {
			return true
		}
	}
	return false
}

// wrongClientNames reports certs.d-style or daemon-style names in a client
// cert path where the CLI's own name is missing.
func (r *runner) wrongClientNames(s *clientSet) {
	aliases := make([]string, 0, len(layout.ClientPathAliases))
	for a := range layout.ClientPathAliases {
		aliases = append(aliases, a)
	}
	sort.Strings(aliases)
	for _, alias := range aliases {
		canon := layout.ClientPathAliases[alias]
		ap, cp := path.Join(s.dir, alias), path.Join(s.dir, canon)
		if !r.stat(ap).Exists || r.stat(cp).Exists {
			continue
		}
		r.add(catalog.IDCertPathWrongNames, r.disp(ap),
			fmt.Sprintf("%s is named like a certs.d file; %s reads %s, which does not exist, so the file is never used", r.disp(ap), s.label, canon),
			fmt.Sprintf("mv %s %s", r.q(ap), r.q(cp)), map[string]string{"expected": canon})
	}
}

// isLoopback reports whether a host name is this machine.
func isLoopback(h string) bool {
	if strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// crossCheck compares a client's material with the local daemon's when the
// client's host names this daemon.
func (r *runner) crossCheck(s *clientSet, hf string, cas, leafChain []*x509.Certificate, certPath string, d *daemonInfo) {
	h := hostName(s.host)
	if h == "" || len(d.serverChain) == 0 {
		return
	}
	names := d.listenNames()
	local := isLoopback(h) || names[strings.ToLower(h)]
	covered := d.serverChain[0].VerifyHostname(h) == nil
	if !local && !covered {
		return
	}
	server := d.serverChain[0]
	if local && !covered && len(d.serverChain) > 0 {
		err := d.serverChain[0].VerifyHostname(h)
		r.add(catalog.IDHostNotInSANs, s.host,
			fmt.Sprintf("%s %s (from %s) names this machine's daemon, but its certificate %s does not cover %q: %q", s.label, s.host, hf, r.disp(d.certPath), h, err.Error()),
			fmt.Sprintf("%s; or connect with a name it covers (%s)", r.reissueServer(d, h), joinOr(sanList(server), "none")),
			map[string]string{"host": h, "sans": joinOr(sanList(server), "none")})
	}
	if len(cas) > 0 {
		cands := r.intermediateCandidates(d.certPath, d.keyPath, d.caPath, s.ca)
		v, inter := relate(server, d.serverChain[1:], cas, cands)
		if v == chainMismatch && probe.IntermediateMissing(d.serverChain, cas) {
			r.intermediateNotFound(d, s.ca, cas)
		} else {
			r.chainFinding(v, inter, ", then restart dockerd", catalog.IDCAMismatchServer, d.certPath, server, s.ca, cas,
				fmt.Sprintf("%s trusts only %s, which did not sign the daemon certificate %s (issuer %q): commands fail with \"x509: certificate signed by unknown authority\"",
					s.label, r.disp(s.ca), r.disp(d.certPath), server.Issuer.String()),
				fmt.Sprintf("cp %s %s (the daemon's CA), or reissue the daemon certificate from %s", r.q(d.caPath), r.q(s.ca), r.q(s.ca)))
		}
	}
	if s.active && len(leafChain) == 0 && d.verify && len(d.caCerts) > 0 && !r.stat(s.cert).Exists && !r.stat(s.key).Exists {
		r.add(catalog.IDTLSFileMissing, r.disp(s.cert),
			fmt.Sprintf("%s has no client certificate (%s, %s) but this machine's daemon requires one (tlsverify, CA %s): docker sends none and the daemon refuses the handshake (\"remote error: tls: certificate required\" or \"bad certificate\")", s.label, r.disp(s.cert), r.disp(s.key), r.disp(d.caPath)),
			r.reissueClient(d, s, s.cert), nil)
	}
	if len(leafChain) > 0 && d.verify && len(d.caCerts) > 0 {
		leaf := leafChain[0]
		v, inter := relate(leaf, leafChain[1:], d.caCerts, r.siblingCerts(path.Dir(certPath), certPath, s.key))
		r.chainFinding(v, inter, "", catalog.IDCAMismatchClient, certPath, leaf, d.caPath, d.caCerts,
			fmt.Sprintf("%s's client certificate %s (issuer %q) is not signed by the daemon's tlscacert %s: the client does not send it and the daemon answers \"remote error: tls: certificate required\"",
				s.label, r.disp(certPath), leaf.Issuer.String(), r.disp(d.caPath)),
			r.reissueClient(d, s, certPath))
	}
}

// chainFinding turns a relate verdict into a finding. then follows the
// missing intermediate's fix (the restart that makes a server read it).
func (r *runner) chainFinding(v chainVerdict, inter, then, id, leafPath string, leaf *x509.Certificate, caPath string, cas []*x509.Certificate, msg, fix string) {
	ev := map[string]string{"issuer": leaf.Issuer.String(), "ca": cas[0].Subject.String(), "certificateFingerprint": pki.Fingerprint(leaf)}
	switch v {
	case chainMismatch:
		if sameNameDifferentKey(leaf, cas) {
			msg += " (a CA with the same name but a different key: was the CA regenerated?)"
		}
		r.add(id, r.disp(leafPath), msg, fix, ev)
	case chainMissingIntermediate:
		ev["intermediate"] = r.disp(inter)
		r.add(catalog.IDMissingIntermediate, r.disp(leafPath),
			fmt.Sprintf("%s was issued by the intermediate %q, which is not in %s; it is in %s, which chains to %s", r.disp(leafPath), leaf.Issuer.String(), r.disp(leafPath), r.disp(inter), r.disp(caPath)),
			fmt.Sprintf("cat %s %s > %s.chain && mv %s.chain %s%s", r.q(leafPath), r.q(inter), r.q(leafPath), r.q(leafPath), r.q(leafPath), then), ev)
	}
}

// intermediateNotFound reports a daemon certificate issued by an
// intermediate that neither its file nor the files around it hold, while
// the certificate publishes where it is (AIA caIssuers, which Go never
// fetches) and the client trusts a root of that organisation that allows
// intermediates (probe.IntermediateMissing's evidence). The fix fetches
// it next to the certificate and appends it.
func (r *runner) intermediateNotFound(d *daemonInfo, caPath string, cas []*x509.Certificate) {
	leaf := d.serverChain[0]
	aia := leaf.IssuingCertificateURL[0]
	inter := path.Join(path.Dir(d.certPath), "intermediate.pem")
	r.add(catalog.IDMissingIntermediate, r.disp(d.certPath),
		fmt.Sprintf("%s was issued by the intermediate %q, which is neither in %s nor next to it or the CAs; the certificate says it is published at %s, which Go never fetches, and %s trusts only a root of that organisation (%s)",
			r.disp(d.certPath), leaf.Issuer.String(), r.disp(d.certPath), aia, r.disp(caPath), cas[0].Subject.String()),
		fmt.Sprintf("%s && cat %s %s > %s.chain && mv %s.chain %s, then restart dockerd",
			probe.FetchIntermediate(aia, r.q(inter)), r.q(d.certPath), r.q(inter), r.q(d.certPath), r.q(d.certPath), r.q(d.certPath)),
		map[string]string{"issuer": leaf.Issuer.String(), "ca": cas[0].Subject.String(), "certificateFingerprint": pki.Fingerprint(leaf), "issuerURL": aia})
}

func sameNameDifferentKey(leaf *x509.Certificate, cas []*x509.Certificate) bool {
	for _, c := range cas {
		if string(c.RawSubject) == string(leaf.RawIssuer) {
			return true
		}
	}
	return false
}

func sanList(c *x509.Certificate) []string {
	out := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}
