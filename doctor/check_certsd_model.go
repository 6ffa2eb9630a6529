package doctor

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker-tls/docker-tls/pki/loader"
)

// The certs.d and hosts.toml checks compare what the user put in a
// registry directory with what the loader loads from it (pki/loader): a
// file present but not loaded, loaded but adding nothing, or loaded and
// wrong. The loader models, not this file, know Docker's file rules.

// modelTree is the doctor's file system as the loader models read it.
func (r *runner) modelTree() loader.Tree { return loader.Tree{FS: r.o.FS, Root: "/"} }

func logical(fsp string) string { return cleanPath("/" + fsp) }

// dirRules is which loader reads a certs.d root.
type dirRules int

const (
	rulesMoby dirRules = iota
	rulesContainers
	rulesContainerd
)

// dirModel is what the loaders load from one registry directory.
type dirModel struct {
	rules dirRules
	// flat is the result of a certs.d reader (moby, containers/image, or
	// containerd's loadCertFiles fallback when no hosts.toml is read).
	flat *loader.Result
	// ctd are containerd's answers, one per version considered (both when
	// the installed version is unknown).
	ctd []loader.ContainerdResult
	// referenced: logical paths a decoded hosts.toml names.
	referenced map[string]bool
	// tomlActive: containerd reads hosts.toml (it decodes) in every
	// version considered, so the plain .crt/.cert/.key files are not read.
	tomlActive bool
}

// askLoaderFacts fills in the loaders' versions the caller left to be
// asked, once: only runs with a certs.d root to judge pay for them.
func (r *runner) askLoaderFacts() {
	r.factsOnce.Do(func() {
		if r.o.Containerd == 0 && r.o.AskContainerd != nil {
			r.o.Containerd = r.o.AskContainerd()
		}
		if r.o.Dockerd == (loader.DockerdFacts{}) && r.o.AskDockerd != nil {
			r.o.Dockerd = r.o.AskDockerd()
		}
	})
}

// containerdVersions are the containerd versions whose rules apply.
func (r *runner) containerdVersions() []loader.ContainerdVersion {
	if v := r.o.Containerd; v != 0 {
		return []loader.ContainerdVersion{v}
	}
	return []loader.ContainerdVersion{loader.Containerd2, loader.Containerd1}
}

// dockerdSelection picks the rules dockerd applies to /etc/docker/certs.d.
func dockerdSelection(o *Options, d *daemonInfo) loader.Selection {
	f := o.Dockerd
	if f.Snapshotter == nil && d != nil {
		if raw, ok := d.jsonKeys["features"]; ok {
			var feats map[string]bool
			if json.Unmarshal(raw, &feats) == nil {
				if v, ok := feats["containerd-snapshotter"]; ok {
					f.Snapshotter = &v
				}
			}
		}
	}
	return loader.SelectDockerd(f)
}

// rulesOf is which loader reads the registry directories of sc's root
// (the same for all of them).
func rulesOf(sc *certsScan) dirRules {
	switch {
	case sc.root.loader == loaderContainerd:
		return rulesContainerd
	case sc.root.containers:
		return rulesContainers
	case sc.dockerd.Rules == loader.RulesContainerd:
		return rulesContainerd
	}
	return rulesMoby
}

// loaderName is the loader a finding's facts name (--fix plans with it).
func loaderName(d dirRules) string {
	return [...]string{rulesMoby: "moby", rulesContainers: "containers", rulesContainerd: "containerd"}[d]
}

func (r *runner) dirModel(sc *certsScan, dir, name string, hasTOML bool, parsed []*x509.Certificate, mfs *modelFS) *dirModel {
	t := loader.Tree{FS: mfs, Root: "/", KeyPair: mfs.keyPair, CertsFromPEM: mfs.certsFromPEM}
	t.ParseCert = func(der []byte) (*x509.Certificate, error) {
		for _, c := range parsed {
			if bytes.Equal(c.Raw, der) {
				return c, nil
			}
		}
		return x509.ParseCertificate(der)
	}
	fsDir := fsPath(dir)
	m := &dirModel{rules: rulesOf(sc)}
	switch m.rules {
	case rulesMoby:
		res := loader.MobyCertsDir(t, fsDir, sc.dockerd.Moby)
		m.flat = &res
	case rulesContainers:
		res := loader.ContainersCertsDir(t, fsDir)
		m.flat = &res
	}
	versions := r.containerdVersions()
	if m.rules != rulesContainerd || sc.root.loader != loaderContainerd || !hasTOML {
		// dockerd with the containerd store vendors containerd 2.x; a
		// hosts.toml under a classic root is checked with 2.x rules;
		// without hosts.toml the versions read the files alike.
		versions = []loader.ContainerdVersion{loader.Containerd2}
	}
	if m.rules != rulesContainerd && !hasTOML {
		versions = nil // the classic readers ignore hosts.toml
	}
	host := name
	if rh, err := dirHost(name, loaderContainerd); err == nil {
		host = rh.String()
	}
	active := true
	anyTOML := false
	for _, v := range versions {
		res := loader.ContainerdLoad(t, fsDir, host, loader.ContainerdOptions{Version: v, GOOS: "linux"})
		m.ctd = append(m.ctd, res)
		if res.HostsTOML {
			anyTOML = true
		}
		if !res.HostsTOML || res.DecodeErr != nil || res.Fallback {
			active = false
		}
		if res.HostsTOML && res.DecodeErr == nil {
			if m.referenced == nil {
				m.referenced = map[string]bool{}
			}
			for _, h := range res.Hosts {
				for _, c := range h.CAFiles {
					m.referenced[logical(c)] = true
				}
				for _, c := range h.ClientPairs {
					m.referenced[logical(c[0])] = true
					if c[1] != "" {
						m.referenced[logical(c[1])] = true
					}
				}
			}
		}
	}
	m.tomlActive = active && anyTOML && m.rules == rulesContainerd
	if m.rules == rulesContainerd && m.flat == nil && !m.tomlActive && len(m.ctd) > 0 {
		// containerd's loadCertFiles fallback: the flat view of the files.
		c := m.ctd[0]
		res := loader.Result{Dir: c.Dir, Err: c.Err}
		if len(c.Hosts) > 0 {
			res.TLS = c.Hosts[len(c.Hosts)-1].TLS
		}
		m.flat = &res
	}
	return m
}

// caFile is the model's view of a .crt (logical path p): whether the
// loader read it, and what it added.
func (m *dirModel) caFile(p string) (loader.CAFile, bool) {
	if m.flat == nil {
		return loader.CAFile{}, false
	}
	for _, c := range m.flat.CAs {
		if logical(c.Path) == p {
			return c, true
		}
	}
	return loader.CAFile{}, false
}

// otherCAsLoad reports whether a CA file other than p adds certificates.
func (m *dirModel) otherCAsLoad(p string) bool {
	if m.flat == nil {
		return false
	}
	for _, c := range m.flat.CAs {
		if logical(c.Path) != p && len(c.Certs) > 0 {
			return true
		}
	}
	return false
}

// checkHostsTOML reports what containerd does with a hosts.toml: drops it
// (decode or validation error, with containerd's text), fails pulls
// (TLS file errors), or ignores some hosts (2.x) — per containerd version
// where they differ — and checks the material it loads.
func (r *runner) checkHostsTOML(dir string, m *dirModel) {
	p := path.Join(dir, layout.HostsTOML)
	fi, _ := r.readFile(p)
	if fi.Problem != "" {
		r.add(catalog.IDFileUnreadable, r.disp(p), fmt.Sprintf("%s %s", r.disp(p), fi.Problem), fmt.Sprintf("replace %s with a regular file", r.q(p)), nil)
		return
	}
	type verMsg struct {
		ver  string
		id   string
		msg  string
		fix  string
		none bool
	}
	var msgs []verMsg
	docs := "see https://github.com/containerd/containerd/blob/main/docs/hosts.md"
	for _, res := range m.ctd {
		if !res.HostsTOML {
			continue
		}
		vm := verMsg{ver: res.Version.String()}
		switch {
		case res.DecodeErr != nil:
			vm.id = catalog.IDHostsTOMLBroken
			vm.msg = fmt.Sprintf("%s is dropped: containerd logs \"failed to decode %s\" (%s) and falls back to the .crt/.cert/.key files in %s", r.disp(p), r.disp(p), res.DecodeErr.Error(), r.disp(dir))
			vm.fix = fmt.Sprintf("fix %s: %s (%s)", r.q(p), res.DecodeErr.Error(), docs)
		case res.Err != nil:
			vm.id = catalog.IDHostsTOMLBroken
			vm.msg = fmt.Sprintf("%s is read, but containerd cannot load the TLS files it names, so every pull through it fails with: %s", r.disp(p), res.Err.Error())
			vm.fix = fmt.Sprintf("correct the ca/client entries in %s (relative paths are relative to %s) or the files they name", r.q(p), r.q(dir))
		case len(res.DroppedHosts) > 0:
			vm.id = catalog.IDHostsTOMLHostDropped
			vm.msg = fmt.Sprintf("containerd 2.x ignores %s in %s: it is written as an inline table or with dotted keys, and containerd only uses hosts declared as [host.\"…\"] tables", quoteList(res.DroppedHosts), r.disp(p))
			vm.fix = fmt.Sprintf("rewrite each host in %s as a table: [host.%q] followed by its keys", r.q(p), res.DroppedHosts[0])
		default:
			vm.none = true
		}
		msgs = append(msgs, vm)
	}
	// Every version drops the file (with its own decoder's text): one
	// finding naming each text.
	allDecode := len(msgs) > 1
	for _, res := range m.ctd {
		if res.HostsTOML && res.DecodeErr == nil {
			allDecode = false
		}
	}
	if allDecode && msgs[0].msg != msgs[1].msg {
		var texts []string
		for _, res := range m.ctd {
			if res.HostsTOML {
				texts = append(texts, fmt.Sprintf("%s: %s", res.Version, res.DecodeErr.Error()))
			}
		}
		r.add(catalog.IDHostsTOMLBroken, r.disp(p),
			fmt.Sprintf("%s is dropped by every containerd version, which logs \"failed to decode %s\" (%s) and falls back to the .crt/.cert/.key files in %s", r.disp(p), r.disp(p), strings.Join(texts, "; "), r.disp(dir)),
			fmt.Sprintf("fix %s (%s)", r.q(p), docs), map[string]string{"containerd": "all"})
		msgs = nil
	}
	same := true
	for _, vm := range msgs[min(1, len(msgs)):] {
		if vm.msg != msgs[0].msg || vm.none != msgs[0].none {
			same = false
		}
	}
	var fine []string
	for _, vm := range msgs {
		if vm.none {
			fine = append(fine, vm.ver)
		}
	}
	for i, vm := range msgs {
		if vm.none || (same && i > 0) {
			continue
		}
		msg := vm.msg
		if !same {
			msg = "with " + vm.ver + ": " + msg
			if len(fine) > 0 {
				msg += fmt.Sprintf(" (%s reads it)", strings.Join(fine, " and "))
			}
		}
		r.add(vm.id, r.disp(p), msg, vm.fix, map[string]string{"containerd": vm.ver})
	}
	// The material containerd loads, checked once per file.
	seen := map[string]bool{}
	for _, res := range m.ctd {
		if !res.HostsTOML || res.DecodeErr != nil {
			continue
		}
		for _, h := range res.Hosts {
			for _, ca := range h.TLS.CAs {
				lp := logical(ca.Path)
				if seen[lp] || len(ca.Certs) == 0 {
					continue
				}
				seen[lp] = true
				r.caFile(r.load(lp))
			}
			for _, c := range h.TLS.Clients {
				lc, lk := logical(c.Cert), logical(c.Key)
				if seen[lc+"\x00"+lk] {
					continue
				}
				seen[lc+"\x00"+lk] = true
				certF := r.load(lc)
				keyF := certF
				if lk != lc {
					keyF = r.load(lk)
				}
				r.pairFiles(certF, keyF, useClient)
			}
		}
	}
}

// hostsTOMLUnused reports .crt and .cert files containerd does not read
// because a hosts.toml that does not name them is in effect.
func (r *runner) hostsTOMLUnused(dir string, entries []string, m *dirModel) {
	for _, n := range entries {
		ext := path.Ext(n)
		if ext != layout.ExtCA && ext != layout.ExtCert {
			continue
		}
		p := fsutil.Join(dir, n)
		if m.referenced[p] {
			continue
		}
		entry := fmt.Sprintf("ca = %q", n)
		if ext == layout.ExtCert {
			entry = fmt.Sprintf("client = [[%q, %q]]", n, strings.TrimSuffix(n, ext)+layout.ExtKey)
		}
		r.add(catalog.IDHostsTOMLFileUnused, r.disp(p),
			fmt.Sprintf("%s is not loaded: containerd reads %s, which does not name it, and reads the .crt/.cert/.key files only when there is no hosts.toml", r.disp(p), r.disp(path.Join(dir, layout.HostsTOML))),
			fmt.Sprintf("add %s to the [host.\"https://…\"] table in %s, or remove %s", entry, r.q(path.Join(dir, layout.HostsTOML)), r.q(p)),
			map[string]string{"hostsToml": r.disp(path.Join(dir, layout.HostsTOML))})
	}
}

func quoteList(s []string) string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	for i := range s {
		s[i] = fmt.Sprintf("%q", s[i])
	}
	return strings.Join(s, ", ")
}

func orSame(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

// rootReferences collects the files named by the hosts.toml of every
// registry directory under root (logical paths), for every containerd
// version considered.
func (r *runner) rootReferences(root string) map[string]bool {
	refs := map[string]bool{}
	names, err := r.readDirNames(root)
	if err != nil {
		return refs
	}
	t := r.modelTree()
	for _, n := range names {
		dir := path.Join(root, n)
		if !r.stat(path.Join(dir, layout.HostsTOML)).Exists {
			continue
		}
		for _, v := range r.containerdVersions() {
			for _, p := range loader.ContainerdReferences(t, fsPath(dir), v) {
				refs[logical(p)] = true
			}
		}
	}
	return refs
}

// modelFS is the doctor's file system as the loader models read it while
// one registry directory is scanned: through the directory's own root
// (one openat per file), with the directory listing the scan already has,
// and with every file read once — the doctor's own checks reuse what the
// model read (runner.readFile consults the cache).
type modelFS struct {
	r     *runner
	dir   string // logical
	names []string
	mu    sync.Mutex
	// cache is what was read, by logical path: a registry directory
	// holds a few files, so a slice searched in order (a map costs a
	// kilobyte per directory).
	cache []cachedRead
}

// cached is what the model read at logical path p ("ok" false when not).
func (m *modelFS) cached(p string) (cachedRead, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.cache {
		if c.path == p {
			return c, true
		}
	}
	return cachedRead{}, false
}

func (m *modelFS) RefusesSpecialFiles() {}

func (m *modelFS) resolve(name string) (fs.FS, string) { return m.r.resolve(logical(name)) }

func (m *modelFS) Open(name string) (fs.File, error) {
	fsys, n := m.resolve(name)
	return fsys.Open(n)
}

func (m *modelFS) Stat(name string) (fs.FileInfo, error) {
	fsys, n := m.resolve(name)
	return fs.Stat(fsys, n)
}

func (m *modelFS) ReadFile(name string) ([]byte, error) {
	lp := logical(name)
	var fi fileInfo
	var data []byte
	if c, ok := m.cached(lp); ok {
		fi, data = c.fi, c.data // each file of the directory is read once
	} else if fi, data = m.r.readFile(lp); dirOf(lp) == m.dir {
		m.mu.Lock()
		m.cache = append(m.cache, cachedRead{path: lp, fi: fi, data: data})
		m.mu.Unlock()
	}
	switch {
	case !fi.Exists:
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
	case fi.Problem != "" && fi.Mode.IsDir():
		return nil, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	case fi.Problem != "":
		return nil, fmt.Errorf("%s %s", lp, fi.Problem)
	}
	return data, nil
}

func (m *modelFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if logical(name) != m.dir || m.names == nil {
		fsys, n := m.resolve(name)
		return fs.ReadDir(fsys, n)
	}
	out := make([]fs.DirEntry, len(m.names))
	es := make([]lazyEntry, len(m.names))
	for i, n := range m.names {
		es[i] = lazyEntry{m: m, name: n}
		out[i] = &es[i]
	}
	return out, nil
}

// attach makes the runner's reads in the directory use what the model
// read; the returned function detaches it.
func (m *modelFS) attach() func() {
	m.r.models.Store(m.dir, m)
	return func() { m.r.models.Delete(m.dir) }
}

// lazyEntry is a directory entry whose type is looked up only when asked
// (the classic loader needs names only).
type lazyEntry struct {
	m    *modelFS
	name string
}

func (e lazyEntry) Name() string { return e.name }
func (e lazyEntry) info() (fs.FileInfo, error) {
	fsys, n := e.m.resolve(path.Join(fsPath(e.m.dir), e.name))
	if l, ok := fsys.(interface {
		Lstat(string) (fs.FileInfo, error)
	}); ok {
		return l.Lstat(n)
	}
	return fs.Stat(fsys, n)
}
func (e lazyEntry) IsDir() bool {
	fi, err := e.info()
	return err == nil && fi.IsDir()
}
func (e lazyEntry) Type() fs.FileMode {
	fi, err := e.info()
	if err != nil {
		return 0
	}
	return fi.Mode().Type()
}
func (e lazyEntry) Info() (fs.FileInfo, error) { return e.info() }

type cachedRead struct {
	path string // logical
	fi   fileInfo
	data []byte
	mat  *pki.Material // pki.Sniff(data), once asked for
}

// keyPair is tls.X509KeyPair for the model of one registry directory,
// without parsing twice what the doctor's checks parse anyway: when both
// inputs are reads this directory's model made (the same bytes, by
// identity, not by content: an identical file elsewhere is parsed again),
// their pki.Sniff parse — which runner.load then reuses — gives the
// certificates and the key. Only the plain case is taken from it (the
// certificate file nothing but CERTIFICATE blocks that parse, the key
// file one unencrypted private key of a type crypto/tls accepts, the two
// matching); anything else is tls.X509KeyPair itself, for its exact
// answer and error text.
func (m *modelFS) keyPair(certPEM, keyPEM []byte) (tls.Certificate, error) {
	mc, mk := m.material(certPEM), m.material(keyPEM)
	if c, ok := plainKeyPair(mc, mk); ok {
		return c, nil
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// certsFromPEM is what AppendCertsFromPEM adds from a CA file of this
// directory the doctor has parsed (data is that read, by identity): when
// the file is nothing but CERTIFICATE blocks without headers that all
// parse, it adds them all, in order; anything else is left to the
// loader's own decoding.
func (m *modelFS) certsFromPEM(data []byte) ([]*x509.Certificate, bool) {
	mat := m.material(data)
	if mat == nil || mat.Encoding != pki.EncPEM || mat.PEMHeaders || len(mat.BadBlocks) > 0 || len(mat.Certs) == 0 || len(mat.Certs) != len(mat.PEMTypes) {
		return nil, false
	}
	for _, t := range mat.PEMTypes {
		if t != "CERTIFICATE" {
			return nil, false
		}
	}
	return append([]*x509.Certificate(nil), mat.Certs...), true
}

// plainKeyPair is what tls.X509KeyPair returns for a certificate file
// parsed as mc and a key file parsed as mk, when that is certain and a
// success; ok is false otherwise.
func plainKeyPair(mc, mk *pki.Material) (tls.Certificate, bool) {
	if mc == nil || mk == nil || x509KeyPairNoLeaf {
		return tls.Certificate{}, false
	}
	if mc.Encoding != pki.EncPEM || len(mc.Certs) == 0 || len(mc.Certs) != len(mc.PEMTypes) || len(mc.BadBlocks) > 0 {
		return tls.Certificate{}, false
	}
	for _, t := range mc.PEMTypes {
		if t != "CERTIFICATE" {
			return tls.Certificate{}, false
		}
	}
	if mk.Encoding != pki.EncPEM || len(mk.PEMTypes) != 1 || len(mk.Keys) != 1 || len(mk.BadBlocks) > 0 || !strings.HasSuffix(mk.PEMTypes[0], "PRIVATE KEY") || mk.PEMTypes[0] == "ENCRYPTED PRIVATE KEY" {
		return tls.Certificate{}, false
	}
	leaf := mc.Certs[0]
	match := false
	switch priv := mk.Keys[0].(type) {
	case *rsa.PrivateKey:
		pub, ok := leaf.PublicKey.(*rsa.PublicKey)
		match = ok && priv.PublicKey.Equal(pub)
	case *ecdsa.PrivateKey:
		pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
		match = ok && priv.PublicKey.Equal(pub)
	case ed25519.PrivateKey:
		pub, ok := leaf.PublicKey.(ed25519.PublicKey)
		match = ok && priv.Public().(ed25519.PublicKey).Equal(pub)
	}
	if !match {
		return tls.Certificate{}, false
	}
	c := tls.Certificate{PrivateKey: mk.Keys[0], Leaf: leaf}
	for _, x := range mc.Certs {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c, true
}

// x509KeyPairNoLeaf: GODEBUG asks tls.X509KeyPair not to fill in Leaf,
// which plainKeyPair does; it then leaves every pair to crypto/tls.
var x509KeyPairNoLeaf = strings.Contains(os.Getenv("GODEBUG"), "x509keypairleaf=0")

// material is pki.Sniff of data when data is (by identity) what the model
// read for a file of this directory, parsed once and kept with the read;
// nil otherwise.
func (m *modelFS) material(data []byte) *pki.Material {
	if len(data) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.cache {
		c := &m.cache[i]
		if len(c.data) == len(data) && &c.data[0] == &data[0] {
			if c.mat == nil {
				c.mat = pki.Sniff(data)
			}
			return c.mat
		}
	}
	return nil
}

// sniff is pki.Sniff of what the runner read at logical path p, parsed
// once: a parse the directory's model already made is reused.
func (r *runner) sniff(p string, data []byte) *pki.Material {
	if len(data) > 0 {
		if m, ok := r.models.Load(dirOf(cleanPath(p))); ok {
			if mat := m.(*modelFS).material(data); mat != nil {
				return mat
			}
		}
	}
	return pki.Sniff(data)
}

// rulesNote says which loader's rules a certs.d root was judged by.
func rulesNote(sc *certsScan) string {
	switch {
	case sc.root.loader == loaderContainerd:
		return "containerd's hosts loader rules"
	case sc.root.containers:
		return "containers/image rules (the first of ~/.config/containers/certs.d/<host>, /etc/containers/certs.d/<host>, /etc/docker/certs.d/<host> that exists is the only one read)"
	case sc.dockerd.Rules == loader.RulesContainerd:
		return "containerd's rules (containerd image store: " + sc.dockerd.Why + ")"
	case sc.dockerd.Rules == loader.RulesMoby:
		return "moby's classic loader rules (" + sc.dockerd.Why + ")"
	}
	return "moby's classic loader rules (image store unknown: with Docker 29's containerd store containerd's rules apply; hosts.toml is checked with them)"
}
