package doctor

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker-tls/docker-tls/pki/loader"
)

// loaderKind is which code reads a certs.d tree.
type loaderKind int

const (
	loaderMoby       loaderKind = iota // dockerd's classic loader, also containers/image
	loaderContainerd                   // containerd's hosts.go (files without hosts.toml)
)

type certsRoot struct {
	dir        string
	kind       string
	loader     loaderKind
	always     bool // report the source even when missing
	containers bool // read by containers/image (podman, skopeo, buildah)
}

// certsScan is the read-only context the certs.d workers share.
type certsScan struct {
	root      certsRoot
	known     map[string][]int // registry host → ports seen in configuration
	daemonKey crypto.PublicKey
	dockerd   loader.Selection // moby's or containerd's rules for dockerd's roots
	// refs are the files hosts.toml files anywhere in the root name (a
	// hosts.toml may name ../shared/ca.pem).
	refs map[string]bool
}

func (r *runner) certsRoots(cfg *clientConfig) []certsRoot {
	return []certsRoot{
		{dir: layout.DockerCertsDir, kind: "certs.d (docker)", loader: loaderMoby, always: true},
		{dir: path.Clean(layout.RootlessCertsDir(r.envWithHome)), kind: "certs.d (rootless docker)", loader: loaderMoby},
		{dir: path.Join(cfg.dir, "certs.d"), kind: "certs.d (Docker Desktop)", loader: loaderMoby},
		{dir: path.Join(r.home(), ".config", "containers", "certs.d"), kind: "certs.d (containers, user)", loader: loaderMoby, containers: true},
		{dir: layout.ContainersCertsDir, kind: "certs.d (containers)", loader: loaderMoby, containers: true},
		{dir: layout.ContainerdCertsDir, kind: "certs.d (containerd)", loader: loaderContainerd},
	}
}

func (r *runner) scanCertsDirs(cfg *clientConfig, d *daemonInfo) {
	known := map[string][]int{}
	for _, reg := range append(append([]string{}, cfg.registries...), d.registries...) {
		if rh, _, err := layout.ParseRegistryHost(reg); err == nil {
			known[rh.Host] = append(known[rh.Host], rh.Port)
		}
	}
	seen := map[string]bool{}
	for _, root := range r.certsRoots(cfg) {
		if seen[root.dir] {
			continue
		}
		seen[root.dir] = true
		if !r.isDir(root.dir) {
			if root.always {
				r.source(catalog.Source{Kind: root.kind, Path: r.disp(root.dir), Status: catalog.StatusMissing})
			}
			continue
		}
		r.askLoaderFacts()
		sc := &certsScan{root: root, known: known, daemonKey: d.serverKey, dockerd: dockerdSelection(r.o, d)}
		n, err := r.scanRoot(sc)
		src := catalog.Source{Kind: root.kind, Path: r.disp(root.dir), Status: catalog.StatusFound, Detail: plural(n, "registry directory")}
		if n != 1 {
			src.Detail = itoa(n) + " registry directories"
		}
		src.Detail += "; " + rulesNote(sc)
		if err != nil {
			src.Status, src.Detail = catalog.StatusUnreadable, describeErr(err)
		}
		r.source(src)
	}
}

// scanRoot streams the entries of one certs.d root to a bounded pool of
// workers; only findings are kept.
func (r *runner) scanRoot(sc *certsScan) (int, error) {
	if sc.root.loader == loaderContainerd || sc.dockerd.Rules == loader.RulesContainerd {
		sc.refs = r.rootReferences(sc.root.dir)
	}
	// Every registry directory of a root is read by the same loader
	// (dirModel): it is recorded once, for the root (addSev).
	r.rootLoader.Store(r.onDisk(sc.root.dir), loaderName(rulesOf(sc)))
	defer r.holdDir(sc.root.dir)()
	// Entries go to the workers in small batches: one channel operation
	// (and wake-up) per entry cost the listing goroutine and the workers
	// more than the hand-over of a batch.
	const batch = 16
	work := make(chan []fs.DirEntry, r.o.Workers*2)
	var wg sync.WaitGroup
	var dirs atomic.Int64
	for i := 0; i < r.o.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for es := range work {
				for _, e := range es {
					if r.scanEntry(sc, e) {
						dirs.Add(1)
					}
				}
			}
		}()
	}
	var pending []fs.DirEntry
	err := r.streamDir(sc.root.dir, func(e fs.DirEntry) {
		if pending == nil {
			pending = make([]fs.DirEntry, 0, batch)
		}
		if pending = append(pending, e); len(pending) == batch {
			work <- pending
			pending = nil
		}
	})
	if len(pending) > 0 {
		work <- pending
	}
	close(work)
	wg.Wait()
	return int(dirs.Load()), err
}

// scanEntry handles one entry of a certs.d root; it reports whether it
// was a registry directory.
func (r *runner) scanEntry(sc *certsScan, e fs.DirEntry) bool {
	if e.IsDir() {
		r.scanHostDir(sc, e.Name())
		return true
	}
	p := fsutil.Join(sc.root.dir, e.Name())
	if e.Type()&fs.ModeSymlink != 0 {
		st := r.stat(p)
		if st.Exists && st.Problem == "" && st.Mode.IsDir() {
			r.scanHostDir(sc, e.Name())
			return true
		}
		if st.Exists && st.Problem != "" && !strings.HasPrefix(st.Problem, "symbolic link to ") {
			// A loop or a permission error (not a dangling link, which
			// the loader skips like a missing directory): the loader's
			// os.ReadDir fails, and with it every pull from a registry
			// of that name.
			r.add(catalog.IDFileUnreadable, r.disp(p),
				fmt.Sprintf("%s %s: Docker cannot read it as a registry directory", r.disp(p), st.Problem),
				fmt.Sprintf("replace %s with the registry directory, or a link that resolves to it", r.q(p)),
				map[string]string{"problem": st.Problem})
			return false
		}
	}
	if !e.Type().IsRegular() && e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	t := r.load(p)
	if looksLikeTLS(t) {
		r.add(catalog.IDCertsDIgnoredFile, r.disp(p),
			fmt.Sprintf("%s is directly in %s: certs.d only reads files inside <host[:port]>/ directories, so it is ignored", r.disp(p), r.disp(sc.root.dir)),
			fmt.Sprintf("mkdir -p %s/REGISTRY:PORT && mv %s %s/REGISTRY:PORT/%s", r.q(sc.root.dir), r.q(p), r.q(sc.root.dir), suggestedName(t, e.Name())),
			map[string]string{"found": strings.TrimPrefix(t.mat.Describe(), "found ")})
	}
	return false
}

// looksLikeTLS reports whether a file holds certificates or keys.
func looksLikeTLS(t *tlsFile) bool {
	if t.mat == nil {
		return false
	}
	for _, k := range t.mat.Kinds {
		switch k {
		case pki.KindCertificate, pki.KindPrivateKey, pki.KindEncryptedKey, pki.KindPKCS7, pki.KindPKCS12:
			return true
		}
	}
	return false
}

// suggestedName is the name Docker would read for what the file holds.
func suggestedName(t *tlsFile, name string) string {
	base := strings.TrimSuffix(name, path.Ext(name))
	if t.mat != nil && len(t.mat.Certs) > 0 && !t.mat.Certs[0].IsCA {
		return base + layout.ExtCert
	}
	if t.mat != nil && len(t.mat.Certs) == 0 && (t.mat.Has(pki.KindPrivateKey) || t.mat.Has(pki.KindEncryptedKey)) {
		return base + layout.ExtKey
	}
	return base + layout.ExtCA
}

// EvidenceRenameTo is the evidence key naming the path a file can be
// renamed to, when that rename is all the fix needs and cannot replace
// anything (docker tls doctor --fix applies it).
const EvidenceRenameTo = "rename_to"

// certsDName is the name an ignored file in a registry directory should
// have, and whether that name is certain: a CA certificate becomes
// NAME.crt; a client certificate or key only when its other half is there
// under the same base name (the certs.d loader pairs X.cert with X.key);
// the target must not exist.
func certsDName(t *tlsFile, name string, names nameSet) (string, bool) {
	base := strings.TrimSuffix(name, path.Ext(name))
	sure := func(n string) (string, bool) { return n, !names.has(n) }
	isCert := t.mat != nil && len(t.mat.Certs) > 0
	isKey := t.mat != nil && len(t.mat.Certs) == 0 && (t.mat.Has(pki.KindPrivateKey) || t.mat.Has(pki.KindEncryptedKey))
	switch {
	case isCert && t.mat.Certs[0].IsCA:
		return sure(base + layout.ExtCA)
	case isCert && names.has(base+layout.ExtKey):
		return sure(base + layout.ExtCert)
	case isKey && names.has(base+layout.ExtCert):
		return sure(base + layout.ExtKey)
	}
	return suggestedName(t, name), false
}

func aliasEvidence(r *runner, n, want, target string, names nameSet) map[string]string {
	ev := map[string]string{"expected": want}
	if aliasRenameSafe(n, names) {
		ev[EvidenceRenameTo] = r.disp(target)
	}
	return ev
}

// aliasRenameSafe reports whether renaming a docker CLI name in a certs.d
// directory to its certs.d name is certain: the target is free, and a
// client certificate moves only together with its key (and the reverse).
func aliasRenameSafe(n string, names nameSet) bool {
	if names.has(layout.CertsDAliases[n]) {
		return false
	}
	switch n {
	case layout.ClientCertFile:
		return names.has(layout.ClientKeyFile) && !names.has(layout.RegistryKeyFile)
	case layout.ClientKeyFile:
		return names.has(layout.ClientCertFile) && !names.has(layout.RegistryCertFile)
	}
	return true
}

// dirHost parses a certs.d directory name into the registry host it
// serves; containerd's host_port_ spelling is accepted.
func dirHost(name string, loader loaderKind) (layout.RegistryHost, error) {
	if loader == loaderContainerd && strings.HasSuffix(name, "_") {
		if i := strings.LastIndex(strings.TrimSuffix(name, "_"), "_"); i > 0 {
			name = name[:i] + ":" + strings.TrimSuffix(name[i+1:], "_")
		}
	}
	rh, _, err := layout.ParseRegistryHost(name)
	return rh, err
}

var dockerHubDirs = map[string]bool{"docker.io": true, "index.docker.io": true, "registry-1.docker.io": true}

func isBackupName(n string) bool {
	l := strings.ToLower(n)
	for _, s := range []string{".bak", ".orig", ".old", ".dpkg-", ".rpmnew", ".rpmsave", ".disabled", ".save", ".swp"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return strings.HasSuffix(l, "~") || strings.HasPrefix(l, ".")
}

func (r *runner) scanHostDir(sc *certsScan, name string) {
	dir := fsutil.Join(sc.root.dir, name)
	defer r.enterDir(dir)()
	ddir := r.disp(dir)
	r.checkDirName(sc, name, dir)
	entries, err := r.readDirNames(dir)
	if err != nil {
		// No model: the directory's findings name no loader (addSev).
		r.unmodelled.Store(r.onDisk(dir), true)
		r.add(catalog.IDFileUnreadable, ddir, fmt.Sprintf("%s cannot be listed: %s", ddir, describeErr(err)),
			fmt.Sprintf("chmod 0755 %s", r.q(dir)), nil)
		return
	}
	// Entries are not stat'ed: a subdirectory with a TLS extension is
	// reported as unreadable when read, others are skipped.
	names := nameSet(entries)             // sorted
	paths := make([]string, len(entries)) // logical, joined once
	for i, n := range entries {
		paths[i] = fsutil.Join(dir, n)
	}
	// Every file is read once and every .crt parsed once: the loader model
	// and the doctor's checks share them.
	mfs := &modelFS{r: r, dir: path.Clean(dir), names: entries, cache: make([]cachedRead, 0, len(entries))}
	defer mfs.attach()()
	crt := make([]*tlsFile, len(entries)) // the .crt files, by index in entries
	// parsed: the .crt files' certificates, which the model does not
	// parse again (looked up by DER in this directory only).
	var parsed []*x509.Certificate
	for i, n := range entries {
		if path.Ext(n) == layout.ExtCA {
			p := paths[i]
			mfs.ReadFile(fsPath(p)) // read once, for both
			t := r.load(p)
			crt[i] = t
			if t.mat != nil {
				parsed = append(parsed, t.mat.Certs...)
			}
		}
	}
	m := r.dirModel(sc, dir, name, names.has(layout.HostsTOML), parsed, mfs)
	if names.has(layout.HostsTOML) {
		r.checkHostsTOML(dir, m)
	}
	if m.tomlActive {
		r.hostsTOMLUnused(dir, entries, m)
	}
	var dirCAs []*x509.Certificate
	var dirCerts []*x509.Certificate // every certificate the directory trusts
	namedCRT := map[string]bool{}    // bases of .crt files that are client certificates
	// Pass 1: .crt files (trust anchors), so later passes know them.
	for i, n := range entries {
		if path.Ext(n) != layout.ExtCA || m.tomlActive {
			continue
		}
		base := strings.TrimSuffix(n, layout.ExtCA)
		p := paths[i]
		t := crt[i]
		ca, read := m.caFile(p)
		if r.unreadable(t, "CA certificate") || t.mat == nil {
			continue
		}
		if badNegativeSerial(t.mat) {
			r.certFile(t, useCA.String())
			continue
		}
		if (read && len(ca.Certs) == 0) || (!read && (t.mat.Encoding != pki.EncPEM || len(t.mat.Certs) == 0)) {
			if m.rules != rulesContainerd && m.otherCAsLoad(p) {
				// The loader skips it silently and another .crt here loads
				// a CA: pulls work, the file adds nothing.
				also := ""
				if m.rules == rulesMoby && sc.dockerd.Rules == loader.RulesUnknown {
					also = fmt.Sprintf("; but with the containerd image store (Docker 29's default) containerd's loader fails on it with: unable to load CA cert %q", p)
				}
				r.add(catalog.IDCertsDCRTUseless, r.disp(p),
					fmt.Sprintf("%s adds no certificate (%s): the classic loader skips it silently; the other CA files in %s are loaded%s", r.disp(p), orSame(ca.Skipped, strings.TrimPrefix(t.mat.Describe(), "found ")), ddir, also),
					fmt.Sprintf("rm %s", r.q(p)), map[string]string{"found": orSame(ca.Skipped, strings.TrimPrefix(t.mat.Describe(), "found "))})
				continue
			}
			how := "the classic loader skips it without a message (AppendCertsFromPEM), so the registry's certificate fails with \"x509: certificate signed by unknown authority\""
			if m.rules == rulesContainerd {
				how = fmt.Sprintf("containerd fails with \"unable to load CA cert %q\"", p)
			}
			what := fmt.Sprintf("%s is not PEM (%s)", r.disp(p), strings.TrimPrefix(t.mat.Describe(), "found "))
			if t.mat.Encoding == pki.EncPEM && len(t.mat.Certs) > 0 {
				what = fmt.Sprintf("%s adds no certificate (%s)", r.disp(p), ca.Skipped)
			}
			switch {
			case t.mat.Encoding == pki.EncPEM && len(t.mat.BadBlocks) > 0:
				what = fmt.Sprintf("%s holds %s but no certificate that parses (%s)", r.disp(p), plural(len(t.mat.PEMTypes), "PEM block"), t.mat.BadBlocks[0])
			case t.truncated:
				what = fmt.Sprintf("%s is not PEM (%s; %s)", r.disp(p), strings.TrimPrefix(t.mat.Describe(), "found "), truncatedHint)
			}
			fix := fmt.Sprintf("replace %s with the PEM CA certificate", r.q(p))
			switch {
			case t.mat.Encoding == pki.EncDER && t.mat.Primary() == pki.KindCertificate:
				fix = fmt.Sprintf("openssl x509 -inform der -in %[1]s -out %[1]s.pem && mv %[1]s.pem %[1]s", r.q(p))
			case t.mat.Primary() == pki.KindPKCS7:
				fix = fmt.Sprintf("openssl pkcs7 -print_certs -in %[1]s -out %[1]s.pem && mv %[1]s.pem %[1]s", r.q(p))
			case t.mat.Primary() == pki.KindPKCS12:
				fix = fmt.Sprintf("openssl pkcs12 -in %[1]s -cacerts -nokeys -out %[1]s.pem && mv %[1]s.pem %[1]s", r.q(p))
			}
			r.add(catalog.IDCertsDCRTNotPEM, r.disp(p),
				fmt.Sprintf("%s: %s", what, how),
				fix, map[string]string{"found": strings.TrimPrefix(t.mat.Describe(), "found ")})
			continue
		}
		r.truncatedTail(t, useCA.String())
		c := t.mat.Certs[0]
		// A certificate that can only authenticate a client, saved as .crt.
		// One that may serve TLS (a registry's own domain.crt, with or
		// without its key beside it) is a pinned server certificate: Go
		// trusts a leaf found in its root pool.
		clientLike := !c.IsCA && hasEKU(c) && pki.AllowsUsage(c, x509.ExtKeyUsageClientAuth) && !pki.AllowsUsage(c, x509.ExtKeyUsageServerAuth)
		if clientLike {
			namedCRT[base] = true
			extra := ""
			if names.has(base+layout.ExtKey) && !names.has(base+layout.ExtCert) && sc.root.loader == loaderMoby {
				extra = fmt.Sprintf("; with %s next to it the loader fails with \"missing client certificate %s for key %s\"", base+layout.ExtKey, base+layout.ExtCert, base+layout.ExtKey)
			}
			ev := certEvidence(c)
			if names.has(base+layout.ExtKey) && !names.has(base+layout.ExtCert) {
				ev[EvidenceRenameTo] = r.disp(path.Join(dir, base+layout.ExtCert))
			}
			r.add(catalog.IDCertsDClientCertNamedCRT, r.disp(p),
				fmt.Sprintf("%s is a client certificate (%s) saved as .crt: it is loaded as a trusted CA and never sent as a client certificate%s", r.disp(p), certName(c), extra),
				fmt.Sprintf("mv %s %s", r.q(p), r.q(path.Join(dir, base+layout.ExtCert))), ev)
			r.certChecks(c, p, useClient)
			continue
		}
		loaded := t.mat.Certs
		if read {
			loaded = ca.Certs
		}
		for _, cc := range loaded {
			dirCerts = append(dirCerts, cc)
			if !cc.IsCA {
				// A pinned server certificate (Go trusts a leaf in its
				// root pool): it is the certificate the host name is
				// checked against, not a CA.
				r.registryHostCovered(sc, name, cc, p)
				r.certChecks(cc, p, useServer)
				continue
			}
			dirCAs = append(dirCAs, cc)
			r.certChecks(cc, p, useCA)
		}
	}
	for i, n := range entries {
		p := paths[i]
		ext := path.Ext(n)
		base := strings.TrimSuffix(n, ext)
		switch {
		case m.referenced[p] || sc.refs[p]:
			// named by a hosts.toml: checked there
		case m.rules == rulesContainerd && names.has(layout.HostsTOML) && !m.tomlActive && ext != layout.ExtCA && ext != layout.ExtCert && ext != layout.ExtKey:
			// containerd dropped hosts.toml (hoststoml-broken): the files
			// it was meant to name are not judged against the fallback
		case ext == layout.ExtCA:
			// pass 1
		case (ext == layout.ExtCert || ext == layout.ExtKey) && m.tomlActive:
			// not read while hosts.toml is in effect (hoststoml-file-unused)
		case ext == layout.ExtCert:
			r.certsDCert(sc, m, dir, n, names, dirCAs)
		case ext == layout.ExtKey:
			if names.has(base + layout.ExtCert) {
				continue // checked with its certificate
			}
			r.certsDKeyAlone(sc, m, dir, n, namedCRT[base], dirCerts)
		case n == layout.HostsTOML:
			// checked above
		case layout.CertsDAliases[n] != "":
			want := layout.CertsDAliases[n]
			if names.has(want) {
				continue
			}
			r.add(catalog.IDCertPathWrongNames, r.disp(p),
				fmt.Sprintf("%s has a docker CLI file name; the certs.d loader only reads *.crt, *.cert and *.key, so it is ignored (expected %s)", r.disp(p), want),
				fmt.Sprintf("mv %s %s", r.q(p), r.q(path.Join(dir, want))), aliasEvidence(r, n, want, path.Join(dir, want), names))
		case isDaemonOnly(n):
			r.add(catalog.IDCertsDDaemonKey, r.disp(p),
				fmt.Sprintf("%s is daemon or CA material (%s) in a registry client directory: Docker never uses it from here", r.disp(p), n),
				fmt.Sprintf("move %s out of certs.d (daemon files belong where daemon.json tlscert/tlskey point; keep the CA key offline)", r.q(p)), nil)
		case isBackupName(n):
		default:
			t := r.load(p)
			if !looksLikeTLS(t) {
				continue
			}
			why := "has an extension the certs.d loader does not read (only .crt, .cert and .key)"
			if strings.EqualFold(ext, layout.ExtCA) || strings.EqualFold(ext, layout.ExtCert) || strings.EqualFold(ext, layout.ExtKey) {
				why = "has an upper-case extension; the loader matches .crt, .cert and .key exactly"
			}
			if m.tomlActive {
				r.add(catalog.IDCertsDIgnoredFile, r.disp(p),
					fmt.Sprintf("%s is ignored: containerd reads %s, which does not name it", r.disp(p), r.disp(path.Join(dir, layout.HostsTOML))),
					fmt.Sprintf("name it in the ca or client entry of %s, or remove it", r.q(path.Join(dir, layout.HostsTOML))),
					map[string]string{"found": strings.TrimPrefix(t.mat.Describe(), "found ")})
				continue
			}
			newName, sure := certsDName(t, n, names)
			target := path.Join(dir, newName)
			ev := map[string]string{"found": strings.TrimPrefix(t.mat.Describe(), "found ")}
			if sure {
				ev[EvidenceRenameTo] = r.disp(target)
			}
			r.add(catalog.IDCertsDIgnoredFile, r.disp(p),
				fmt.Sprintf("%s %s, so it is ignored", r.disp(p), why),
				fmt.Sprintf("mv %s %s", r.q(p), r.q(target)), ev)
		}
	}
}

func isDaemonOnly(n string) bool {
	for _, d := range layout.DaemonOnlyFiles {
		if n == d {
			return true
		}
	}
	return false
}

// checkDirName looks at the registry directory's name.
func (r *runner) checkDirName(sc *certsScan, name, dir string) {
	ddir := r.disp(dir)
	// With the containerd image store dockerd reads it (ConfigureHosts for
	// docker.io; its mirrors share that configuration): e2e
	// TestRegistryMirrorsDoctor pulls through a mirror whose CA is there.
	if sc.root.loader == loaderMoby && dockerHubDirs[name] && sc.dockerd.Rules != loader.RulesContainerd {
		msg := fmt.Sprintf("%s is never read: Docker Hub (%s) uses fixed TLS settings and no certs.d directory", ddir, name)
		if sc.dockerd.Rules == loader.RulesUnknown {
			msg = fmt.Sprintf("%s is never read by the classic image store: Docker Hub (%s) uses fixed TLS settings there (with the containerd image store dockerd does read it)", ddir, name)
		}
		r.add(catalog.IDCertsDIgnoredFile, ddir, msg,
			fmt.Sprintf("remove %s; for a TLS-intercepting proxy add its CA to the system store (update-ca-certificates) and restart dockerd", r.q(dir)), nil)
		return
	}
	if name == layout.ContainerdDefaultHostDir && sc.root.loader == loaderContainerd {
		return
	}
	if needsQuote(name) {
		r.add(catalog.IDCertsDIgnoredFile, ddir,
			fmt.Sprintf("%s does not name a registry: its name is not valid UTF-8 (or holds a control character), which no image reference can, so it is never used", ddir),
			fmt.Sprintf("rename %s to the registry's host[:port] exactly as in image references (lower case)", r.q(dir)), nil)
		return
	}
	if sc.root.containers {
		// containers/image reads only the first existing of the user's,
		// /etc/containers' and /etc/docker's <host:port> (pki/loader).
		roots := loader.ContainersCertDirs(fsPath(r.home()))
		if got, gerr := loader.ContainersHostDir(r.modelTree(), roots, name); gerr == nil && got != "" && logical(got) != path.Clean(dir) && r.stat(logical(got)).Exists {
			r.add(catalog.IDCertsDIgnoredFile, ddir,
				fmt.Sprintf("%s is not read by podman, skopeo or buildah run by this user: containers/image reads only the first of the per-user, /etc/containers and /etc/docker directories for %s that exists, here %s", ddir, name, r.disp(logical(got))),
				fmt.Sprintf("merge %s into %s (or remove one of them)", r.q(dir), r.q(logical(got))), map[string]string{"readInstead": r.disp(logical(got))})
		}
	}
	rh, err := dirHost(name, sc.root.loader)
	if err == nil && sc.root.loader == loaderContainerd {
		// containerd reads the first of host_port_, host:port that exists
		// (pki/loader ContainerdHostDir): the other is never read.
		if got, gerr := loader.ContainerdHostDir(r.modelTree(), fsPath(sc.root.dir), rh.String(), "linux"); gerr == nil && got != "" && logical(got) != path.Clean(dir) {
			r.add(catalog.IDCertsDIgnoredFile, ddir,
				fmt.Sprintf("%s is never read: for %s containerd reads %s, which it finds first", ddir, rh.String(), r.disp(logical(got))),
				fmt.Sprintf("merge %s into %s and remove it", r.q(dir), r.q(logical(got))), map[string]string{"readInstead": r.disp(logical(got))})
			return
		}
	}
	if err != nil {
		r.add(catalog.IDCertsDIgnoredFile, ddir,
			fmt.Sprintf("%s does not name a registry as image references write it (%v), so it is never used", ddir, err),
			"rename the directory to the registry's host[:port] exactly as in image references (lower case)", nil)
		return
	}
	if rh.Port == 443 {
		bare := layout.RegistryHost{Host: rh.Host}
		barePath := path.Join(sc.root.dir, bare.String())
		if !r.stat(barePath).Exists {
			r.add(catalog.IDCertsDPort443, ddir,
				fmt.Sprintf("%s is only used for image references that spell out :443; %s/app is looked up in %s, which does not exist", ddir, bare.String(), r.disp(barePath)),
				fmt.Sprintf("mv %s %s", r.q(dir), r.q(barePath)), nil)
		}
		return
	}
	if rh.Port != 0 {
		return
	}
	ports := append([]int{}, sc.known[rh.Host]...)
	sort.Ints(ports)
	for i, port := range ports {
		if port == 0 || port == 443 || (i > 0 && ports[i-1] == port) {
			continue
		}
		withPort := layout.RegistryHost{Host: rh.Host, Port: port}
		wp := path.Join(sc.root.dir, withPort.String())
		if r.stat(wp).Exists {
			continue
		}
		r.add(catalog.IDCertsDPortMissing, ddir,
			fmt.Sprintf("the registry %s is configured (config.json auths or daemon.json) but %s has no port, so it is not used for %s", withPort.String(), ddir, withPort.String()),
			fmt.Sprintf("cp -a %s %s", r.q(dir), r.q(wp)), map[string]string{"registry": withPort.String(), "port": strconv.Itoa(port)})
	}
}

// registryHostCovered checks a registry's own certificate against the
// directory's host name.
func (r *runner) registryHostCovered(sc *certsScan, name string, c *x509.Certificate, p string) {
	rh, err := dirHost(name, sc.root.loader)
	if err != nil || !hasSANs(c) {
		return // cert-cn-only reports a certificate without SANs
	}
	if err := c.VerifyHostname(rh.Host); err != nil {
		r.add(catalog.IDHostNotInSANs, r.disp(p),
			fmt.Sprintf("%s is the registry's self-signed certificate for %s, but it does not cover %q: pulls fail with %q", r.disp(p), name, rh.Host, err.Error()),
			fmt.Sprintf("reissue the registry certificate with --san %s", shq(rh.Host)),
			map[string]string{"host": rh.Host, "sans": joinOr(sanList(c), "none")})
	}
}

// certsDCert checks a <base>.cert and its <base>.key.
func (r *runner) certsDCert(sc *certsScan, m *dirModel, dir, n string, names nameSet, dirCAs []*x509.Certificate) {
	p := fsutil.Join(dir, n)
	base := strings.TrimSuffix(n, layout.ExtCert)
	keyName := base + layout.ExtKey
	certF := r.load(p)
	if r.unreadable(certF, "client certificate") || certF.mat == nil {
		return
	}
	// A CA:TRUE certificate with its key is a working client pair when
	// the loader loads it (openssl req -x509 makes such self-signed client
	// certificates): only a CA without a key is a misnamed trust anchor.
	if len(certF.mat.Certs) > 0 && certF.mat.Certs[0].IsCA && !names.has(keyName) {
		c := certF.mat.Certs[0]
		how := fmt.Sprintf("\"missing key %s for client certificate %s. CA certificates must use the extension .crt\"", keyName, n)
		if m.rules == rulesContainerd {
			how = "\"failed to load X509 key pair: tls: failed to find any PEM data in key input\""
		}
		target := path.Join(dir, base+layout.ExtCA)
		ev := certEvidence(c)
		if !names.has(base + layout.ExtCA) {
			ev[EvidenceRenameTo] = r.disp(target)
		}
		r.add(catalog.IDCertsDCANamedCert, r.disp(p),
			fmt.Sprintf("%s is a CA certificate (%s) saved as .cert: %s", r.disp(p), certName(c), how),
			fmt.Sprintf("mv %s %s", r.q(p), r.q(target)), ev)
		for _, cc := range certF.mat.Certs {
			r.certChecks(cc, p, useCA)
		}
		return
	}
	if !names.has(keyName) {
		if m.rules == rulesContainerd && len(certF.mat.Keys) > 0 {
			// containerd reads a .cert without .key as certificate+key PEM.
			r.pairFiles(certF, certF, useClient)
			return
		}
		how := fmt.Sprintf("the registry loader fails with \"missing key %s for client certificate %s. CA certificates must use the extension .crt\"", keyName, n)
		if m.rules == rulesContainerd {
			how = "containerd fails with \"failed to load X509 key pair: tls: failed to find any PEM data in key input\""
		}
		r.add(catalog.IDCertsDCertWithoutKey, r.disp(p),
			fmt.Sprintf("%s has no %s next to it: %s", r.disp(p), keyName, how),
			fmt.Sprintf("copy the client key to %s (chmod 0600), or remove %s", r.q(path.Join(dir, keyName)), r.q(p)), nil)
		if certs := r.certFile(certF, useClient.String()); len(certs) > 0 {
			r.certChecks(certs[0], p, useClient)
		}
		return
	}
	keyF := r.load(fsutil.Join(dir, keyName))
	_, key := r.pairFiles(certF, keyF, useClient)
	if what := r.keyIdentity(sc, key, dirCAs); what != "" {
		r.daemonKeyInCertsD(keyF.fi.Path, what)
	}
}

// certsDKeyAlone handles a <base>.key without <base>.cert.
func (r *runner) certsDKeyAlone(sc *certsScan, m *dirModel, dir, n string, namedCRT bool, dirCerts []*x509.Certificate) {
	p := fsutil.Join(dir, n)
	base := strings.TrimSuffix(n, layout.ExtKey)
	t := r.load(p)
	var key crypto.Signer
	if t.mat != nil && len(t.mat.Keys) > 0 {
		key = t.mat.Keys[0]
	}
	what := r.keyIdentity(sc, key, dirCerts)
	if m.rules == rulesContainerd {
		// containerd's loadCertFiles ignores a lone key.
		if what != "" {
			r.daemonKeyInCertsD(p, what)
		}
		return
	}
	if namedCRT {
		return // reported as certsd-client-cert-named-crt
	}
	// moby and containers/image fail on a lone key: every pull fails,
	// whatever the key is.
	how := fmt.Sprintf("the registry loader fails with \"missing client certificate %s for key %s\"", base+layout.ExtCert, n)
	if m.flat != nil && m.flat.Err != nil {
		how = fmt.Sprintf("the registry loader fails with %q", m.flat.Err.Error())
	}
	msg := fmt.Sprintf("%s has no %s next to it: %s", r.disp(p), base+layout.ExtCert, how)
	fix := fmt.Sprintf("remove %s, or add its client certificate as %s", r.q(p), r.q(path.Join(dir, base+layout.ExtCert)))
	var ev map[string]string
	if what != "" {
		msg += fmt.Sprintf("; it is %s, which does not belong in a registry client directory", what)
		fix = fmt.Sprintf("move %s out of %s (keep CA and server keys where the registry or CA uses them)", r.q(p), r.q(dir))
		ev = map[string]string{"key": what}
	}
	r.add(catalog.IDCertsDKeyWithoutCert, r.disp(p), msg, fix, ev)
}

// keyIdentity says whose key this is when it is the local daemon's server
// key or the private key of a certificate the directory trusts (a CA, or
// the registry's own pinned certificate); "" otherwise.
func (r *runner) keyIdentity(sc *certsScan, key crypto.Signer, dirCerts []*x509.Certificate) string {
	if key == nil {
		return ""
	}
	what := ""
	if sc.daemonKey != nil && pki.PublicKeysEqual(key.Public(), sc.daemonKey) {
		what = "the local daemon's server key"
	}
	for _, c := range dirCerts {
		if !pki.KeyMatches(key, c.PublicKey) {
			continue
		}
		if c.IsCA {
			what = fmt.Sprintf("the private key of the CA %s", certName(c))
		} else {
			what = fmt.Sprintf("the private key of the registry's own certificate %s", certName(c))
		}
	}
	return what
}

// daemonKeyInCertsD reports a key a loader ignores that is a daemon, CA or
// registry server key.
func (r *runner) daemonKeyInCertsD(p, what string) {
	r.add(catalog.IDCertsDDaemonKey, r.disp(p),
		fmt.Sprintf("%s is %s: it does not belong in a registry client directory", r.disp(p), what),
		fmt.Sprintf("remove %s from certs.d (keep CA keys offline; the daemon reads its key from daemon.json tlskey)", r.q(p)), nil)
}

// nameSet is a directory's sorted listing, asked whether it holds a name
// (a map per registry directory cost more than the few names it held).
type nameSet []string

func (s nameSet) has(n string) bool {
	_, ok := slices.BinarySearch(s, n)
	return ok
}
