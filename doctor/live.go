package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker-tls/docker-tls/pki/loader"
)

// Endpoint is what the docker CLI connects to in this environment, and with
// which TLS material: the client model's answer (pki/loader.ResolveCLI)
// for the environment and flags.
type Endpoint struct {
	// Host is the docker host URL (tcp://h:2376, unix:///var/run/docker.sock).
	Host string
	// From says where the host came from (DOCKER_HOST, -H, context "x").
	From string
	// Label names the TLS material's owner (the default context, context "x").
	Label      string
	TLS        bool
	SkipVerify bool
	// CA, Cert, Key are the files the CLI loads, paths inside Options.FS
	// ("" when it loads none).
	CA, Cert, Key string
	// CLI is the model's full answer.
	CLI loader.CLIEndpoint
}

// endpointOf names the model's answer for reports.
func endpointOf(ep loader.CLIEndpoint) Endpoint {
	label := "the default context"
	if ep.Context != layout.DefaultContextName {
		label = fmt.Sprintf("context %q", ep.Context)
	}
	return Endpoint{Host: ep.Host, From: ep.HostFrom, Label: label, TLS: ep.TLS, SkipVerify: ep.SkipTLSVerify,
		CA: ep.CAFile, Cert: ep.CertFile, Key: ep.KeyFile, CLI: ep}
}

// ActiveEndpoint resolves the endpoint and client material the docker CLI
// would use with opts' environment and flags. The error is the CLI's own
// when it fails before connecting.
func ActiveEndpoint(opts Options) (Endpoint, error) {
	if err := opts.normalise(); err != nil {
		return Endpoint{}, err
	}
	ep := endpointOf(opts.resolveCLI(opts.Flags))
	if ep.CLI.Err != nil {
		return ep, errors.New(ep.CLI.DockerLine())
	}
	return ep, nil
}

// ClientFor is the probe's client material for a daemon target from the
// endpoint: what the CLI loaded, or the CLI's own error when it fails
// before connecting.
func ClientFor(opts Options, ep Endpoint) probe.Client {
	_ = opts.normalise()
	m := ep.CLI
	c := probe.Client{TLS: m.TLS, SkipVerify: m.SkipTLSVerify, Source: ep.Label}
	if m.Context != layout.DefaultContextName {
		c.Context = m.Context
	}
	if m.Err != nil {
		c.ConfigErr = errors.New(m.DockerLine())
		return c
	}
	if !m.TLS {
		return c // the probe's messages say that it has no TLS settings
	}
	if m.CA != nil {
		c.CA, c.CAFile = m.CA, (&runner{o: &opts}).disp(m.CAFile)
	}
	c.SystemRoots = m.SystemRoots
	if m.CAFile != "" {
		// The CA that must sign a re-issued server certificate: the one
		// this client trusts, with its key when the doctor finds it.
		r := &runner{o: &opts}
		if ca, key := r.signerOf(nil, m.CAFile); key != "" {
			c.IssueCA, c.IssueCAKey = r.disp(ca), r.disp(key)
		}
	}
	if m.ClientCert() {
		c.Pairs = []probe.Pair{{CertFile: (&runner{o: &opts}).disp(m.CertFile), KeyFile: (&runner{o: &opts}).disp(m.KeyFile), Cert: m.Cert, Key: m.Key}}
	}
	return c
}

// RegistryClientFor is the material dockerd uses for a registry target: the
// certs.d directory named exactly like the target's host[:port], under the
// root (rootless dockerd's directory when rootless is set).
func RegistryClientFor(opts Options, t probe.Target, rootless bool) (probe.Client, string, error) {
	_ = opts.normalise()
	dir := layout.DockerCertsDir
	if rootless {
		dir = layout.RootlessCertsDir(opts.getenv)
	}
	d := path.Join(dir, t.HostPort())
	host := d
	if root := opts.Root; root != "" && root != "/" {
		host = path.Join(root, d)
	}
	c, err := probe.ClientFromCertsDir(host)
	c.Source = host
	return c, host, err
}

// LiveTarget is one endpoint to probe with its client material.
type LiveTarget struct {
	Target probe.Target
	Client probe.Client
	// Profile names the loader whose material is used for a registry:
	// "docker" (dockerd's certs.d), "containerd" or "containers".
	Profile string
	// Setup names the client setup for a daemon target ("docker -H
	// tcp://h:2376 --tlsverify", "docker --context prod"); "" for fleets.
	Setup string
	// informational: another setup for the same target works; this
	// setup's failure is reported as info.
	informational bool
	// unflagged: another setup for the same target works, but this one
	// is what the user's docker does without flags (DOCKER_HOST names
	// the target) and it fails: a warning whose fix is the export.
	unflagged bool
	// active and export: see setup.
	active bool
	export string
}

// Subject is how findings name the target: with the loader profile when it
// is not dockerd's.
func (lt LiveTarget) Subject() string {
	if lt.Profile == "" || lt.Profile == ProfileDocker {
		return lt.Target.String()
	}
	return lt.Target.String() + " (" + lt.Profile + ")"
}

// Probe runs the live probes with at most workers at a time and returns the
// results in target order.
func Probe(ctx context.Context, targets []LiveTarget, o probe.Options, workers int) []*probe.Result {
	if workers <= 0 {
		workers = 16
	}
	out := make([]*probe.Result, len(targets))
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = probe.Probe(ctx, targets[i].Target, targets[i].Client, o)
		}(i)
	}
	wg.Wait()
	return out
}

// AddLive adds the probe results to the report as findings (an info finding
// for a healthy endpoint) and the targets as sources. Live findings come
// first, in the order of targets (the intake leads with the most likely
// client setup); the static findings follow in their own order.
func AddLive(rep *catalog.Report, targets []LiveTarget, results []*probe.Result) {
	static := rep.Findings
	rep.Findings = nil
	for i, res := range results {
		t := res.Target
		subject := targets[i].Subject()
		detail := string(t.Role)
		if targets[i].Profile != "" {
			detail += ", " + targets[i].Profile + " material from " + targets[i].Client.Source
		}
		rep.Sources = append(rep.Sources, catalog.Source{Kind: "target", Path: subject, Status: statusOf(res), Detail: detail})
		c, _ := catalog.Lookup(string(res.Outcome))
		sev := c.Severity
		if sev == "" {
			sev = catalog.SeverityError
		}
		if targets[i].informational {
			sev = catalog.SeverityInfo
		}
		if targets[i].unflagged {
			sev = catalog.SeverityWarning
		}
		f := catalog.Finding{CheckID: string(res.Outcome), Severity: sev, Subject: subject, Message: res.Cause, Fix: res.Fix,
			Evidence: liveEvidence(res), DockerError: res.DockerError, DockerPushError: res.DockerPushError, Setup: targets[i].Setup}
		if f.Setup != "" {
			f.Message = "with " + f.Setup + ": " + f.Message
		}
		if p := targets[i].Profile; p != "" && p != ProfileDocker {
			// Not what docker prints: containerd and containers/image word
			// their errors themselves. The raw error stays in evidence.
			f.DockerError, f.DockerPushError = "", ""
		}
		rep.Findings = append(rep.Findings, f)
		if nf, ok := noClientAuth(targets[i], res, subject); ok {
			rep.Findings = append(rep.Findings, nf)
		}
	}
	rep.Findings = catalog.OrderByCause(append(rep.Findings, static...))
	rep.Summarize()
}

// noClientAuth is the warning for a daemon that completed a TLS handshake
// without asking for a client certificate: whoever reaches the port
// controls it.
func noClientAuth(lt LiveTarget, res *probe.Result, subject string) (catalog.Finding, bool) {
	if res.Target.Role != probe.RoleDaemon || lt.informational || res.Evidence.TLSVersion == "" || res.Evidence.CertRequested {
		return catalog.Finding{}, false
	}
	if !res.Outcome.OK() && res.Stage != probe.StageHTTP {
		return catalog.Finding{}, false
	}
	return catalog.Finding{CheckID: catalog.IDDaemonNoClientAuth, Severity: catalog.SeverityWarning, Subject: subject,
		Message:  fmt.Sprintf("%s completed the TLS handshake without asking for a client certificate (dockerd without tlsverify): whoever reaches the port controls the daemon, root on that host", subject),
		Fix:      "docker tls install daemon (writes tlsverify and tlscacert to daemon.json), restart dockerd, then docker tls install client on each client",
		Evidence: map[string]string{"tlsVersion": res.Evidence.TLSVersion, "clientCertRequested": "false"}}, true
}

func statusOf(res *probe.Result) string {
	if res.Outcome.OK() {
		return "reachable"
	}
	return "failed"
}

// liveEvidence flattens what the probe saw into public facts.
func liveEvidence(res *probe.Result) map[string]string {
	e := res.Evidence
	m := map[string]string{"stage": string(res.Stage)}
	if res.Stage == "" {
		delete(m, "stage")
	}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("error", res.Err)
	set("addresses", strings.Join(e.Addrs, ", "))
	set("tlsVersion", e.TLSVersion)
	set("cipherSuite", e.CipherSuite)
	set("alert", e.Alert)
	set("banner", e.Banner)
	for i, c := range e.ServerChain {
		p := fmt.Sprintf("serverChain.%d.", i)
		set(p+"subject", c.Subject)
		set(p+"issuer", c.Issuer)
		set(p+"sans", strings.Join(append(append([]string{}, c.DNSNames...), c.IPAddresses...), ", "))
		set(p+"notAfter", c.NotAfter.Format(time.RFC3339))
		set(p+"sha256", c.Fingerprint)
	}
	if e.CertRequested {
		m["clientCertRequested"] = "true"
		set("acceptableCAs", strings.Join(e.AcceptableCAs, "; "))
		if e.ClientCertSent == "" {
			m["clientCertSent"] = "none"
		} else {
			m["clientCertSent"] = e.ClientCertSent
		}
	}
	if e.HTTPStatus != 0 {
		m["httpStatus"] = fmt.Sprint(e.HTTPStatus)
	}
	set("serverVersion", e.ServerVersion)
	set("registryAPI", e.RegistryAPI)
	for v, msg := range e.Retries {
		set("retry."+v, msg)
	}
	return m
}

// Loader profiles for registry targets.
const (
	ProfileDocker     = "docker"
	ProfileContainerd = "containerd"
	ProfileContainers = "containers"
)

// RegistryTargets returns the registry target with the material of each
// loader that has material for it: dockerd's certs.d always; containerd's
// hosts directory and containers/image's certs.d when they have a directory
// for this host.
//
// dockerd's material is read with the rules its image store applies
// (liveSelection): moby's classic certs.d reader, or, with the containerd
// image store, containerd's hosts loader on the same directory (hosts.toml
// honoured), whose errors the probe then words as containerd's resolver.
func RegistryTargets(opts Options, t probe.Target, rootless bool) []LiveTarget {
	sel, d := liveSelection(opts)
	return registryTargets(opts, t, rootless, sel, d)
}

// registryTargets is RegistryTargets with dockerd's rules and
// configuration already read (once for all of an intake's targets).
func registryTargets(opts Options, t probe.Target, rootless bool, sel loader.Selection, d *daemonInfo) []LiveTarget {
	if lt, ok := mirrorTarget(opts, t, rootless, sel, d); ok {
		return lt
	}
	in := registryInsecurity(&opts, d, sel, t.HostPort())
	var c probe.Client
	if in.Insecure && !in.ReadsCertsD {
		// moby's classic store: no certs.d for an insecure registry
		// (registry.newTLSConfig), no verification, plain HTTP fallback.
		c = probe.Client{TLS: true, SkipVerify: true, SystemRoots: true,
			Source: "dockerd, which treats " + t.HostPort() + " as an insecure registry (" + in.Why + ") and reads no certs.d for it"}
	} else if sel.Rules == loader.RulesContainerd && !rootless {
		var ok bool
		var err error
		c, ok, err = containerdClientIn(opts, t, layout.DockerCertsDir)
		if !ok {
			c = probe.Client{TLS: true, SystemRoots: true, Source: path.Join(layout.DockerCertsDir, t.HostPort()) + " (missing: system roots only)"}
		}
		if err != nil {
			c.ConfigErr = err
		}
		c.ContainerdStore = true
	} else {
		var err error
		c, _, err = RegistryClientFor(opts, t, rootless)
		if err != nil {
			c.ConfigErr = err
		}
	}
	if in.Insecure {
		c.Insecure, c.SkipVerify = in.Why, true
	}
	c.LegacyErrors = sel.Moby == loader.Moby20
	c.Source += "; read with " + dockerdRulesName(sel)
	if m, ok := mirrorOf(&opts, d, t.HostPort()); ok {
		c.Mirror = m.URL
		c.MirrorFallback = `a failing mirror does not fail docker pull: dockerd logs "Attempting next endpoint for pull after error: …" and pulls from the next mirror or Docker Hub`
	}
	out := []LiveTarget{{Target: t, Client: c, Profile: ProfileDocker}}
	if c, ok, err := containerdClientFor(opts, t); ok {
		if err != nil {
			c.ConfigErr = err
		}
		out = append(out, LiveTarget{Target: t, Client: c, Profile: ProfileContainerd})
	}
	if c, ok, err := containersClientFor(opts, t); ok {
		if err != nil {
			c.ConfigErr = err
		}
		out = append(out, LiveTarget{Target: t, Client: c, Profile: ProfileContainers})
	}
	return out
}

// mirrorOf is the registry-mirrors entry of dockerd's configuration
// (/info, else daemon.json and --registry-mirror) whose host is hostPort.
func mirrorOf(opts *Options, d *daemonInfo, hostPort string) (loader.Mirror, bool) {
	cfg, _ := registryConfig(opts, d)
	if len(cfg.Mirrors) == 0 {
		return loader.Mirror{}, false
	}
	ms, _ := loader.LoadMirrors(opts.Dockerd.Version, cfg.Mirrors)
	return loader.MirrorFor(ms, hostPort)
}

// mirrorTarget is dockerd's client for t when t is one of its
// registry-mirrors (pki/loader MirrorAccessFor): plain HTTP for an http://
// mirror; with the classic store the mirror's own certs.d, as for any
// registry; with the containerd image store docker.io's configuration,
// whose transport the mirror hosts share (moby 28 daemon/hosts.go
// mirrorsToRegistryHosts).
func mirrorTarget(opts Options, t probe.Target, rootless bool, sel loader.Selection, d *daemonInfo) ([]LiveTarget, bool) {
	m, ok := mirrorOf(&opts, d, t.HostPort())
	if !ok {
		return nil, false
	}
	cfg, _ := registryConfig(&opts, d)
	lookup := net.LookupIP
	if opts.Root != "" && opts.Root != "/" {
		lookup = nil
	}
	ctrd := sel.Rules == loader.RulesContainerd && !rootless
	acc := loader.MirrorAccessFor(cfg, m, ctrd, lookup)
	fallback := `a failing mirror does not fail docker pull: dockerd logs "Attempting next endpoint for pull after error: …" and pulls from the next mirror or Docker Hub`
	if ctrd {
		fallback = `a failing mirror does not fail docker pull: containerd's resolver logs the error ("trying next host") and tries the next mirror, then Docker Hub`
	}
	var c probe.Client
	switch {
	case acc.Plain:
		c = probe.Client{Source: "dockerd, which reaches the mirror " + m.URL + " in plain HTTP"}
	case ctrd:
		hub := probe.Target{Role: probe.RoleRegistry, Host: "docker.io", Port: 443}
		var err error
		c, ok, err = containerdClientIn(opts, hub, layout.DockerCertsDir)
		if !ok {
			c = probe.Client{TLS: true, SystemRoots: true, Source: path.Join(layout.DockerCertsDir, "docker.io") + " (missing: system roots only)"}
		}
		if err != nil {
			c.ConfigErr = err
		}
		c.Source += "; dockerd with the containerd image store reaches a mirror with docker.io's configuration, not the mirror's own certs.d"
		c.ContainerdStore = true
		c.MirrorCertsDir = path.Join(layout.DockerCertsDir, "docker.io")
	default:
		return nil, false // moby's classic store: as for any registry
	}
	if acc.Insecure.Insecure {
		c.Insecure, c.SkipVerify = acc.Insecure.Why, true
	}
	c.Mirror, c.MirrorFallback = m.URL, fallback
	c.LegacyErrors = sel.Moby == loader.Moby20
	return []LiveTarget{{Target: t, Client: c, Profile: ProfileDocker}}, true
}

// containerdClientFor is the client containerd builds for t, from the
// model of core/remotes/docker/config/hosts.go (pki/loader): the first of
// host_port_, host:port and _default under /etc/containerd/certs.d;
// hosts.toml decoded and validated as containerd does (a file containerd
// drops falls back to the .crt/.cert/.key files, as containerd does);
// localhost gets skip_verify. The host entry probed is the one for t (a
// mirror entry otherwise), else the default server entry.
func containerdClientFor(opts Options, t probe.Target) (probe.Client, bool, error) {
	return containerdClientIn(opts, t, layout.ContainerdCertsDir)
}

// dockerdRulesName says which rules dockerd's material was read with, and
// why, for the live result.
func dockerdRulesName(sel loader.Selection) string {
	switch sel.Rules {
	case loader.RulesContainerd:
		return "containerd's hosts loader, as dockerd with the containerd image store reads it (" + sel.Why + ")"
	case loader.RulesMoby:
		return "moby's classic certs.d loader (" + sel.Why + ")"
	}
	return "moby's classic certs.d loader (" + sel.Why + "; with the containerd image store, Docker 29's default, containerd's rules apply)"
}

// containerdClientIn is containerdClientFor on the hosts directory root
// root (/etc/containerd/certs.d, or /etc/docker/certs.d for dockerd with
// the containerd image store: moby daemon/hosts.go HostDirFromRoot).
func containerdClientIn(opts Options, t probe.Target, root string) (probe.Client, bool, error) {
	_ = opts.normalise()
	r := &runner{o: &opts}
	rh := layout.RegistryHost{Host: t.Host, Port: t.Port}
	if t.Port == 443 {
		rh.Port = 0
	}
	host := rh.String()
	tree := r.modelTree()
	dir, err := loader.ContainerdHostDir(tree, fsPath(root), host, "linux")
	if err != nil {
		return probe.Client{}, true, err
	}
	if dir == "" {
		return probe.Client{}, false, nil
	}
	v := opts.Containerd
	if v == 0 {
		v = loader.Containerd2
	}
	res := loader.ContainerdLoad(tree, dir, host, loader.ContainerdOptions{Version: v, GOOS: "linux"})
	src := r.disp(logical(dir))
	if res.Err != nil {
		return probe.Client{TLS: true, SystemRoots: true, Source: src}, true, res.Err
	}
	pick := &res.Hosts[len(res.Hosts)-1]
	for i := range res.Hosts {
		if res.Hosts[i].Host == t.HostPort() || res.Hosts[i].Host == host {
			pick = &res.Hosts[i]
			break
		}
	}
	return probe.ClientFromLoader(tree, &pick.TLS, src), true, nil
}

// containersClientFor is the client containers/image builds for t: the
// first existing of ~/.config/containers/certs.d/<host:port>,
// /etc/containers/certs.d/<host:port> and /etc/docker/certs.d/<host:port>
// wins, no merge (pki/loader ContainersHostDir), read with SetupCertificates'
// rules. When dockerd's own directory wins it is already probed.
func containersClientFor(opts Options, t probe.Target) (probe.Client, bool, error) {
	_ = opts.normalise()
	r := &runner{o: &opts}
	tree := r.modelTree()
	roots := loader.ContainersCertDirs(fsPath(r.home()))
	dir, err := loader.ContainersHostDir(tree, roots, t.HostPort())
	if err != nil {
		return probe.Client{}, true, err
	}
	if st := r.stat(logical(dir)); !st.Exists || strings.HasPrefix(logical(dir), layout.DockerCertsDir+"/") {
		return probe.Client{}, false, nil
	}
	res := loader.ContainersCertsDir(tree, dir)
	c := probe.ClientFromLoader(tree, &res.TLS, r.disp(logical(dir)))
	if res.Err != nil {
		return c, true, &probe.ConfigError{File: r.disp(logical(dir)), Err: res.Err}
	}
	return c, true, nil
}
