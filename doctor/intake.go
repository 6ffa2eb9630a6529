package doctor

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"

	dopts "github.com/docker/cli/opts"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker-tls/docker-tls/pki/loader"
)

// IntakeOptions say how the doctor's intake turns what the user typed into
// live targets.
type IntakeOptions struct {
	// Registry and Daemon force the kind of every target.
	Registry, Daemon bool
	// Rootless reads rootless dockerd's certs.d for registries.
	Rootless bool
	// Identify asks an endpoint whose kind is not known what it is (off
	// for fleets from --targets-file).
	Identify bool
	// Alternatives probes, besides the effective client setup, the setups
	// the user evidently has (TLS material, contexts for the target).
	Alternatives bool
	Probe        probe.Options

	// daemon is dockerd's configuration as read once per intake (for
	// registry-mirrors); nil reads it at each use.
	daemon *lazyDaemon
}

// lazyDaemon reads dockerd's configuration at its first use.
type lazyDaemon struct {
	once sync.Once
	d    *daemonInfo
}

func (io IntakeOptions) daemonInfo(opts Options) *daemonInfo {
	if io.daemon == nil {
		return (&runner{o: &opts}).inspectDaemon()
	}
	io.daemon.once.Do(func() { io.daemon.d = (&runner{o: &opts}).inspectDaemon() })
	return io.daemon.d
}

// Kind reasons and names.
const (
	KindDaemon    = "daemon"
	KindRegistry  = "registry"
	KindNotDocker = "not a Docker endpoint"
)

// Intake decides for each input (a target as the user typed it after a
// failure) the kind of endpoint and the client setups to probe it with,
// leading with the one the user most likely runs. It is the doctor's one
// intake: the plugin only parses flags.
func Intake(ctx context.Context, opts Options, inputs []string, io IntakeOptions) ([]LiveTarget, []catalog.TargetInfo, error) {
	if err := opts.normalise(); err != nil {
		return nil, nil, err
	}
	var live []LiveTarget
	var infos []catalog.TargetInfo
	identified := map[string]*probe.Identity{}
	io.daemon = &lazyDaemon{}
	// A fleet shares its client material: parse each distinct setup once.
	prepared := map[string]probe.Client{}
	cache := &setupCache{}
	// dockerd's registry rules and configuration, read at the first
	// registry target.
	var dockerd *struct {
		sel loader.Selection
		d   *daemonInfo
	}
	for _, in := range inputs {
		t, kind, why, err := decideKind(ctx, opts, in, io, identified)
		if err != nil {
			return nil, nil, err
		}
		info := catalog.TargetInfo{Input: in, Target: t.String(), Kind: kind, KindReason: why}
		switch kind {
		case KindNotDocker:
			info.Target = "tcp://" + t.HostPort()
		case KindRegistry:
			// dockerd's insecure registries (loopback by default,
			// insecure-registries) are RegistryTargets' to model.
			if dockerd == nil {
				sel, d := liveSelection(opts)
				dockerd = &struct {
					sel loader.Selection
					d   *daemonInfo
				}{sel, d}
			}
			live = append(live, registryTargets(opts, t, io.Rootless, dockerd.sel, dockerd.d)...)
		default:
			for _, s := range cache.daemonSetups(opts, t, io.Alternatives) {
				k := s.ep.Context + "\x00" + setupKey(s.ep)
				c, ok := prepared[k]
				if !ok {
					c = ClientFor(opts, endpointOf(s.ep))
					c.Prepare(probe.RoleDaemon)
					prepared[k] = c
				}
				live = append(live, LiveTarget{Target: t, Client: c, Setup: s.name, active: s.active, export: s.export})
			}
		}
		infos = append(infos, info)
	}
	return live, infos, nil
}

// decideKind parses in and decides daemon or registry, saying why.
// What Identify learned is kept in identified by address (a registry's
// setup depends on whether TLS answered).
func decideKind(ctx context.Context, opts Options, in string, io IntakeOptions, identified map[string]*probe.Identity) (probe.Target, string, string, error) {
	s := strings.TrimSpace(in)
	scheme, _, hasScheme := strings.Cut(s, "://")
	switch {
	case io.Registry:
		t, err := probe.ParseTarget(s, true)
		return t, KindRegistry, "--registry", err
	case io.Daemon:
		t, err := daemonTarget(s)
		return t, KindDaemon, "--daemon", err
	case hasScheme && scheme == "https":
		t, err := probe.ParseTarget(s, true)
		return t, KindRegistry, "https:// names a registry", err
	case hasScheme && scheme == "tcp":
		t, err := daemonTarget(s)
		return t, KindDaemon, "tcp:// names a daemon", err
	case hasScheme && scheme == "http":
		// Only an http:// registry mirror is a plain-HTTP registry dockerd
		// is configured with; anything else gets ParseTarget's error.
		if t, m, ok := httpMirrorTarget(opts, io.daemonInfo(opts), s); ok {
			return t, KindRegistry, mirrorReason(m), nil
		}
		t, err := probe.ParseTarget(s, false)
		return t, KindDaemon, "", err
	case hasScheme:
		t, err := probe.ParseTarget(s, false)
		return t, KindDaemon, "", err
	}
	if rt, err := probe.ParseTarget(s, true); err == nil {
		if dir := registryDir(opts, rt, io.Rootless); dir != "" {
			return rt, KindRegistry, fmt.Sprintf("a registry directory for %s exists (%s)", rt.HostPort(), (&runner{o: &opts}).disp(dir)), nil
		}
	}
	t, err := daemonTarget(s)
	if err != nil {
		return t, "", "", err
	}
	switch t.Port {
	case layout.DefaultTLSPort:
		return t, KindDaemon, "port 2376 is the Docker daemon's TLS port", nil
	case layout.DefaultPlainPort:
		why := "port 2375 is the Docker daemon's plain port"
		if !strings.Contains(strings.TrimPrefix(s, "["), ":") || strings.HasSuffix(s, "]") {
			why = "no port: docker -H " + s + " connects to port 2375"
		}
		return t, KindDaemon, why, nil
	}
	if rt, err := probe.ParseTarget(s, true); err == nil {
		if m, ok := mirrorOf(&opts, io.daemonInfo(opts), rt.HostPort()); ok {
			if m.Scheme == "http" {
				rt.PlainHTTP = true
				if _, _, err := net.SplitHostPort(m.Host); err != nil {
					rt.Port = 80
				}
			}
			return rt, KindRegistry, mirrorReason(m), nil
		}
	}
	if !io.Identify {
		return t, KindDaemon, "taken for a daemon (not asked: a fleet)", nil
	}
	id := probe.Identify(ctx, t.Host, t.Port, io.Probe)
	identified[t.Addr()] = &id
	if id.Unreached {
		// Nothing to ask: the live probe's connect outcome is the story,
		// with docker -H's line (a bare host:port is docker -H's syntax).
		t.Unasked = true
		return t, KindDaemon, id.Answer + "; nothing could be asked, so it is taken for a daemon as docker -H " + s + " takes it (pass --registry for a registry)", nil
	}
	if id.NeedsClientCert && id.Role == probe.RoleRegistry {
		rt, err := probe.ParseTarget(s, true)
		return rt, KindRegistry, id.Answer, err
	}
	if id.NeedsClientCert {
		// ALPN said nothing (dockerd pins http/1.1, and so does a registry
		// behind an HTTP/1.1-only proxy): ask again with the client
		// certificate of a setup the user has, instead of guessing.
		for _, st := range daemonSetups(opts, t, true) {
			if !st.ep.TLS || st.ep.Err != nil || !st.ep.ClientCert() {
				continue
			}
			asked := probe.IdentifyWith(ctx, t.Host, t.Port, ClientFor(opts, endpointOf(st.ep)), io.Probe)
			why := id.Answer + "; asked again with the client certificate of " + st.name + ": " + asked.Answer
			switch asked.Role {
			case probe.RoleDaemon:
				return t, KindDaemon, why, nil
			case probe.RoleRegistry:
				rt, err := probe.ParseTarget(s, true)
				return rt, KindRegistry, why, err
			}
		}
		return t, KindDaemon, id.Answer + "; no registry directory names it and no client setup of yours gets past its handshake to ask it, so the kind is guessed from ALPN: " + alpnWords(id.ALPN) + " and is taken for a daemon (a registry behind an HTTP/1.1-only proxy looks the same: pass --registry for one)", nil
	}
	switch id.Role {
	case probe.RoleDaemon:
		return t, KindDaemon, id.Answer, nil
	case probe.RoleRegistry:
		rt, err := probe.ParseTarget(s, true)
		return rt, KindRegistry, id.Answer, err
	}
	return t, KindNotDocker, id.Answer, nil
}

func alpnWords(p string) string {
	if p == "" {
		return "it picked no protocol by ALPN (dockerd picks http/1.1; HTTP/2 would mean a registry)"
	}
	return "it picked " + p + " by ALPN, as dockerd does"
}

func mirrorReason(m loader.Mirror) string {
	return "dockerd's registry-mirrors lists " + m.URL + ": a registry (a pull-through mirror of Docker Hub)"
}

// httpMirrorTarget is the registry target for http://host[:port][/path]
// when dockerd's registry-mirrors lists it (port 80 when none is given).
func httpMirrorTarget(opts Options, d *daemonInfo, s string) (probe.Target, loader.Mirror, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return probe.Target{}, loader.Mirror{}, false
	}
	m, ok := mirrorOf(&opts, d, u.Host)
	if !ok || m.Scheme != "http" {
		return probe.Target{}, loader.Mirror{}, false
	}
	port := 80
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return probe.Target{}, loader.Mirror{}, false
		}
	}
	return probe.Target{Role: probe.RoleRegistry, Host: u.Hostname(), Port: port, Input: s, PlainHTTP: true}, m, true
}

// daemonTarget parses a daemon host as docker does (-H host:port, a bare
// host on port 2375, tcp://).
func daemonTarget(s string) (probe.Target, error) {
	h, err := dopts.ParseHost(false, s)
	if err != nil {
		return probe.Target{}, fmt.Errorf("invalid target %q: %v", s, err)
	}
	if !strings.HasPrefix(h, "tcp://") {
		return probe.ParseTarget(h, false)
	}
	t, err := probe.ParseTarget(strings.TrimSuffix(h, "/"), false)
	t.Input = s
	return t, err
}

// LocalTargets are the daemon targets among inputs (as the intake parses
// them) whose host is this machine, as host:port.
func LocalTargets(inputs []string, isLocal func(host string) bool) []string {
	var out []string
	for _, in := range inputs {
		s := strings.TrimSpace(in)
		if strings.HasPrefix(s, "https://") {
			continue
		}
		t, err := daemonTarget(s)
		if err != nil || t.Host == "" || t.Port == 0 {
			continue
		}
		if isLoopback(t.Host) || isLocal != nil && isLocal(t.Host) {
			out = append(out, t.Addr())
		}
	}
	return out
}

// registryDir is the first registry directory any loader has for t
// (dockerd's certs.d, containerd's hosts directory, containers' certs.d).
func registryDir(opts Options, t probe.Target, rootless bool) string {
	r := &runner{o: &opts}
	var dirs []string
	certsd := layout.DockerCertsDir
	if rootless {
		certsd = layout.RootlessCertsDir(opts.getenv)
	}
	dirs = append(dirs, path.Join(certsd, t.HostPort()), path.Join(layout.ContainersCertsDir, t.HostPort()))
	rh := layout.RegistryHost{Host: t.Host, Port: t.Port}
	if t.Port == 443 {
		rh.Port = 0
	}
	// containerd's own probe order, without "_default", which serves every
	// host and so says nothing about this one.
	cd := loader.ContainerdHostPaths(layout.ContainerdCertsDir, rh.String(), runtime.GOOS)
	dirs = append(dirs, cd[:len(cd)-1]...)
	for _, d := range dirs {
		if fi := r.stat(d); fi.Exists && fi.Mode.IsDir() {
			return d
		}
	}
	return ""
}

// setup is one client setup for a daemon target.
type setup struct {
	name string
	ep   loader.CLIEndpoint
	// active: the user's docker, typed without flags, goes to this target
	// this way (DOCKER_HOST, the context).
	active bool
	// export is, for a --tlsverify setup, the environment that makes
	// docker typed without flags use it.
	export string
}

// daemonSetups are the client setups that apply to t: the effective one
// (the active endpoint when it is t, else docker -H t with the user's
// environment and flags) and, with alternatives, the setups the user
// evidently has: --tlsverify with the TLS material in DOCKER_CERT_PATH or
// the config dir, and each context whose endpoint is t. Setups that load
// the same material the same way are probed once.
func daemonSetups(opts Options, t probe.Target, alternatives bool) []setup {
	return (&setupCache{}).daemonSetups(opts, t, alternatives)
}

// setupCache keeps the client model's answers that do not depend on the
// target, for a fleet: the active endpoint, and `docker -H HOST` with the
// user's flags, which differs between two valid tcp:// hosts only in the
// host (the model reads the same files and builds the same TLS
// configuration; docker's parse of a host opts.ParseHost produced cannot
// fail).
type setupCache struct {
	active *loader.CLIEndpoint
	withH  *loader.CLIEndpoint
}

func (c *setupCache) resolveActive(opts Options) loader.CLIEndpoint {
	if c.active == nil {
		ep := opts.resolveCLI(opts.Flags)
		c.active = &ep
	}
	return *c.active
}

func (c *setupCache) resolveWithH(opts Options, hf ClientFlags, t probe.Target) loader.CLIEndpoint {
	if c.withH == nil {
		ep := opts.resolveCLI(hf)
		if ep.Err != nil || !strings.HasPrefix(ep.Host, "tcp://") {
			return ep
		}
		c.withH = &ep
	}
	ep := *c.withH
	ep.Host = t.String()
	return ep
}

func (c *setupCache) daemonSetups(opts Options, t probe.Target, alternatives bool) []setup {
	f := opts.Flags
	active := c.resolveActive(opts)
	var out []setup
	if sameDaemon(active.Host, t) {
		out = append(out, setup{name: describeActive(opts, active), ep: active, active: true})
	} else {
		hf := f
		hf.Host, hf.Context = t.String(), ""
		out = append(out, setup{name: commandLine(opts, hf, "docker -H "+t.String()), ep: c.resolveWithH(opts, hf, t)})
	}
	if !alternatives {
		return out
	}
	eff := out[0].ep
	if !(eff.TLS && !eff.SkipTLSVerify && eff.Err == nil) {
		tf := f
		tf.Host, tf.Context = t.String(), ""
		v := true
		tf.TLSVerify = &v
		ep := opts.resolveCLI(tf)
		if ep.Err == nil || fileExists(opts, ep.Look.CA) {
			out = append(out, setup{name: commandLine(opts, tf, "docker -H "+t.String()+" --tlsverify"), ep: ep, export: "export DOCKER_TLS_VERIFY=1"})
		}
		// Material in the config dir while DOCKER_CERT_PATH points elsewhere.
		if cfgDir := path.Clean(ep.ConfigDir); path.Clean(ep.CertPath) != cfgDir && fileExists(opts, path.Join(cfgDir, layout.ClientCAFile)) {
			cf := tf
			cf.TLSCACert, cf.TLSCert, cf.TLSKey = path.Join(cfgDir, layout.ClientCAFile), path.Join(cfgDir, layout.ClientCertFile), path.Join(cfgDir, layout.ClientKeyFile)
			out = append(out, setup{name: commandLine(opts, cf, "docker -H "+t.String()+" --tlsverify"), ep: opts.resolveCLI(cf),
				export: "export DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=" + shq(cfgDir)})
		}
	}
	for _, n := range loader.CLIContexts(opts.FS, active.ConfigDir) {
		if n == active.Context && out[0].ep.Context == n {
			continue
		}
		ep := opts.resolveCLI(ClientFlags{Context: n, Config: f.Config})
		if sameDaemon(ep.Host, t) {
			out = append(out, setup{name: "docker --context " + shq(n), ep: ep})
		}
	}
	// Probe each distinct setup once.
	var uniq []setup
	seen := map[string]bool{}
	for _, s := range out {
		k := setupKey(s.ep)
		if seen[k] {
			continue
		}
		seen[k] = true
		uniq = append(uniq, s)
	}
	return uniq
}

func setupKey(ep loader.CLIEndpoint) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%v|%v|%s|", ep.TLS, ep.SkipTLSVerify, ep.DockerLine())
	for _, x := range [][]byte{ep.CA, ep.Cert, ep.Key} {
		b.Write(x)
		b.WriteByte(0)
	}
	return b.String()
}

func fileExists(opts Options, p string) bool {
	return p != "" && (&runner{o: &opts}).stat(p).Exists
}

// sameDaemon reports whether a docker host URL names t.
func sameDaemon(host string, t probe.Target) bool {
	h, err := dopts.ParseHost(false, host)
	if err != nil || !strings.HasPrefix(h, "tcp://") {
		return false
	}
	dt, err := probe.ParseTarget(strings.TrimSuffix(h, "/"), false)
	return err == nil && strings.EqualFold(dt.Host, t.Host) && dt.Port == t.Port
}

// describeActive names the active endpoint as the user set it up, as a
// shell line.
func describeActive(opts Options, ep loader.CLIEndpoint) string {
	switch ep.ContextFrom {
	case loader.FromContextFlag:
		return commandLine(opts, opts.Flags, "docker --context "+shq(ep.Context))
	case loader.FromDockerContext:
		return "DOCKER_CONTEXT=" + shq(ep.Context) + " docker"
	case loader.FromCurrentContext:
		return fmt.Sprintf("docker (current context %s)", shq(ep.Context))
	case loader.FromHostFlag:
		return commandLine(opts, opts.Flags, "docker -H "+opts.Flags.Host)
	}
	return commandLine(opts, opts.Flags, "DOCKER_HOST="+shq(opts.getenv("DOCKER_HOST"))+" docker")
}

// commandLine writes the setup as the shell line the user runs: the TLS
// environment that applies, base, then the TLS flags.
func commandLine(opts Options, f ClientFlags, base string) string {
	var b strings.Builder
	for _, k := range []string{"DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH"} {
		if v := opts.getenv(k); v != "" {
			b.WriteString(k + "=" + shq(v) + " ")
		}
	}
	b.WriteString(base)
	if f.TLS != nil {
		fmt.Fprintf(&b, " --tls=%t", *f.TLS)
	}
	if f.TLSVerify != nil && !strings.HasSuffix(base, "--tlsverify") {
		if *f.TLSVerify {
			b.WriteString(" --tlsverify")
		} else {
			b.WriteString(" --tlsverify=false")
		}
	}
	for _, x := range []struct{ n, v string }{{"--tlscacert", f.TLSCACert}, {"--tlscert", f.TLSCert}, {"--tlskey", f.TLSKey}} {
		if x.v != "" && !strings.Contains(base, x.n) {
			b.WriteString(" " + x.n + " " + shq(x.v))
		}
	}
	return b.String()
}

// AddTargets records the intake's answers in the report; a target that is
// not a Docker endpoint is an error finding naming what answered.
func AddTargets(rep *catalog.Report, infos []catalog.TargetInfo) {
	rep.Targets = infos
	for _, ti := range infos {
		if ti.Kind != KindNotDocker {
			continue
		}
		rep.Findings = append([]catalog.Finding{{CheckID: catalog.IDTargetNotDocker, Severity: catalog.SeverityError, Subject: ti.Target,
			Message: fmt.Sprintf("%s is neither a Docker daemon nor a registry: %s", ti.Input, ti.KindReason),
			Fix:     "check the host and port; pass --daemon or --registry to probe it as one anyway"}}, rep.Findings...)
	}
	rep.Summarize()
}

// DefaultInputs is what the doctor probes without a target: the active
// endpoint when it is TCP (not with --root: the files are another
// machine's).
func DefaultInputs(opts Options) []string {
	if opts.Root != "" && path.Clean(opts.Root) != "/" {
		return nil
	}
	if err := opts.normalise(); err != nil {
		return nil
	}
	ep := opts.resolveCLI(opts.Flags)
	if ep.Err != nil || !strings.HasPrefix(ep.Host, "tcp://") {
		return nil
	}
	return []string{ep.Host}
}

// OrderSetups reorders each target's live results so that the setup the
// user most likely runs leads: one that works; else, when the endpoint
// speaks TLS, a TLS setup; else the effective one. When one setup works,
// the others' failures become info: they say what the other setup does;
// but the plain setup docker uses without flags for the active endpoint
// (DOCKER_HOST names the target) is a warning with the export that fixes it.
func OrderSetups(targets []LiveTarget, results []*probe.Result, infos []catalog.TargetInfo) ([]LiveTarget, []*probe.Result) {
	type pair struct {
		lt  LiveTarget
		res *probe.Result
	}
	var outT []LiveTarget
	var outR []*probe.Result
	for i := 0; i < len(targets); {
		j := i
		for j < len(targets) && targets[j].Target == targets[i].Target && targets[j].Setup != "" && targets[i].Setup != "" {
			j++
		}
		if j == i {
			j = i + 1
		}
		group := make([]pair, 0, j-i)
		speaksTLS := false
		for k := i; k < j; k++ {
			group = append(group, pair{targets[k], results[k]})
			if e := results[k].Evidence.SpeaksTLS; e != nil && *e || results[k].Evidence.TLSVersion != "" {
				speaksTLS = true
			}
		}
		// The effective setup leads when it speaks TLS (the user configured
		// it); otherwise one that works, else a TLS one when the endpoint
		// speaks TLS, else the effective one.
		rank := func(p pair) int {
			switch {
			case group[0].lt.Client.TLS:
				return 0
			case p.res.Outcome.OK():
				return 0
			case speaksTLS && p.lt.Client.TLS:
				return 1
			}
			return 2
		}
		for a := 1; a < len(group); a++ {
			for b := a; b > 0 && rank(group[b]) < rank(group[b-1]); b-- {
				group[b], group[b-1] = group[b-1], group[b]
			}
		}
		// The others say what they do, as info: one story per target.
		for k := range group {
			p := &group[k]
			if k == 0 || len(group) == 1 {
				continue
			}
			p.lt.informational = true
			p.res.Cause = "the other setup: " + p.res.Cause
			if group[0].res.Outcome.OK() && !p.res.Outcome.OK() {
				p.res.Fix = "nothing to do: " + group[0].lt.Setup + " works"
				if p.lt.active && !p.lt.Client.TLS && group[0].lt.export != "" {
					// The user's docker without flags goes here in plain
					// HTTP: say what makes it use the setup that works.
					p.res.Fix = "nothing to do when you type --tlsverify: " + group[0].lt.Setup + " works; for docker without flags: " + group[0].lt.export
					// That is what `docker version` as typed does, and it
					// fails: a warning, so the report's first line says
					// what to export; the setup that works keeps exit 0.
					p.lt.informational, p.lt.unflagged = false, true
					p.res.Cause = strings.TrimPrefix(p.res.Cause, "the other setup: ")
				}
			}
		}
		for _, p := range group {
			outT = append(outT, p.lt)
			outR = append(outR, p.res)
		}
		i = j
	}
	for n := range infos {
		for k, lt := range outT {
			if lt.Target.String() == infos[n].Target && lt.Setup != "" {
				infos[n].Setups = append(infos[n].Setups, catalog.SetupInfo{Name: lt.Setup, Outcome: string(outR[k].Outcome)})
			}
		}
	}
	return outT, outR
}
