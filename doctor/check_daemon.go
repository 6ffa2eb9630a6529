package doctor

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/pki/daemoncfg"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker-tls/docker-tls/pki/loader"
)

// daemonInfo is dockerd's TLS configuration as far as files tell: the
// systemd unit's ExecStart flags merged with daemon.json.
type daemonInfo struct {
	jsonPath  string
	jsonKeys  map[string]json.RawMessage
	execStart []string // effective ExecStart argv, nil when no unit
	execFrom  string   // file that set it, or "dockerd (pid N)"
	proc      *daemoncfg.Process
	flagVals  map[string][]string

	hosts      []string
	tls        *bool
	tlsVerify  *bool
	verify     bool
	tlsOn      bool
	caPath     string
	certPath   string
	keyPath    string
	registries []string

	caCerts     []*x509.Certificate
	serverChain []*x509.Certificate
	serverKey   any // public key of the server certificate
}

func (r *runner) inspectDaemon() *daemonInfo {
	d := &daemonInfo{flagVals: map[string][]string{}}
	r.readSystemd(d)
	r.readProcess(d)
	d.jsonPath = path.Join(layout.DefaultDaemonDir, layout.DaemonJSONName)
	if v := d.flagVals["config-file"]; len(v) > 0 {
		d.jsonPath = v[len(v)-1]
	}
	r.readDaemonJSON(d)
	r.daemonConflicts(d)
	r.daemonEffective(d)
	r.daemonTLSChecks(d)
	r.daemonMirrorChecks(d)
	r.daemonCertFixes(d)
	return d
}

func orUnknownVersion(v string) string {
	if v == "" {
		return "unknown: Docker 28.3+'s words"
	}
	return v
}

// daemonMirrorChecks reports a registry-mirrors entry (daemon.json) or
// --registry-mirror flag that dockerd refuses, with dockerd's own error
// (pki/loader ValidateMirror, for the daemon's version when known).
func (r *runner) daemonMirrorChecks(d *daemonInfo) {
	for _, src := range []struct {
		entries []string
		subject string
		line    func(e string) string
	}{
		{d.jsonStrings("registry-mirrors"), r.disp(d.jsonPath), func(string) string {
			if maj := MajorVersion(r.o.Dockerd.Version); maj > 0 && maj < 28 {
				return "" // checked when the daemon starts (20.10); wording around it not checked
			}
			return "unable to configure the Docker daemon with file " + d.jsonPath + ": merged configuration validation from file and command line flags failed: "
		}},
		{d.flagVals["registry-mirror"], r.disp(d.execFrom), func(e string) string { return "invalid argument \"" + e + "\" for \"--registry-mirror\" flag: " }},
	} {
		for _, e := range src.entries {
			if _, err := loader.ValidateMirror(r.o.Dockerd.Version, e); err != nil {
				suggest := "https://HOST[:PORT]"
				if !strings.Contains(e, "://") && e != "" {
					suggest = "https://" + e
				}
				r.add(catalog.IDDaemonMirrorInvalid, src.subject,
					fmt.Sprintf("dockerd refuses the registry mirror %q and does not start: %s%v", e, src.line(e), err),
					fmt.Sprintf("write it as %s (http:// for a plain-HTTP mirror) in %s, then restart dockerd", suggest, src.subject),
					map[string]string{"mirror": e, "dockerdVersion": orUnknownVersion(r.o.Dockerd.Version)})
			}
		}
	}
}

// daemonCertFixes makes the fixes of findings about the daemon's own
// certificate the command that re-issues it: same CA (its files when
// found), every SAN, written where dockerd reads it.
func (r *runner) daemonCertFixes(d *daemonInfo) {
	if d.certPath == "" || len(d.serverChain) == 0 {
		return
	}
	reissue := map[string]bool{catalog.IDCertExpired: true, catalog.IDCertExpiring: true, catalog.IDCertNotYetValid: true, catalog.IDEKUServerMissing: true, catalog.IDCertCNOnly: true}
	fix := printable(r.reissueServer(d))
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.findings {
		if f := &r.findings[i]; reissue[f.CheckID] && f.Path() == d.certPath {
			f.Fix = fix
		}
	}
}

// readSystemd reads docker.service and its drop-ins through the doctor's
// reader and takes the effective ExecStart from daemoncfg's systemd model,
// the one install daemon uses.
func (r *runner) readSystemd(d *daemonInfo) {
	files := daemoncfg.FindUnitFiles(unitFS{r})
	for i, f := range files {
		kind := "systemd drop-in"
		if i == 0 && path.Base(f.Name) == daemoncfg.ServiceName {
			kind = "systemd unit"
		}
		if f.Err != nil {
			r.source(catalog.Source{Kind: kind, Path: r.disp(f.Name), Status: catalog.StatusUnreadable, Detail: f.Err.Error()})
			continue
		}
		r.source(catalog.Source{Kind: kind, Path: r.disp(f.Name), Status: catalog.StatusFound})
	}
	exec, ok := daemoncfg.EffectiveExecStart(files)
	if !ok {
		return
	}
	d.execStart = exec.Args
	d.execFrom = exec.Source
	d.flagVals = daemoncfg.DockerdFlags(d.execStart)
}

// readProcess takes the running dockerd's own command line over the
// unit's: flags given by hand, a unit the doctor cannot see, or a unit
// edited since the start all make the unit say something else than what
// runs. The process picked is the one listening on a local target's port;
// without local targets, the only dockerd, or the one on the default
// socket.
func (r *runner) readProcess(d *daemonInfo) {
	p := pickDockerd(r.o.Dockerds, r.o.LocalTargets)
	if p == nil {
		return
	}
	d.proc = p
	d.execStart = p.Argv
	d.execFrom = fmt.Sprintf("the running dockerd (pid %d)", p.PID)
	d.flagVals = daemoncfg.DockerdFlags(p.Argv)
	r.source(catalog.Source{Kind: "running dockerd", Path: fmt.Sprintf("/proc/%d/cmdline", p.PID), Status: catalog.StatusFound,
		Detail: daemoncfg.JoinCommand(p.Argv)})
}

// pickDockerd chooses the dockerd the targets reach.
func pickDockerd(procs []daemoncfg.Process, targets []string) *daemoncfg.Process {
	if len(procs) == 0 {
		return nil
	}
	if len(targets) > 0 {
		for i := range procs {
			for _, h := range daemoncfg.DockerdFlags(procs[i].Argv)[daemoncfg.KeyHosts] {
				if !isTCPHost(h) {
					continue
				}
				for _, t := range targets {
					if listensOn(h, t) {
						return &procs[i]
					}
				}
			}
		}
		// A dockerd whose hosts come from its daemon.json: the only one.
		if len(procs) == 1 && len(daemoncfg.DockerdFlags(procs[0].Argv)[daemoncfg.KeyHosts]) == 0 {
			return &procs[0]
		}
		return nil
	}
	if len(procs) == 1 {
		return &procs[0]
	}
	for i := range procs {
		hosts := daemoncfg.DockerdFlags(procs[i].Argv)[daemoncfg.KeyHosts]
		if len(hosts) == 0 {
			return &procs[i]
		}
		for _, h := range hosts {
			if h == "fd://" || h == layout.DefaultUnixHost {
				return &procs[i]
			}
		}
	}
	return nil
}

// listensOn reports whether listener h (tcp://ADDR:PORT) accepts
// connections to target t (host:port of this machine).
func listensOn(h, t string) bool {
	th, tp, err := net.SplitHostPort(t)
	if err != nil {
		return false
	}
	u, err := url.Parse(h)
	if err != nil {
		return false
	}
	if u.Port() != tp {
		return false
	}
	lh := u.Hostname()
	return isWildcard(lh) || strings.EqualFold(lh, th) || isLoopback(lh) && isLoopback(th)
}

// unitFS reads unit files through the doctor's reader: a file that exists
// but is not read (special file, too large, permission) is an error
// carrying the reader's reason.
type unitFS struct{ r *runner }

func (u unitFS) ReadFile(p string) ([]byte, error) {
	fi, data := u.r.readFile(p)
	switch {
	case !fi.Exists:
		return nil, fs.ErrNotExist
	case fi.Problem != "":
		return nil, errors.New(fi.Problem)
	}
	return data, nil
}

func (u unitFS) ReadDir(p string) ([]fs.DirEntry, error) { return u.r.readDir(p) }

func (r *runner) readDaemonJSON(d *daemonInfo) {
	fi, data := r.readFile(d.jsonPath)
	switch {
	case !fi.Exists:
		r.source(catalog.Source{Kind: "daemon config", Path: r.disp(d.jsonPath), Status: catalog.StatusMissing})
		return
	case fi.Problem != "":
		r.source(catalog.Source{Kind: "daemon config", Path: r.disp(d.jsonPath), Status: catalog.StatusUnreadable, Detail: fi.Problem})
		return
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		r.source(catalog.Source{Kind: "daemon config", Path: r.disp(d.jsonPath), Status: catalog.StatusUnreadable, Detail: "invalid JSON"})
		r.add(catalog.IDDaemonJSONInvalid, r.disp(d.jsonPath),
			fmt.Sprintf("%s is not valid JSON (%s): dockerd refuses to start with \"unable to configure the Docker daemon with file %s: %s\"", r.disp(d.jsonPath), jsonErrWhere(data, err), d.jsonPath, err.Error()),
			fmt.Sprintf("python3 -m json.tool %s shows where the syntax breaks; fix it, then systemctl restart docker", r.q(d.jsonPath)), nil)
		return
	}
	d.jsonKeys = keys
	r.source(catalog.Source{Kind: "daemon config", Path: r.disp(d.jsonPath), Status: catalog.StatusFound})
}

func jsonErrWhere(data []byte, err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		line := 1 + strings.Count(string(data[:min(int(se.Offset), len(data))]), "\n")
		return "line " + strconv.Itoa(line)
	}
	return "structure"
}

func (d *daemonInfo) jsonStrings(key string) []string {
	raw, ok := d.jsonKeys[key]
	if !ok {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return []string{strconv.FormatBool(b)}
	}
	return []string{strings.TrimSpace(string(raw))}
}

func (r *runner) daemonConflicts(d *daemonInfo) {
	if d.jsonKeys == nil || len(d.execStart) == 0 {
		return
	}
	var parts []string
	var conflicting []string
	ev := map[string]string{}
	for _, dd := range daemoncfg.Directives {
		fv, inFlags := d.flagVals[dd.Key]
		if _, inFile := d.jsonKeys[dd.Key]; !inFile || !inFlags {
			continue
		}
		fileVals := d.jsonStrings(dd.Key)
		parts = append(parts, fmt.Sprintf("%s: (from flag: [%s], from file: [%s])", dd.Key, strings.Join(fv, " "), strings.Join(fileVals, " ")))
		conflicting = append(conflicting, dd.Key)
		ev["flag:"+dd.Key] = strings.Join(fv, " ")
		ev["file:"+dd.Key] = strings.Join(fileVals, " ")
	}
	if len(parts) == 0 {
		return
	}
	ev["execStart"] = strings.Join(d.execStart, " ")
	ev["unit"] = r.disp(d.execFrom)
	fix := fmt.Sprintf("mkdir -p %s && printf %s > %s && systemctl daemon-reload && systemctl restart docker",
		r.q(daemoncfg.DropInDir), daemoncfg.PrintfFormat(daemoncfg.DropIn(d.execStart, conflicting)), r.q(daemoncfg.DropInPath))
	r.add(catalog.IDDaemonHostsConflict, r.disp(d.jsonPath),
		fmt.Sprintf("dockerd refuses to start: \"unable to configure the Docker daemon with file %s: the following directives are specified both as a flag and in the configuration file: %s\" (flags from ExecStart in %s)",
			d.jsonPath, strings.Join(parts, ", "), r.disp(d.execFrom)),
		fix, ev)
}

func parseBool(s string) *bool {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return nil
	}
	return &b
}

// daemonEffective merges flags over daemon.json (when both are given,
// dockerd refuses to start; that is reported by daemonConflicts).
func (r *runner) daemonEffective(d *daemonInfo) {
	get := func(key string) []string {
		if v, ok := d.flagVals[key]; ok {
			return v
		}
		return d.jsonStrings(key)
	}
	d.hosts = get("hosts")
	if v := get("tls"); len(v) > 0 {
		d.tls = parseBool(v[len(v)-1])
	}
	if v := get("tlsverify"); len(v) > 0 {
		d.tlsVerify = parseBool(v[len(v)-1])
	}
	last := func(key string) string {
		if v := get(key); len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	d.caPath, d.certPath, d.keyPath = last("tlscacert"), last("tlscert"), last("tlskey")
	switch {
	case d.tlsVerify != nil:
		d.verify = *d.tlsVerify
	case d.tls != nil:
		d.verify = *d.tls // dockerd: --tls without --tlsverify implies verification
	case d.proc != nil && d.proc.TLSVerifyFromEnv():
		v := true // DOCKER_TLS_VERIFY in dockerd's environment
		d.tlsVerify, d.verify = &v, true
	}
	d.tlsOn = d.verify || (d.tls != nil && *d.tls)
	for _, key := range []string{"registry-mirrors", "insecure-registries"} {
		for _, v := range d.jsonStrings(key) {
			if h := registryFromURL(v); h != "" {
				d.registries = append(d.registries, h)
			}
		}
	}
}

// registryFromURL turns a mirror URL or insecure-registry entry into host[:port].
func registryFromURL(v string) string {
	if strings.Contains(v, "/") && !strings.Contains(v, "://") {
		return "" // a CIDR
	}
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil {
			return ""
		}
		return u.Host
	}
	return v
}

func isTCPHost(h string) bool {
	l := strings.ToLower(h)
	if strings.HasPrefix(l, "tcp://") {
		return true
	}
	return !strings.Contains(l, "://") && !strings.HasPrefix(l, "/") && strings.Contains(l, ":")
}

// listenNames are the specific host names/IPs dockerd listens on over TCP.
func (d *daemonInfo) listenNames() map[string]bool {
	out := map[string]bool{}
	for _, h := range d.hosts {
		if !isTCPHost(h) {
			continue
		}
		if n := hostName(h); n != "" {
			out[strings.ToLower(n)] = true
		}
	}
	return out
}

func isWildcard(h string) bool {
	if h == "" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsUnspecified()
}

func (r *runner) daemonTLSChecks(d *daemonInfo) {
	subject := r.disp(d.jsonPath)
	if _, ok := d.jsonKeys["hosts"]; !ok && len(d.flagVals["hosts"]) > 0 {
		subject = r.disp(d.execFrom)
	}
	for _, h := range d.hosts {
		if err := daemoncfg.CheckHost(h); err != nil {
			r.add(catalog.IDDaemonHostInvalid, subject,
				fmt.Sprintf("dockerd cannot listen on %q: %v; it fails to start (\"failed to load listeners\")", h, err),
				fmt.Sprintf("correct %q in %s (for example tcp://0.0.0.0:2376), then systemctl restart docker", h, subject),
				map[string]string{"host": h})
		}
	}
	var tcp []string
	for _, h := range d.hosts {
		if isTCPHost(h) {
			tcp = append(tcp, h)
		}
	}
	if len(tcp) > 0 && !d.verify {
		how := "without TLS"
		if d.tlsOn {
			how = "with TLS but tlsverify false (no client certificates)"
		}
		r.add(catalog.IDDaemonTCPWithoutVerify, subject,
			fmt.Sprintf("dockerd listens on %s %s: anyone who reaches the port has root on this machine (\"Binding to IP address without --tlsverify is insecure\")", strings.Join(tcp, ", "), how),
			"docker tls install daemon (writes tlsverify, tlscacert, tlscert and tlskey to daemon.json), then systemctl restart docker",
			map[string]string{"hosts": strings.Join(tcp, " ")})
	}
	if d.tls != nil && *d.tls && d.tlsVerify == nil {
		r.add(catalog.IDDaemonTLSImpliesVerify, r.disp(d.jsonPath),
			"\"tls\": true without \"tlsverify\": dockerd still requires client certificates signed by tlscacert, unlike the docker CLI's --tls",
			fmt.Sprintf("add \"tlsverify\": true (client certificates required) or \"tlsverify\": false (TLS only) to %s, then systemctl restart docker", r.disp(d.jsonPath)), nil)
	}
	explicit := d.caPath != "" || d.certPath != "" || d.keyPath != ""
	if !d.tlsOn && !explicit {
		return
	}
	defDir := path.Join(layout.RootHome, layout.ConfigDirName)
	if d.proc != nil {
		defDir = d.proc.CertDir(layout.RootHome)
	}
	if d.caPath == "" {
		d.caPath = path.Join(defDir, layout.ClientCAFile)
	}
	if d.certPath == "" {
		d.certPath = path.Join(defDir, layout.ClientCertFile)
	}
	if d.keyPath == "" {
		d.keyPath = path.Join(defDir, layout.ClientKeyFile)
	}
	certF, keyF := r.load(d.certPath), r.load(d.keyPath)
	for _, t := range []*tlsFile{certF, keyF} {
		if !t.fi.Exists {
			r.add(catalog.IDTLSFileMissing, r.disp(t.fi.Path),
				fmt.Sprintf("the daemon's TLS %s %s does not exist: dockerd fails with \"could not load X509 key pair (cert: %q, key: %q): open %s: no such file or directory\"",
					map[bool]string{true: "certificate", false: "key"}[t == certF], r.disp(t.fi.Path), d.certPath, d.keyPath, t.fi.Path),
				fmt.Sprintf("install the daemon certificate and key (docker tls install daemon), or correct tlscert/tlskey in %s", r.disp(d.jsonPath)), nil)
		}
	}
	if certF.fi.Exists && keyF.fi.Exists {
		d.serverChain, _ = r.pairFiles(certF, keyF, useServer)
	} else if certF.fi.Exists {
		if d.serverChain = r.certFile(certF, useServer.String()); len(d.serverChain) > 0 {
			r.certChecks(d.serverChain[0], d.certPath, useServer)
		}
	}
	if len(d.serverChain) > 0 {
		d.serverKey = d.serverChain[0].PublicKey
		r.daemonListenHosts(d)
	}
	if d.verify {
		caF := r.load(d.caPath)
		if !caF.fi.Exists {
			r.add(catalog.IDTLSFileMissing, r.disp(d.caPath),
				fmt.Sprintf("the daemon's tlscacert %s does not exist: dockerd fails with \"Could not read CA certificate %q: open %s: no such file or directory\"", r.disp(d.caPath), d.caPath, d.caPath),
				fmt.Sprintf("install the CA certificate (docker tls install daemon), or correct tlscacert in %s", r.disp(d.jsonPath)), nil)
		} else {
			d.caCerts = r.caFile(caF)
		}
	}
}

// daemonListenHosts checks that each specific TCP listen address is covered
// by the daemon's certificate: clients connect with that name.
func (r *runner) daemonListenHosts(d *daemonInfo) {
	leaf := d.serverChain[0]
	// The targets on this machine that reach this dockerd: clients
	// connect with exactly the name typed.
	if d.proc != nil {
		for _, t := range r.o.LocalTargets {
			th, _, _ := net.SplitHostPort(t)
			for _, h := range d.hosts {
				if !isTCPHost(h) || !listensOn(h, t) {
					continue
				}
				if strings.EqualFold(hostName(h), th) {
					break // the listener's own check below names it
				}
				if err := leaf.VerifyHostname(th); err != nil {
					r.add(catalog.IDHostNotInSANs, "tcp://"+t,
						fmt.Sprintf("tcp://%s reaches %s (listening on %s) but its certificate %s does not cover %q: docker fails with %q", t, d.execFrom, h, r.disp(d.certPath), th, "tls: failed to verify certificate: "+err.Error()),
						fmt.Sprintf("%s; or connect with a name it covers (%s)", r.reissueServer(d, th), joinOr(sanList(leaf), "none")),
						map[string]string{"host": th, "sans": joinOr(sanList(leaf), "none")})
				}
				break
			}
		}
	}
	who := "dockerd"
	if d.proc != nil {
		who = d.execFrom
	}
	for _, h := range d.hosts {
		if !isTCPHost(h) {
			continue
		}
		n := hostName(h)
		if isWildcard(n) {
			continue
		}
		if err := leaf.VerifyHostname(n); err != nil {
			r.add(catalog.IDHostNotInSANs, h,
				fmt.Sprintf("%s listens on %s but its certificate %s does not cover %q: clients connecting there fail with %q", who, h, r.disp(d.certPath), n, err.Error()),
				r.reissueServer(d, n),
				map[string]string{"host": n, "sans": joinOr(sanList(leaf), "none")})
		}
	}
}
