package probe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker/go-connections/tlsconfig"
)

// Pair is a client certificate and key as files and bytes.
type Pair struct {
	CertFile, KeyFile string
	Cert, Key         []byte
}

// Client is the TLS material of the connecting side: the docker CLI for a
// daemon (from flags, environment or context), dockerd for a registry (from
// certs.d).
type Client struct {
	// TLS is false when the client speaks plain HTTP (DOCKER_HOST=tcp://…
	// without DOCKER_TLS_VERIFY, DOCKER_TLS, --tls or a TLS context).
	TLS bool
	// SkipVerify: the server certificate is not verified (--tls without
	// --tlsverify, a context with skip-tls-verify).
	SkipVerify bool
	// CA is the trusted CA bundle (PEM) and where it came from. For a daemon
	// the docker CLI trusts only it; for a registry dockerd adds it to the
	// system roots (SystemRoots).
	CA          []byte
	CAFile      string
	SystemRoots bool
	// Pairs are the client certificates, in the order Go considers them.
	Pairs []Pair
	// Source says where the material came from, for messages.
	Source string
	// Context is the docker context the material belongs to ("" for the
	// default context): fixes then name it.
	Context string
	// ConfigErr is an error the client itself meets before connecting (a
	// missing ca.pem): the probe reports it and connects nowhere.
	ConfigErr error

	prep *prepared
}

// prepared is the parsed TLS configuration, shared by the copies of a
// Client probing many targets (the probe clones it per connection).
type prepared struct {
	role   Role
	cfg    *tls.Config
	chains [][]*x509.Certificate
	err    error
}

// Prepare parses the client's material once, so that probing many targets
// with copies of c does not parse ca.pem and the key pair per target.
func (c *Client) Prepare(role Role) {
	p := &prepared{role: role}
	p.cfg, p.chains, p.err = c.tlsConfig(role)
	c.prep = p
}

func (c *Client) config(role Role) (*tls.Config, [][]*x509.Certificate, error) {
	if p := c.prep; p != nil && p.role == role {
		return p.cfg, p.chains, p.err
	}
	return c.tlsConfig(role)
}

// ConfigError is a client configuration the docker client itself would
// refuse before connecting.
type ConfigError struct {
	File string
	Err  error
}

func (e *ConfigError) Error() string { return e.Err.Error() }

// tlsConfig builds the client's TLS configuration the way docker does:
// go-connections' defaults (TLS 1.2 minimum, Docker's cipher list), an
// exclusive pool from ca.pem for the CLI, system roots plus certs.d CAs for
// dockerd's registry client, and the client pairs.
func (c *Client) tlsConfig(role Role) (*tls.Config, [][]*x509.Certificate, error) {
	cfg := tlsconfig.ClientDefault()
	if c.SkipVerify {
		cfg.InsecureSkipVerify = true
	}
	if len(c.CA) > 0 && !c.SkipVerify {
		var pool *x509.CertPool
		if c.SystemRoots {
			if sys, err := x509.SystemCertPool(); err == nil && sys != nil {
				pool = sys
			}
		}
		if pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(c.CA) && role == RoleDaemon {
			return nil, nil, &ConfigError{File: c.CAFile, Err: errors.New("failed to retrieve context tls info: ca.pem seems invalid")}
		}
		cfg.RootCAs = pool
	}
	var chains [][]*x509.Certificate
	for _, p := range c.Pairs {
		pair, err := tls.X509KeyPair(p.Cert, p.Key)
		if err != nil {
			if role == RoleRegistry {
				return nil, nil, &ConfigError{File: p.CertFile, Err: fmt.Errorf("failed to load keypair for %s: %w", p.CertFile, err)}
			}
			return nil, nil, &ConfigError{File: p.CertFile, Err: fmt.Errorf("failed to retrieve context tls info: %w", err)}
		}
		cfg.Certificates = append(cfg.Certificates, pair)
		var chain []*x509.Certificate
		for _, der := range pair.Certificate {
			if crt, err := x509.ParseCertificate(der); err == nil {
				chain = append(chain, crt)
			}
		}
		chains = append(chains, chain)
	}
	return cfg, chains, nil
}

// ClientFromCertsDir reads a certs.d/<host:port> directory with the classic
// moby loader's rules (registry/registry.go loadTLSConfig): files in name
// order, *.crt appended to the system roots (non-PEM ones silently
// skipped), *.cert with the *.key of the same base name as client pairs,
// and the loader's own errors for a .cert without .key or a .key without
// .cert. Files are read with fsutil.ReadFile: a FIFO, device or oversized
// file is an error, never a hang. A missing directory is no error: dockerd then uses system roots.
func ClientFromCertsDir(dir string) (Client, error) {
	c := Client{TLS: true, SystemRoots: true, Source: dir}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		c.Source = dir + " (missing: system roots only)"
		return c, nil
	}
	if err != nil {
		return c, &ConfigError{File: dir, Err: err}
	}
	var cas []string
	for _, e := range entries {
		name := e.Name()
		full := filepath.Join(dir, name)
		switch filepath.Ext(name) {
		case ".crt":
			data, err := fsutil.ReadFile(full)
			if err != nil {
				return c, &ConfigError{File: full, Err: err}
			}
			c.CA = append(c.CA, data...)
			if len(c.CA) > 0 && c.CA[len(c.CA)-1] != '\n' {
				c.CA = append(c.CA, '\n')
			}
			cas = append(cas, name)
		case ".cert":
			keyName := strings.TrimSuffix(name, ".cert") + ".key"
			keyPath := filepath.Join(dir, keyName)
			if _, err := os.Stat(keyPath); err != nil {
				return c, &ConfigError{File: full, Err: fmt.Errorf("missing key %s for client certificate %s. CA certificates must use the extension .crt", keyName, name)}
			}
			cert, err := fsutil.ReadFile(full)
			if err != nil {
				return c, &ConfigError{File: full, Err: err}
			}
			key, err := fsutil.ReadFile(keyPath)
			if err != nil {
				return c, &ConfigError{File: keyPath, Err: err}
			}
			c.Pairs = append(c.Pairs, Pair{CertFile: full, KeyFile: keyPath, Cert: cert, Key: key})
		case ".key":
			certName := strings.TrimSuffix(name, ".key") + ".cert"
			if _, err := os.Stat(filepath.Join(dir, certName)); err != nil {
				return c, &ConfigError{File: full, Err: fmt.Errorf("missing client certificate %s for key %s", certName, name)}
			}
		}
	}
	if len(cas) > 0 {
		c.CAFile = filepath.Join(dir, cas[0])
		if len(cas) > 1 {
			c.CAFile = dir + "/{" + strings.Join(cas, ",") + "}"
		}
	}
	return c, nil
}
