// Package loader holds one model per registry TLS loader: what each loader
// reads from a certs.d / hosts.toml tree, what it skips and why, and the exact
// error text it returns. Each model is a pure function of an fs.FS (and the
// loader's version where behaviour differs); nothing else in docker-tls
// should know these file rules.
//
// The models are proven against the loaders' own code by the differential
// suite in scripts/oracle/registry (containerd's hosts.go, docker/docker's
// registry.ReadCertsDirectory, containers/image's tlsclientconfig).
package loader

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/pki/fsutil"
)

// Tree is the file tree a loader reads: FS rooted at the OS directory Root
// (normally "/"; a temporary directory in tests). Paths inside the model are
// fs.FS paths (slash-separated, unrooted); errors and evidence use OS paths
// as the loader prints them.
type Tree struct {
	FS   fs.FS
	Root string // OS path FS represents, e.g. "/" or `C:\`
	// ParseCert, when set, replaces x509.ParseCertificate (a caller that
	// already parsed the same bytes passes a cache; it must behave exactly
	// like x509.ParseCertificate).
	ParseCert func(der []byte) (*x509.Certificate, error)
	// KeyPair, when set, replaces tls.X509KeyPair (a caller that already
	// parsed the same reads passes its parse; it must return exactly what
	// tls.X509KeyPair returns).
	KeyPair func(certPEM, keyPEM []byte) (tls.Certificate, error)
	// CertsFromPEM, when set, may answer for a CA file what
	// AppendCertsFromPEM adds from data (ok true), from a parse the
	// caller already made of the same read; ok false leaves it to the
	// loader's own decoding.
	CertsFromPEM func(data []byte) (certs []*x509.Certificate, ok bool)
}

func (t Tree) x509KeyPair(certPEM, keyPEM []byte) (tls.Certificate, error) {
	if t.KeyPair != nil {
		return t.KeyPair(certPEM, keyPEM)
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// OSPath renders an fs path as the loader would name it.
func (t Tree) OSPath(p string) string {
	if p == "." || p == "" {
		return filepath.Clean(t.Root)
	}
	return filepath.Join(t.Root, filepath.FromSlash(p))
}

// FSPath maps an absolute OS path to an fs path. ok is false when the path is
// outside Root (the model cannot see it).
func (t Tree) FSPath(osPath string) (string, bool) {
	root := filepath.Clean(t.Root)
	p := filepath.Clean(osPath)
	if p == root {
		return ".", true
	}
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// osErr rewrites an fs error about fs path p so its path is p's OS path,
// as the loaders' os.ReadFile / os.ReadDir errors print it.
func (t Tree) osErr(err error, p string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		op := pe.Op
		if op == "openat" {
			op = "open" // an os.Root-based FS; the loaders use os.Open
		}
		return &fs.PathError{Op: op, Path: t.OSPath(p), Err: pe.Err}
	}
	return err
}

// readFile reads a file as the loaders' os.ReadFile does, except that a
// FIFO, device or socket, or a file larger than fsutil.MaxReadSize, is
// refused (the loader would block, read a device or exhaust memory; the
// model must not).
func (t Tree) readFile(p string) ([]byte, error) {
	if _, checked := t.FS.(CheckedFS); checked {
		// the FS refuses special and oversized files itself
	} else if fi, err := fs.Stat(t.FS, p); err == nil {
		if !fi.Mode().IsRegular() && !fi.IsDir() {
			return nil, fmt.Errorf("%s is a %s, expected a regular file", t.OSPath(p), fsutil.DescribeMode(fi.Mode()))
		}
		if fi.Mode().IsRegular() && fi.Size() > fsutil.MaxReadSize {
			return nil, fmt.Errorf("%s is %d bytes, larger than the %d bytes certificate material can be", t.OSPath(p), fi.Size(), fsutil.MaxReadSize)
		}
	}
	b, err := fs.ReadFile(t.FS, p)
	if err != nil {
		return nil, t.osErr(err, p)
	}
	return b, nil
}

func (t Tree) readDir(p string) ([]fs.DirEntry, error) {
	es, err := fs.ReadDir(t.FS, p)
	if err != nil {
		return es, t.osErr(err, p)
	}
	return es, nil
}

func (t Tree) stat(p string) (fs.FileInfo, error) {
	fi, err := fs.Stat(t.FS, p)
	if err != nil {
		return nil, t.osErr(err, p)
	}
	return fi, nil
}

// CAFile is one file a loader fed to CertPool.AppendCertsFromPEM, and the
// certificates that call added (possibly none: the file was then silently
// useless, or — for containerd's hosts.toml — an error).
type CAFile struct {
	Path  string // fs path
	Certs []*x509.Certificate
	// Skipped explains why the file added nothing (empty when Certs is not).
	Skipped string
}

// ClientPair is a client certificate the loader appended to
// tls.Config.Certificates.
type ClientPair struct {
	Cert, Key string // fs paths; Key == Cert for containerd's combined PEM
	Pair      tls.Certificate
	Leaf      *x509.Certificate
	// CertData and KeyData are the bytes the loader read (for a probe
	// that builds the same tls.Config); never printed.
	CertData, KeyData []byte
}

// Skip is a file the loader lists but does not load, and why.
type Skip struct {
	Path   string
	Reason string
}

// TLS is what one loader run puts into a tls.Config.
type TLS struct {
	// SystemRoots is true when the loader initialised RootCAs from the
	// system pool (the custom CAs are then added to it).
	SystemRoots bool
	CAs         []CAFile
	Clients     []ClientPair
	Skipped     []Skip
	// SkipVerify is set when the loader sets InsecureSkipVerify explicitly.
	SkipVerify *bool
}

// RootsPEM is Roots as a PEM bundle.
func (t *TLS) RootsPEM() []byte {
	var out []byte
	for _, c := range t.Roots() {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// Roots is every certificate the loader added to RootCAs, in order.
func (t *TLS) Roots() []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range t.CAs {
		out = append(out, c.Certs...)
	}
	return out
}

// Loaded reports whether the fs path p is read by the loader (as a CA file
// or half of a client pair).
func (t *TLS) Loaded(p string) bool {
	for _, c := range t.CAs {
		if c.Path == p {
			return true
		}
	}
	for _, c := range t.Clients {
		if c.Cert == p || c.Key == p {
			return true
		}
	}
	return false
}

// appendPEM mirrors crypto/x509.(*CertPool).AppendCertsFromPEM: every PEM
// block of type CERTIFICATE without headers that x509.ParseCertificate
// accepts is added; anything else is skipped silently.
func (t Tree) appendPEM(data []byte) []*x509.Certificate {
	if t.CertsFromPEM != nil {
		if certs, ok := t.CertsFromPEM(data); ok {
			return certs
		}
	}
	parse := t.ParseCert
	if parse == nil {
		parse = x509.ParseCertificate
	}
	var out []*x509.Certificate
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" || len(b.Headers) != 0 {
			continue
		}
		c, err := parse(b.Bytes)
		if err != nil {
			continue
		}
		out = append(out, c)
	}
	return out
}

// whyNoCerts says why AppendCertsFromPEM added nothing from data.
func whyNoCerts(data []byte) string {
	if len(data) == 0 {
		return "empty file"
	}
	rest := data
	sawPEM := false
	for len(rest) > 0 {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		sawPEM = true
		switch {
		case b.Type == "TRUSTED CERTIFICATE":
			return "PEM block \"TRUSTED CERTIFICATE\" (OpenSSL's trusted format): Go only reads \"CERTIFICATE\""
		case b.Type == "CERTIFICATE" && len(b.Headers) != 0:
			return "CERTIFICATE block with PEM headers: Go skips it"
		case b.Type == "CERTIFICATE":
			if _, err := x509.ParseCertificate(b.Bytes); err != nil {
				return "CERTIFICATE block does not parse: " + err.Error()
			}
		}
	}
	if !sawPEM {
		if _, err := x509.ParseCertificate(data); err == nil {
			return "DER (binary) certificate: Go only reads PEM"
		}
		return "no PEM data"
	}
	return "no CERTIFICATE block (other PEM types only)"
}

func leafOf(c tls.Certificate) *x509.Certificate {
	if c.Leaf != nil {
		return c.Leaf
	}
	if len(c.Certificate) == 0 {
		return nil
	}
	l, _ := x509.ParseCertificate(c.Certificate[0])
	return l
}

// Fingerprint is the hex SHA-256 of a DER certificate.
func Fingerprint(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

func joinFS(dir, name string) string { return fsutil.Join(dir, name) }

// CheckedFS is an fs.FS whose ReadFile itself refuses FIFOs, devices,
// sockets and oversized files; the model then does not stat first.
type CheckedFS interface {
	fs.ReadFileFS
	RefusesSpecialFiles()
}

// OSTree is the OS file system below root as a Tree. Unlike os.DirFS it
// accepts any name the OS does (a name that is not UTF-8 included), as the
// loaders, which use os.ReadFile, do.
func OSTree(root string) Tree { return Tree{FS: osFS(root), Root: root} }

type osFS string

func (o osFS) path(name string) string {
	if name == "." {
		return string(o)
	}
	return filepath.Join(string(o), filepath.FromSlash(name))
}

func (o osFS) Open(name string) (fs.File, error)          { return os.Open(o.path(name)) }
func (o osFS) Stat(name string) (fs.FileInfo, error)      { return os.Stat(o.path(name)) }
func (o osFS) ReadFile(name string) ([]byte, error)       { return os.ReadFile(o.path(name)) }
func (o osFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(o.path(name)) }

// WithFiles is t with files (fs path → content) written over it: the tree
// a planned install leaves, for running a loader on it before writing.
func WithFiles(t Tree, files map[string][]byte) Tree {
	dirs := map[string]map[string]bool{}
	for p := range files {
		d := path.Dir(p)
		if dirs[d] == nil {
			dirs[d] = map[string]bool{}
		}
		dirs[d][path.Base(p)] = true
	}
	t.FS = overlayFS{base: t.FS, files: files, dirs: dirs}
	return t
}

type overlayFS struct {
	base  fs.FS
	files map[string][]byte
	dirs  map[string]map[string]bool
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if _, ok := o.files[name]; ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("planned file: read it with ReadFile")}
	}
	return o.base.Open(name)
}

func (o overlayFS) ReadFile(name string) ([]byte, error) {
	if b, ok := o.files[name]; ok {
		return append([]byte(nil), b...), nil
	}
	return fs.ReadFile(o.base, name)
}

func (o overlayFS) Stat(name string) (fs.FileInfo, error) {
	if b, ok := o.files[name]; ok {
		return plannedInfo{name: path.Base(name), size: int64(len(b))}, nil
	}
	fi, err := fs.Stat(o.base, name)
	if err != nil && o.dirs[name] != nil {
		return plannedInfo{name: path.Base(name), dir: true}, nil
	}
	return fi, err
}

func (o overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	es, err := fs.ReadDir(o.base, name)
	planned := o.dirs[name]
	if err != nil && planned == nil {
		return es, err
	}
	var out []fs.DirEntry
	for _, e := range es {
		if !planned[e.Name()] {
			out = append(out, e)
		}
	}
	for n := range planned {
		out = append(out, fs.FileInfoToDirEntry(plannedInfo{name: n, size: int64(len(o.files[path.Join(name, n)]))}))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

type plannedInfo struct {
	name string
	size int64
	dir  bool
}

func (p plannedInfo) Name() string { return p.name }
func (p plannedInfo) Size() int64  { return p.size }
func (p plannedInfo) Mode() fs.FileMode {
	if p.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (p plannedInfo) ModTime() time.Time { return time.Time{} }
func (p plannedInfo) IsDir() bool        { return p.dir }
func (p plannedInfo) Sys() any           { return nil }
