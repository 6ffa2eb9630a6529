package loader

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
)

// MobyVersion selects the wording of moby's classic certs.d reader.
type MobyVersion int

const (
	// Moby20 is docker/docker v20.10 (registry/registry.go
	// ReadCertsDirectory, strings.HasSuffix matching, capitalised
	// "Missing client certificate").
	Moby20 MobyVersion = 20
	// Moby24 is docker/docker v24.0 … v28.5 registry/registry.go
	// loadTLSConfig, and moby v2 (Docker 29) daemon/pkg/registry/registry.go
	// loadTLSConfig, which is identical (filepath.Ext in a switch).
	Moby24 MobyVersion = 24
)

// Result is one loader run over one host directory.
type Result struct {
	Dir string // fs path of the directory read ("" when none)
	TLS
	// Err is the loader's error, with the loader's exact text; a pull
	// through this host fails with it. Files after the failing one are not
	// read.
	Err error
}

// MobyHostDir is the certs.d directory the classic loader reads for a
// registry host (docker/docker registry.hostCertsDir): certsDir joined with
// host[:port] exactly; on Windows cleanPath strips every ':'
// (registry/config_windows.go cleanPath).
func MobyHostDir(certsDir, host, goos string) string {
	if goos == "windows" {
		host = strings.ReplaceAll(host, ":", "")
	}
	return path.Join(certsDir, host)
}

// MobyCertsDir models docker/docker's classic certs.d reader over the fs
// directory dir: v28.5.2 registry/registry.go ReadCertsDirectory →
// loadTLSConfig (and v20.10 ReadCertsDirectory where the wording differs).
//
// Entries are read in os.ReadDir's (alphabetical) order. "*.crt" is fed to
// RootCAs.AppendCertsFromPEM, whose result is ignored, so a non-PEM, DER,
// "TRUSTED CERTIFICATE" or empty .crt is skipped silently; the first .crt
// turns on the system pool. "*.cert" needs a sibling "<base>.key" (any
// directory entry of that name) and is loaded with tls.LoadX509KeyPair;
// "*.key" needs a sibling "<base>.cert". Everything else is ignored. A
// missing directory loads nothing; any other error stops the loader.
func MobyCertsDir(t Tree, dir string, v MobyVersion) Result {
	r := Result{Dir: dir}
	es, err := t.readDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			r.Dir = ""
			return r
		}
		r.Err = err
		return r
	}
	for _, e := range es {
		name := e.Name()
		p := joinFS(dir, name)
		ext := filepath.Ext(name)
		if v < Moby24 {
			// v20.10 tests strings.HasSuffix(".crt"/".cert"/".key"): the
			// same set of names as filepath.Ext, as no suffix contains a dot
			// but its first byte.
			switch {
			case strings.HasSuffix(name, ".crt"):
				ext = ".crt"
			case strings.HasSuffix(name, ".cert"):
				ext = ".cert"
			case strings.HasSuffix(name, ".key"):
				ext = ".key"
			default:
				ext = ""
			}
		}
		switch ext {
		case ".crt":
			r.SystemRoots = true
			data, err := t.readFile(p)
			if err != nil {
				r.Err = err
				return r
			}
			r.CAs = append(r.CAs, t.caFile(p, data))
		case ".cert":
			keyName := name[:len(name)-5] + ".key"
			if !hasEntry(es, keyName) {
				if v < Moby24 {
					r.Err = fmt.Errorf("missing key %s for client certificate %s. Note that CA certificates should use the extension .crt", keyName, name)
				} else {
					r.Err = fmt.Errorf("missing key %s for client certificate %s. CA certificates must use the extension .crt", keyName, name)
				}
				return r
			}
			kp := joinFS(dir, keyName)
			pair, err := t.loadX509KeyPair(p, kp)
			if err != nil {
				r.Err = err
				return r
			}
			r.Clients = append(r.Clients, pair)
		case ".key":
			certName := name[:len(name)-4] + ".cert"
			if !hasEntry(es, certName) {
				if v < Moby24 {
					//lint:ignore ST1005 moby v20.10's own text, capital included
					r.Err = fmt.Errorf("Missing client certificate %s for key %s", certName, name)
				} else {
					r.Err = fmt.Errorf("missing client certificate %s for key %s", certName, name)
				}
				return r
			}
		default:
			r.Skipped = append(r.Skipped, Skip{Path: p, Reason: "not named *.crt, *.cert or *.key: the loader ignores it"})
		}
	}
	return r
}

func (t Tree) caFile(p string, data []byte) CAFile {
	c := CAFile{Path: p, Certs: t.appendPEM(data)}
	if len(c.Certs) == 0 {
		c.Skipped = whyNoCerts(data)
	}
	return c
}

// loadX509KeyPair is tls.LoadX509KeyPair over the tree: the certificate file
// is read first, then the key, then tls.X509KeyPair.
func (t Tree) loadX509KeyPair(certFile, keyFile string) (ClientPair, error) {
	c, err := t.readFile(certFile)
	if err != nil {
		return ClientPair{}, err
	}
	k, err := t.readFile(keyFile)
	if err != nil {
		return ClientPair{}, err
	}
	pair, err := t.x509KeyPair(c, k)
	if err != nil {
		return ClientPair{}, err
	}
	return ClientPair{Cert: certFile, Key: keyFile, Pair: pair, Leaf: leafOf(pair), CertData: c, KeyData: k}, nil
}

// hasEntry reports whether a directory listing holds name (both the moby
// and the containers/image reader look for a pair's other half this way).
func hasEntry(es []fs.DirEntry, name string) bool {
	for _, e := range es {
		if e.Name() == name {
			return true
		}
	}
	return false
}
