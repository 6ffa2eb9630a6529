package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/daemoncfg"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
)

// Files of a local CA rotation under way, in the CA's directory: the new CA
// (ca-next.pem, ca-next-key.pem, as for provisioned daemons), the old CA's
// certificate (the old key is never needed: nothing is signed with it) and
// the last step completed.
const (
	prevCAFile   = "ca-prev.pem"
	caStepFile   = "ca-rotation-step"
	defaultRstrt = "systemctl restart docker"
)

// localTrust is a CA bundle a local party trusts: a daemon's tlscacert or a
// client's ca.pem (a file, or a docker context's).
type localTrust struct {
	path    string // file; "" for a context
	context string
	data    []byte
	what    string
	daemon  bool
}

func (t localTrust) label() string {
	if t.context != "" {
		return fmt.Sprintf("docker context %q ca.pem", t.context)
	}
	return t.path
}

// localPair is a certificate with its key that the rotation re-issues.
type localPair struct {
	certPath, keyPath string // files; "" for a context
	context           string
	cert              *x509.Certificate
	what              string
	daemon            bool
}

func (p localPair) label() string {
	if p.context != "" {
		return fmt.Sprintf("docker context %q cert.pem", p.context)
	}
	return p.certPath
}

// localDaemon is the dockerd configured by daemon.json on this machine.
type localDaemon struct {
	jsonPath string
	addr     string // host:port clients of this machine reach it on
	verify   bool
}

type localRotation struct {
	dir                string
	old, next          *pki.CA
	prevPath, nextCert string
	nextKey, stepPath  string
	done               int // steps completed by an earlier run
	resumed            bool
	daemon             *localDaemon
	trusts             []localTrust
	pairs              []localPair
	contexts           []string
	notes              []string
	restart            string
	wait               time.Duration
	days               int
	dryRun             bool
	w, errw            io.Writer
	dockerCli          command.Cli
}

// rotateLocalCA rotates the CA of DIR for the material of this machine: the
// certificates in DIR, the local dockerd (daemon.json), ~/.docker,
// $DOCKER_CERT_PATH and docker contexts.
func rotateLocalCA(ctx context.Context, dockerCli command.Cli, o *rotateOptions) error {
	dir := o.dir
	if dir == "" {
		dir = ownDir()
	}
	r := &localRotation{
		dir: dir, w: dockerCli.Out(), errw: dockerCli.Err(), dockerCli: dockerCli, days: o.days, dryRun: o.dryRun,
		prevPath: filepath.Join(dir, prevCAFile), nextCert: filepath.Join(dir, nextCAFile), nextKey: filepath.Join(dir, nextCAKeyFile),
		stepPath: filepath.Join(dir, caStepFile), restart: o.restartCmd, wait: o.wait,
	}
	if r.restart == "" {
		r.restart = defaultRstrt
	}
	if r.wait <= 0 {
		return inputError("invalid --wait %s: expected a positive duration such as 60s", r.wait)
	}
	if err := refuseSudoConfig(os.Getenv, os.Geteuid(), user.Lookup); err != nil {
		return err
	}
	unlock, err := lockHost("local", "docker tls rotate --ca --dir "+dir)
	if err != nil {
		return err
	}
	defer unlock()
	if err := r.loadCAs(); err != nil {
		return err
	}
	if err := r.refuseProvisioned(); err != nil {
		return err
	}
	if err := r.discover(o.daemonJSON); err != nil {
		return err
	}
	r.printPlan()
	if o.dryRun {
		fmt.Fprintf(r.w, "Dry run: nothing was changed. Plan of step %d/3:\n", min(r.done+1, 3))
		return r.step(ctx, r.done+1)
	}
	if r.next == nil {
		return errors.New("internal: no new CA")
	}
	for n := r.done + 1; n <= 3; n++ {
		if err := r.step(ctx, n); err != nil {
			//lint:ignore ST1005 printed to the user as it is: sentences, ending with the next step
			return notDone(fmt.Errorf("step %d/3 failed: %w\nThe CA rotation stopped here; everything still trusts the CAs of the previous step. Fix the problem and run the same command again: it resumes at step %d with the same new CA (%s).", n, err, n, r.nextCert))
		}
	}
	fmt.Fprintf(r.w, "\nThe CA rotation is complete: %s is the new CA (the old one is kept as a backup).\n", filepath.Join(dir, layout.DaemonCAFile))
	return nil
}

// refuseSudoConfig: run through sudo, docker's configuration is root's, so
// the user's contexts and ~/.docker would be left trusting only the old CA
// and stop working at step 3. Their configuration must be named.
func refuseSudoConfig(getenv func(string) string, euid int, lookup func(string) (*user.User, error)) error {
	name := getenv("SUDO_USER")
	if name == "" || name == "root" || euid != 0 || getenv("DOCKER_CONFIG") != "" {
		return nil
	}
	u, err := lookup(name)
	if err != nil {
		return nil
	}
	theirs := filepath.Join(u.HomeDir, ".docker")
	if filepath.Clean(theirs) == filepath.Clean(configDir()) {
		return nil
	}
	if _, err := os.Stat(theirs); err != nil {
		return nil
	}
	return inputError("running through sudo, docker's configuration is %s (root's), not %s's %s: their docker contexts and ~/.docker would keep trusting only the old CA and stop working at step 3.\n"+
		"Name the configuration to rotate: sudo env DOCKER_CONFIG=%s docker tls rotate --ca … (replaced files keep their owner), or DOCKER_CONFIG=%s for root's own",
		configDir(), name, theirs, theirs, configDir())
}

// loadCAs loads the old CA (from ca-prev.pem when resuming) and the new
// one (created unless a rotation is under way or the user placed one).
func (r *localRotation) loadCAs() error {
	caPath, keyPath := filepath.Join(r.dir, layout.DaemonCAFile), filepath.Join(r.dir, layout.CAKeyFile)
	if data, err := fsutil.ReadFile(r.stepPath); err == nil {
		r.done, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		r.done = max(0, min(r.done, 2))
	}
	nextExists := false
	if _, err := os.Stat(r.nextCert); err == nil {
		nextExists = true
		ca, _, _, err := (&caFlags{cert: r.nextCert, key: r.nextKey}).load()
		if err != nil {
			return err
		}
		r.next = ca
	}
	oldPath := caPath
	if _, err := os.Stat(r.prevPath); err == nil && nextExists {
		oldPath = r.prevPath
		r.resumed = true
	}
	data, err := readCert(oldPath, "CA certificate to rotate")
	if err != nil {
		if _, serr := os.Stat(oldPath); errors.Is(serr, fs.ErrNotExist) {
			return inputError("no CA found at %s: --ca --dir DIR rotates the CA in DIR (ca.pem with ca-key.pem, as 'docker tls ca create --out DIR' writes them)", caPath)
		}
		return err
	}
	certs, _ := pki.ParseCertificates(oldPath, data)
	r.old = &pki.CA{Cert: certs[0]}
	if !r.old.Cert.IsCA {
		return inputError("%s: found a certificate for %q that is not a CA (no basicConstraints CA:TRUE), expected the CA to rotate", oldPath, r.old.Cert.Subject.CommonName)
	}
	if r.next != nil && r.next.Cert.Equal(r.old.Cert) {
		return inputError("%s is the CA of %s already: there is nothing to rotate to; remove %s and %s to start a new rotation", r.nextCert, caPath, r.nextCert, r.nextKey)
	}
	if r.next == nil {
		if _, err := os.Stat(keyPath); errors.Is(err, fs.ErrNotExist) {
			return inputError("%s: docker-tls has no private key for the CA %q (no %s): it was not created by docker-tls, and the new CA cannot come from it.\n"+
				"To rotate it, put the new CA's certificate and key at %s and %s (your own new CA, or one made with 'docker tls ca create --out DIR'), then run 'docker tls rotate --ca --dir %s' again; the old CA's key is not needed",
				caPath, r.old.Cert.Subject.CommonName, keyPath, r.nextCert, r.nextKey, r.dir)
		}
		// The old key must be readable and match, so that a wrong
		// directory is not rotated.
		if _, _, _, err := (&caFlags{cert: caPath, key: keyPath}).load(); err != nil {
			return err
		}
	}
	if r.dryRun && r.next == nil {
		// A stand-in for the new CA (not kept), so that the plan shows the
		// bundles step 1 writes.
		iss, err := pki.NewCA(pki.Request{KeyType: keyTypeOf(r.old.Cert.PublicKey), Days: pki.DefaultCADays})
		if err != nil {
			return err
		}
		r.next = &pki.CA{Cert: iss.Cert, Key: iss.Key}
		return nil
	}
	var plan fsutil.Plan
	if r.next == nil {
		iss, err := pki.NewCA(pki.Request{KeyType: keyTypeOf(r.old.Cert.PublicKey), Days: pki.DefaultCADays})
		if err != nil {
			return err
		}
		keyPEM, err := iss.KeyPEM()
		if err != nil {
			return err
		}
		r.next = &pki.CA{Cert: iss.Cert, Key: iss.Key}
		plan.Add(r.nextCert, iss.CertPEM(), 0o644, "next CA certificate")
		plan.Add(r.nextKey, keyPEM, 0o600, "next CA private key")
	}
	if !r.resumed && !r.dryRun {
		plan.Add(r.prevPath, pki.EncodeCert(r.old.Cert), 0o644, "CA being retired")
		r.done = 0
	}
	if len(plan.Files) > 0 {
		if _, err := plan.Apply(true); err != nil {
			return err
		}
	}
	return nil
}

// refuseProvisioned: daemons provisioned over ssh with this CA need their
// own rotation (docker tls rotate --ca), which runs the same steps there.
func (r *localRotation) refuseProvisioned() error {
	recs, err := loadProvisionRecords()
	if err != nil {
		return err
	}
	var names []string
	for _, rec := range recs {
		ca, _, err := recordCA(rec)
		if err == nil && (ca.Cert.Equal(r.old.Cert) || ca.Cert.Equal(r.next.Cert)) {
			names = append(names, rec.Context)
		}
	}
	if len(names) > 0 {
		return inputError("the CA in %s also signs the daemons provisioned as %s: they must move with it, over ssh; run 'docker tls rotate --ca' for them (this local rotation would leave them trusting only the old CA)", r.dir, strings.Join(names, ", "))
	}
	return nil
}

// holds reports whether a bundle holds c.
func holds(bundle []byte, c *x509.Certificate) bool {
	cs, err := pki.ParseCertificates("bundle", bundle)
	return err == nil && slices.ContainsFunc(cs, c.Equal)
}

// signedBy reports whether cert (PEM, first certificate) was signed by ca.
func signedBy(certPEM []byte, ca *x509.Certificate) (*x509.Certificate, bool) {
	cs, err := pki.ParseCertificates("certificate", certPEM)
	if err != nil || len(cs) == 0 {
		return nil, false
	}
	return cs[0], cs[0].CheckSignatureFrom(ca) == nil
}

// involved: material trusting or signed by the old or the new CA.
func (r *localRotation) involved(c *x509.Certificate, ok bool) bool {
	return c != nil && (ok || c.CheckSignatureFrom(r.next.Cert) == nil)
}

// discover finds the local material of the old CA.
func (r *localRotation) discover(daemonJSON string) error {
	seen := map[string]bool{}
	addTrust := func(t localTrust) {
		key := "trust\x00" + t.path + "\x00" + t.context
		if seen[key] || !(holds(t.data, r.old.Cert) || holds(t.data, r.next.Cert)) {
			return
		}
		seen[key] = true
		r.trusts = append(r.trusts, t)
	}
	addPair := func(p localPair, certPEM []byte) {
		key := "pair\x00" + p.certPath + "\x00" + p.context
		if seen[key] {
			return
		}
		c, ok := signedBy(certPEM, r.old.Cert)
		if c == nil {
			return
		}
		seen[key] = true
		if !r.involved(c, ok) {
			issuer := c.Issuer.CommonName
			r.notes = append(r.notes, fmt.Sprintf("keep %s (%q): it is signed by %q, not by the CA being rotated, and docker-tls has no key for %q: it keeps working as long as what it talks to trusts %q; to move it, have %q re-issue it",
				p.label(), c.Subject.CommonName, issuer, issuer, issuer, issuer))
			return
		}
		p.cert = c
		r.pairs = append(r.pairs, p)
	}
	readFile := func(p string) []byte {
		data, err := fsutil.ReadFile(p)
		if err != nil {
			return nil
		}
		return data
	}

	// The local daemon.
	if daemonJSON == "" {
		daemonJSON = filepath.Join(layout.DefaultDaemonDir, layout.DaemonJSONName)
	}
	if data, err := fsutil.ReadFile(daemonJSON); err == nil {
		cfg, err := daemoncfg.Parse(daemonJSON, data)
		if err != nil {
			return asInputError(err)
		}
		s, err := cfg.TLS()
		if err != nil {
			return inputError("%s: %v", daemonJSON, err)
		}
		d := &localDaemon{jsonPath: daemonJSON, verify: s.TLSVerify == nil || *s.TLSVerify}
		before := len(r.trusts) + len(r.pairs)
		if s.CACert != "" && d.verify {
			addTrust(localTrust{path: s.CACert, data: readFile(s.CACert), what: "daemon's CA for client certificates (tlscacert of " + daemonJSON + ")", daemon: true})
		}
		if s.Cert != "" && s.Key != "" {
			addPair(localPair{certPath: s.Cert, keyPath: s.Key, what: "daemon certificate (tlscert of " + daemonJSON + ")", daemon: true}, readFile(s.Cert))
		}
		if len(r.trusts)+len(r.pairs) > before {
			d.addr = daemonAddr(s.Hosts)
			if d.addr == "" {
				return inputError("%s: no tcp:// address in hosts: docker-tls cannot check that dockerd comes back after the restart", daemonJSON)
			}
			r.daemon = d
			for i := range r.trusts {
				r.trusts[i].daemon = r.trusts[i].daemon || r.trusts[i].path == s.CACert
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return inputError("%s: cannot read daemon.json: %v", daemonJSON, err)
	} else {
		r.notes = append(r.notes, fmt.Sprintf("no local dockerd configured (%s does not exist; --daemon-json names another)", daemonJSON))
	}

	// Directories of files: DIR, ~/.docker, $DOCKER_CERT_PATH.
	dirs := []string{r.dir, configDir()}
	if p := os.Getenv("DOCKER_CERT_PATH"); p != "" {
		dirs = append(dirs, p)
	}
	for _, d := range dirs {
		d = filepath.Clean(d)
		// A directory with a client pair is a cert path: its ca.pem is what
		// the client trusts (in DIR, the CA itself as well).
		if _, err := os.Stat(filepath.Join(d, layout.ClientCertFile)); err == nil {
			caFile := filepath.Join(d, layout.ClientCAFile)
			addTrust(localTrust{path: caFile, data: readFile(caFile), what: "CA the client trusts (" + d + ")"})
		}
		addPair(localPair{certPath: filepath.Join(d, layout.ClientCertFile), keyPath: filepath.Join(d, layout.ClientKeyFile), what: "client certificate"}, readFile(filepath.Join(d, layout.ClientCertFile)))
		if d == r.dir {
			addPair(localPair{certPath: filepath.Join(d, layout.DaemonCertFile), keyPath: filepath.Join(d, layout.DaemonKeyFile), what: "daemon certificate"}, readFile(filepath.Join(d, layout.DaemonCertFile)))
			named, _ := filepath.Glob(filepath.Join(d, "*-cert.pem"))
			for _, p := range named {
				base := filepath.Base(p)
				if base == layout.DaemonCertFile || strings.HasPrefix(base, "ca") {
					continue
				}
				addPair(localPair{certPath: p, keyPath: filepath.Join(d, strings.TrimSuffix(base, "-cert.pem")+"-key.pem"), what: "client certificate"}, readFile(p))
			}
		}
	}

	// Docker contexts (not the provisioned ones: refused above when they
	// share the CA).
	s := r.dockerCli.ContextStore()
	list, err := s.List()
	if err != nil {
		return fmt.Errorf("listing docker contexts: %w", err)
	}
	for _, m := range list {
		ca, _ := s.GetTLSData(m.Name, docker.DockerEndpoint, layout.ClientCAFile)
		cert, _ := s.GetTLSData(m.Name, docker.DockerEndpoint, layout.ClientCertFile)
		before := len(r.trusts) + len(r.pairs)
		if ca != nil {
			addTrust(localTrust{context: m.Name, data: ca, what: "CA the context trusts"})
		}
		if cert != nil {
			addPair(localPair{context: m.Name, what: "client certificate of the context"}, cert)
		}
		if len(r.trusts)+len(r.pairs) > before {
			r.contexts = append(r.contexts, m.Name)
			// A context of another daemon: that daemon must trust the
			// new CA before step 2, or the context stops working there.
			if ep, ok := m.Endpoints[docker.DockerEndpoint].(docker.EndpointMeta); ok && (r.daemon == nil || !sameDaemon(ep.Host, r.daemon.addr)) {
				r.notes = append(r.notes, fmt.Sprintf("docker context %q talks to %s, not to the local dockerd: that daemon must trust the new CA (%s) before step 2, which re-issues the context's certificate; each step checks 'docker --context %s version'",
					m.Name, ep.Host, r.nextCert, m.Name))
			}
		}
	}
	if len(r.trusts)+len(r.pairs) == 0 {
		return inputError("nothing on this machine trusts or holds a certificate of the CA %q (%s): no daemon.json tlscacert/tlscert, no ca.pem/cert.pem in %s, and no docker context uses it",
			r.old.Cert.Subject.CommonName, filepath.Join(r.dir, layout.DaemonCAFile), strings.Join(dirs, ", "))
	}
	for _, t := range r.trusts {
		if t.path != "" && filepath.Clean(t.path) == filepath.Join(r.dir, layout.DaemonCAFile) && filepath.Clean(r.dir) != filepath.Clean(configDir()) && t.daemon {
			r.notes = append(r.notes, fmt.Sprintf("%s is both the CA and what dockerd trusts: it holds both CAs until step 3 (the old one first, to match %s)", t.path, layout.CAKeyFile))
		}
	}
	return nil
}

// sameDaemon reports whether a context's tcp:// host is the local
// daemon's address (loopback names and addresses count as one).
func sameDaemon(host, addr string) bool {
	h, p, err := net.SplitHostPort(strings.TrimPrefix(host, "tcp://"))
	if err != nil {
		return false
	}
	ah, ap, _ := net.SplitHostPort(addr)
	if p != ap {
		return false
	}
	loop := func(x string) bool {
		ip := net.ParseIP(x)
		return x == "localhost" || (ip != nil && ip.IsLoopback())
	}
	return h == ah || (loop(h) && loop(ah))
}

// daemonAddr is where a client on this machine reaches dockerd's first
// TCP address (a wildcard address is reached on loopback).
func daemonAddr(hosts []string) string {
	for _, h := range hosts {
		rest, ok := strings.CutPrefix(h, "tcp://")
		if !ok {
			continue
		}
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			host, port = rest, strconv.Itoa(layout.DefaultTLSPort)
		}
		switch host {
		case "", "0.0.0.0":
			host = "127.0.0.1"
		case "::":
			host = "::1"
		}
		return net.JoinHostPort(host, port)
	}
	return ""
}

func (r *localRotation) printPlan() {
	w := r.w
	fmt.Fprintf(w, "CA rotation of %s on this machine\n", filepath.Join(r.dir, layout.DaemonCAFile))
	fmt.Fprintf(w, "  old CA: %s\n", describeCert(r.old.Cert))
	switch {
	case r.resumed:
		fmt.Fprintf(w, "  new CA: %s (resuming with %s at step %d/3)\n", describeCert(r.next.Cert), r.nextCert, r.done+1)
	case r.dryRun:
		fmt.Fprintf(w, "  new CA: a %s CA, to be written to %s\n", keyTypeOf(r.old.Cert.PublicKey), r.nextCert)
	default:
		fmt.Fprintf(w, "  new CA: %s (%s)\n", describeCert(r.next.Cert), r.nextCert)
	}
	if r.daemon != nil {
		fmt.Fprintf(w, "  daemon: %s (dockerd on %s), restarted with: %s\n", r.daemon.jsonPath, r.daemon.addr, r.restart)
	}
	for _, t := range r.trusts {
		fmt.Fprintf(w, "  trust:  %s  (%s)\n", t.label(), t.what)
	}
	for _, p := range r.pairs {
		fmt.Fprintf(w, "  cert:   %s  (%s: %s)\n", p.label(), p.what, describeCert(p.cert))
	}
	fmt.Fprintf(w, "Steps:\n  1/3 trust both: every bundle above holds the old and the new CA\n"+
		"  2/3 move: re-issue every certificate above with the new CA\n"+
		"  3/3 retire: drop the old CA from every bundle; the new CA becomes %s (the old one is kept as a backup)\n", filepath.Join(r.dir, layout.DaemonCAFile))
	for _, n := range r.notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
}

var stepTitles = [4]string{"", "trust the old and the new CA", "move every certificate to the new CA", "retire the old CA"}

// bundleFor is a trust bundle after step n: the CAs other than the old and
// new one are kept; the old one stays until step 3 (first, so that a CA
// file whose key is the old one still loads), the new one is added.
func (r *localRotation) bundleFor(data []byte, n int) []byte {
	var out []byte
	cs, _ := pki.ParseCertificates("bundle", data)
	if n < 3 {
		out = append(out, pki.EncodeCert(r.old.Cert)...)
	}
	for _, c := range cs {
		if !c.Equal(r.old.Cert) && !c.Equal(r.next.Cert) {
			out = append(out, pki.EncodeCert(c)...)
		}
	}
	return append(out, pki.EncodeCert(r.next.Cert)...)
}

// step plans step n, prints the plan, and (unless dry-running) applies it,
// restarts dockerd when its files changed, checks that it serves again and
// that docker works with every context involved.
func (r *localRotation) step(ctx context.Context, n int) error {
	w := r.w
	fmt.Fprintf(w, "\n== Step %d/3: %s\n", n, stepTitles[n])
	var plan fsutil.Plan
	ctxFiles := map[string]map[string][]byte{}
	ctxWrite := func(name, file string, data []byte) {
		if ctxFiles[name] == nil {
			ctxFiles[name] = map[string][]byte{}
		}
		ctxFiles[name][file] = data
	}
	caPath, keyPath := filepath.Join(r.dir, layout.DaemonCAFile), filepath.Join(r.dir, layout.CAKeyFile)
	for _, t := range r.trusts {
		want := r.bundleFor(t.data, n)
		if n == 3 && t.path == caPath {
			continue // promoted below
		}
		if t.context != "" {
			if !bytes.Equal(want, t.data) {
				ctxWrite(t.context, layout.ClientCAFile, want)
				fmt.Fprintf(w, "  replace   %s  (%s): %s\n", t.label(), t.what, bundleNames(want))
			}
			continue
		}
		plan.Add(t.path, want, 0o644, t.what+": "+bundleNames(want))
	}
	if n == 2 {
		for _, p := range r.pairs {
			if p.cert.CheckSignatureFrom(r.next.Cert) == nil {
				fmt.Fprintf(w, "  keep      %s  (already signed by the new CA)\n", p.label())
				continue
			}
			iss, err := r.next.Issue(reissueRequest(p.cert, r.days))
			if err != nil {
				return asInputError(err)
			}
			if p.context != "" {
				keyPEM, err := iss.KeyPEM()
				if err != nil {
					return err
				}
				ctxWrite(p.context, layout.ClientCertFile, iss.CertPEM())
				ctxWrite(p.context, layout.ClientKeyFile, keyPEM)
				fmt.Fprintf(w, "  re-issue  %s and key.pem: %s\n", p.label(), describeCert(iss.Cert))
				continue
			}
			if err := addIssued(&plan, iss, p.certPath, p.keyPath, strings.TrimSuffix(p.what, " certificate")); err != nil {
				return err
			}
		}
	}
	if n == 3 {
		keyPEM, err := pki.EncodeKey(r.next.Key)
		if err != nil {
			return err
		}
		plan.Add(caPath, pki.EncodeCert(r.next.Cert), 0o644, "the CA: the new one")
		plan.Add(keyPath, keyPEM, 0o600, "the CA's private key: the new one")
	}
	for _, s := range plan.Preview(true) {
		fmt.Fprintf(w, "  %-9s %s  (%s, mode %04o)\n", s.Action, s.Path, s.What, s.Mode)
	}
	if r.daemon != nil {
		fmt.Fprintf(w, "  run       %s, then wait for dockerd on %s\n", r.restart, r.daemon.addr)
	}
	if len(r.contexts) > 0 {
		fmt.Fprintf(w, "  check     docker --context NAME version for %s\n", strings.Join(r.contexts, ", "))
	}
	if r.dryRun {
		return nil
	}
	// What dockerd reads, as it is now: restored when it does not come
	// back.
	var daemonFiles []fsutil.File
	for _, f := range plan.Files {
		if r.isDaemonFile(f.Path) {
			if data, err := fsutil.ReadFile(f.Path); err == nil {
				mode := f.Mode
				if fi, err := os.Stat(f.Path); err == nil {
					mode = fi.Mode().Perm()
				}
				daemonFiles = append(daemonFiles, fsutil.File{Path: f.Path, Data: data, Mode: mode, What: f.What})
			}
		}
	}
	fmt.Fprintf(w, "Applying step %d/3:\n", n)
	if err := applyPlan(w, &plan, true); err != nil {
		return err
	}
	names := mapsKeys(ctxFiles)
	slices.Sort(names)
	for _, name := range names {
		if err := r.writeContext(name, ctxFiles[name], n); err != nil {
			return err
		}
	}
	// Every step restarts dockerd, also when its files were already
	// written by a run that failed before the restart.
	if r.daemon != nil {
		if err := r.restartDaemon(ctx, n); err != nil {
			return r.rollbackDaemon(ctx, daemonFiles, err)
		}
	}
	for _, name := range r.contexts {
		if err := dockerVersionWorks(ctx, w, name); err != nil {
			return err
		}
	}
	if n == 3 {
		for _, p := range []string{r.nextCert, r.nextKey, r.prevPath, r.stepPath} {
			_ = os.Remove(p)
		}
		return nil
	}
	_, err := fsutil.WriteFile(r.stepPath, []byte(strconv.Itoa(n)+"\n"), 0o644, true)
	return err
}

func mapsKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func bundleNames(bundle []byte) string {
	cs, _ := pki.ParseCertificates("bundle", bundle)
	var names []string
	for _, c := range cs {
		names = append(names, strconv.Quote(c.Subject.CommonName))
	}
	return strings.Join(names, " + ")
}

// writeContext replaces TLS files of a docker context, keeping the others
// and its endpoint (the old files are kept as a backup).
func (r *localRotation) writeContext(name string, files map[string][]byte, step int) error {
	if err := refuseContextLinks(configDir(), name); err != nil {
		return err
	}
	s := r.dockerCli.ContextStore()
	all := map[string][]byte{}
	for _, f := range []string{layout.ClientCAFile, layout.ClientCertFile, layout.ClientKeyFile} {
		if data, err := s.GetTLSData(name, docker.DockerEndpoint, f); err == nil && data != nil {
			all[f] = data
		}
	}
	old := map[string][]byte{}
	for f, data := range all {
		old[f] = data
	}
	for f, data := range files {
		all[f] = data
	}
	// The old files, kept as install client keeps them (one directory
	// per step: two steps may run within a second).
	var bplan fsutil.Plan
	backup := filepath.Join(ownDir(), "backup", fmt.Sprintf("context-%s-%s-ca-step%d", layout.ContextID(name)[:12], fsutil.Now().UTC().Format("20060102T150405"), step))
	for f, data := range old {
		if _, replaced := files[f]; replaced {
			bplan.Add(filepath.Join(backup, f), data, 0o600, "backup of "+f)
		}
	}
	if _, err := bplan.Apply(true); err != nil {
		return fmt.Errorf("keeping a backup of context %q TLS material: %w", name, err)
	}
	if err := s.ResetEndpointTLSMaterial(name, docker.DockerEndpoint, &store.EndpointTLSData{Files: all}); err != nil {
		return fmt.Errorf("writing TLS material of docker context %q: %w", name, err)
	}
	fmt.Fprintf(r.w, "  updated   docker context %q (old TLS files kept in %s)\n", name, backup)
	return nil
}

// restartDaemon runs the restart command and waits until dockerd answers
// /_ping to a client certificate of the new CA (which proves it trusts it)
// with a certificate the bundle of the step verifies.
func (r *localRotation) restartDaemon(ctx context.Context, n int) error {
	fmt.Fprintf(r.w, "Restarting dockerd: %s\n", r.restart)
	out, err := r.runRestart(ctx)
	if err != nil {
		return fmt.Errorf("the restart command %q failed (%v):\n%s", r.restart, err, indent(string(out)))
	}
	probe, err := r.next.Issue(pki.Request{Role: pki.RoleClient, CommonName: "docker-tls rotation check", Days: 1})
	if err != nil {
		return err
	}
	keyPEM, _ := probe.KeyPEM()
	client, err := tls.X509KeyPair(probe.CertPEM(), keyPEM)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if n < 3 {
		pool.AddCert(r.old.Cert)
	}
	pool.AddCert(r.next.Cert)
	var srv *x509.Certificate
	for _, p := range r.pairs {
		if p.daemon {
			srv = p.cert
		}
	}
	host, _, _ := net.SplitHostPort(r.daemon.addr)
	serverName := host
	if srv != nil && srv.VerifyHostname(host) != nil {
		if len(srv.DNSNames) > 0 {
			serverName = srv.DNSNames[0]
		} else if len(srv.IPAddresses) > 0 {
			serverName = srv.IPAddresses[0].String()
		}
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: pool, ServerName: serverName, Certificates: []tls.Certificate{client}, MinVersion: tls.VersionTLS12,
	}}}
	defer hc.CloseIdleConnections()
	deadline := time.Now().Add(r.wait)
	url := "https://" + r.daemon.addr + "/_ping"
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Fprintf(r.w, "dockerd is back on %s, trusting the new CA\n", r.daemon.addr)
				return nil
			}
			err = fmt.Errorf("GET /_ping: %s", resp.Status)
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("dockerd did not answer on %s with the new configuration within %s: %v", r.daemon.addr, r.wait, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// isDaemonFile reports whether dockerd reads path (its tlscacert, tlscert
// or tlskey).
func (r *localRotation) isDaemonFile(path string) bool {
	for _, t := range r.trusts {
		if t.daemon && t.path == path {
			return true
		}
	}
	for _, p := range r.pairs {
		if p.daemon && (p.certPath == path || p.keyPath == path) {
			return true
		}
	}
	return false
}

// rollbackDaemon puts dockerd's files back as they were before the step
// and restarts it with them; the clients' files stay (their bundles hold
// both CAs, and the certificates of the step are trusted by the previous
// step's bundles).
func (r *localRotation) rollbackDaemon(ctx context.Context, files []fsutil.File, cause error) error {
	fmt.Fprintf(r.w, "dockerd did not come back with the new files: restoring its previous files\n")
	for _, f := range files {
		if _, err := fsutil.WriteFile(f.Path, f.Data, f.Mode, true); err != nil {
			return fmt.Errorf("%v\nrestoring %s failed too: %v", cause, f.Path, err)
		}
		fmt.Fprintf(r.w, "  restored  %s  (%s)\n", f.Path, f.What)
	}
	restarted := "dockerd was restarted with them"
	if out, err := r.runRestart(ctx); err != nil {
		restarted = fmt.Sprintf("restarting dockerd with them failed too (%v):\n%s", err, indent(string(out)))
	}
	return fmt.Errorf("%w\ndockerd's previous files were restored and %s", cause, restarted)
}

func (r *localRotation) runRestart(ctx context.Context) ([]byte, error) {
	shell, flag := "/bin/sh", "-c"
	if runtime.GOOS == "windows" {
		shell, flag = "cmd", "/c"
	}
	return exec.CommandContext(ctx, shell, flag, r.restart).CombinedOutput()
}
