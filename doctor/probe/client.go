package probe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/docker-tls/docker-tls/pki/loader"
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
	// IssueCA and IssueCAKey are the CA certificate and key files that
	// sign a re-issued server certificate the client will trust (the
	// client's CA and its key, when the caller found them).
	IssueCA, IssueCAKey string
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
	// ContainerdStore: the client is a dockerd with the containerd image
	// store, which reaches registries through containerd's resolver: no
	// /v2/ ping, and its errors read `failed to do request: Head
	// "https://HOST/v2/REPO/blobs/sha256:…": …` (a push's first request).
	ContainerdStore bool
	// Insecure says why dockerd treats the registry as insecure ("" when
	// it does not): it then skips verification (SkipVerify) and, when the
	// registry answers plain HTTP, falls back to it.
	Insecure string
	// LegacyErrors: the dockerd is 20.10 or older, whose vendored
	// distribution client words a registry's non-JSON error body as a JSON
	// parse error ("error parsing HTTP 400 response body: …"); newer ones
	// say "unknown: BODY".
	LegacyErrors bool
	// Mirror is the registry-mirrors entry (as dockerd keeps it) when the
	// registry is a pull-through mirror of Docker Hub: dockerd reaches it
	// only for Docker Hub's images, with no TLS when it is http://, and
	// a failing mirror does not fail the pull (no docker line to quote).
	Mirror string
	// MirrorFallback is how the pull goes on when the mirror fails, for
	// the cause ("dockerd logs … and tries the next mirror, then Docker
	// Hub").
	MirrorFallback string
	// MirrorCertsDir is the certs.d directory dockerd reads for the
	// mirror when it is not the mirror's own (the containerd image store
	// reads docker.io's).
	MirrorCertsDir string

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
// moby loader's rules, through the model in pki/loader (MobyCertsDir): the
// same files loaded, the same silent skips, the loader's own errors. A
// FIFO or device is an error, never a hang. A missing directory is no
// error: dockerd then uses system roots.
func ClientFromCertsDir(dir string) (Client, error) {
	t := loader.OSTree(dir)
	res := loader.MobyCertsDir(t, ".", loader.Moby24)
	c := ClientFromLoader(t, &res.TLS, dir)
	if res.Dir == "" && res.Err == nil {
		c.Source = dir + " (missing: system roots only)"
		return c, nil
	}
	if res.Err != nil {
		return c, &ConfigError{File: dir, Err: res.Err}
	}
	return c, nil
}

// ClientFromLoader is the client a loader model says a registry client
// builds: the CAs it added (on top of the system roots when the loader
// uses them), its client pairs in order. A loader that sets no CA keeps
// the system roots.
func ClientFromLoader(t loader.Tree, m *loader.TLS, source string) Client {
	c := Client{TLS: true, SystemRoots: true, Source: source}
	if m.SkipVerify != nil {
		c.SkipVerify = *m.SkipVerify
	}
	c.CA = m.RootsPEM()
	var names []string
	for _, f := range m.CAs {
		if len(f.Certs) > 0 {
			names = append(names, t.OSPath(f.Path))
		}
	}
	switch len(names) {
	case 0:
	case 1:
		c.CAFile = names[0]
	default:
		c.CAFile = strings.Join(names, ", ")
	}
	for _, p := range m.Clients {
		c.Pairs = append(c.Pairs, Pair{CertFile: t.OSPath(p.Cert), KeyFile: t.OSPath(p.Key), Cert: p.CertData, Key: p.KeyData})
	}
	return c
}
