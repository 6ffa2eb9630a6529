package loader

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io/fs"
	"math/big"
	"path"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// tree is a small client setup: /home/u/.docker with ca/cert/key, contexts
// "prod" (TLS files) and "plain" (no TLS), config.json naming current.
func tree(t *testing.T, current string, extra map[string]string) fstest.MapFS {
	t.Helper()
	ca, cert, key := clientMaterial(t)
	m := fstest.MapFS{}
	put := func(p, data string) { m[strings.TrimPrefix(p, "/")] = &fstest.MapFile{Data: []byte(data), Mode: 0o600} }
	put("/home/u/.docker/ca.pem", ca)
	put("/home/u/.docker/cert.pem", cert)
	put("/home/u/.docker/key.pem", key)
	if current != "" {
		put("/home/u/.docker/config.json", `{"currentContext":"`+current+`"}`)
	}
	for name, host := range map[string]string{"prod": "tcp://prod.example:2376", "plain": "tcp://plain.example:2375"} {
		meta, tls := ContextDir("/home/u/.docker", name)
		data, _ := json.Marshal(map[string]any{"Name": name, "Endpoints": map[string]any{"docker": map[string]any{"Host": host}}})
		put(path.Join(meta, "meta.json"), string(data))
		if name == "prod" {
			put(path.Join(tls, "docker", "ca.pem"), ca)
			put(path.Join(tls, "docker", "cert.pem"), cert)
			put(path.Join(tls, "docker", "key.pem"), key)
		}
	}
	for p, data := range extra {
		if data == "\x00delete" {
			delete(m, strings.TrimPrefix(p, "/"))
			continue
		}
		put(p, data)
	}
	return m
}

var material struct {
	once          sync.Once
	ca, cert, key string
}

func clientMaterial(t *testing.T) (ca, cert, key string) {
	t.Helper()
	material.once.Do(func() {
		caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		now := time.Now()
		caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: now.Add(-time.Hour),
			NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		caDER, _ := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
		caCert, _ := x509.ParseCertificate(caDER)
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "client"}, NotBefore: now.Add(-time.Hour),
			NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		leafDER, _ := x509.CreateCertificate(rand.Reader, lt, caCert, &k.PublicKey, caKey)
		kDER, _ := x509.MarshalECPrivateKey(k)
		material.ca = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
		material.cert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}))
		material.key = string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kDER}))
	})
	return material.ca, material.cert, material.key
}

func env(kv ...string) func(string) string {
	m := map[string]string{"HOME": "/home/u"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func bp(b bool) *bool     { return &b }
func sp(s string) *string { return &s }
func resolve(fsys fs.FS, g func(string) string, f CLIFlags) CLIEndpoint {
	return ResolveCLI(CLIInput{FS: fsys, Getenv: g, Flags: f})
}

func TestContextOrder(t *testing.T) {
	fsys := tree(t, "plain", nil)
	cases := []struct {
		name  string
		env   func(string) string
		flags CLIFlags
		ctx   string
		from  string
	}{
		{"nothing set: currentContext", env(), CLIFlags{}, "plain", FromCurrentContext},
		{"DOCKER_CONTEXT over currentContext", env("DOCKER_CONTEXT", "prod"), CLIFlags{}, "prod", FromDockerContext},
		{"DOCKER_HOST over DOCKER_CONTEXT", env("DOCKER_CONTEXT", "prod", "DOCKER_HOST", "tcp://h:1"), CLIFlags{}, "default", FromDockerHost},
		{"-H over DOCKER_CONTEXT", env("DOCKER_CONTEXT", "prod"), CLIFlags{Hosts: []string{"tcp://h:1"}}, "default", FromHostFlag},
		{"--context over DOCKER_HOST", env("DOCKER_HOST", "tcp://h:1"), CLIFlags{Context: "prod"}, "prod", FromContextFlag},
	}
	for _, c := range cases {
		ep := resolve(fsys, c.env, c.flags)
		if ep.Context != c.ctx || ep.ContextFrom != c.from {
			t.Errorf("%s: context %q from %q, want %q from %q", c.name, ep.Context, ep.ContextFrom, c.ctx, c.from)
		}
	}
	nocfg := tree(t, "", nil)
	if ep := resolve(nocfg, env(), CLIFlags{}); ep.Context != "default" || ep.ContextFrom != FromDefault || ep.Host != "unix:///var/run/docker.sock" || ep.TLS {
		t.Errorf("no settings: %+v", ep)
	}
}

func TestDefaultContextTLS(t *testing.T) {
	fsys := tree(t, "", nil)
	// DOCKER_TLS_VERIFY=0 still verifies: the CLI checks only non-empty.
	ep := resolve(fsys, env("DOCKER_HOST", "tcp://h:2376", "DOCKER_TLS_VERIFY", "0"), CLIFlags{})
	if !ep.TLS || ep.SkipTLSVerify || !ep.ClientCert() || ep.CAFile != "/home/u/.docker/ca.pem" || ep.SystemRoots {
		t.Errorf("DOCKER_TLS_VERIFY=0: %+v", ep)
	}
	// --tlsverify=false turns TLS on without verification.
	ep = resolve(fsys, env("DOCKER_HOST", "tcp://h:2376"), CLIFlags{TLSVerify: bp(false)})
	if !ep.TLS || !ep.SkipTLSVerify {
		t.Errorf("--tlsverify=false: TLS %v skip %v", ep.TLS, ep.SkipTLSVerify)
	}
	// DOCKER_TLS alone: TLS without verification; --tls=false undoes it.
	if ep = resolve(fsys, env("DOCKER_HOST", "tcp://h:2376", "DOCKER_TLS", "1"), CLIFlags{}); !ep.TLS || !ep.SkipTLSVerify {
		t.Errorf("DOCKER_TLS: %+v", ep)
	}
	if ep = resolve(fsys, env("DOCKER_HOST", "tcp://h:2376", "DOCKER_TLS", "1"), CLIFlags{TLS: bp(false)}); ep.TLS {
		t.Errorf("DOCKER_TLS with --tls=false: TLS on")
	}
	// Plain: material is there but unused.
	if ep = resolve(fsys, env("DOCKER_HOST", "tcp://h:2376"), CLIFlags{}); ep.TLS || ep.CAFile != "" {
		t.Errorf("plain: %+v", ep)
	}
	// TLS with no host: the TLS default host.
	if ep = resolve(fsys, env(), CLIFlags{TLSVerify: bp(true)}); ep.Host != "tcp://localhost:2376" || ep.HostFrom != HostFromTLSDefault {
		t.Errorf("TLS default host: %q from %q", ep.Host, ep.HostFrom)
	}
	// Unix socket with TLS on: files read (and required), TLS not used.
	if ep = resolve(fsys, env("DOCKER_HOST", "unix:///var/run/docker.sock", "DOCKER_TLS_VERIFY", "1"), CLIFlags{}); ep.TLS || ep.CAFile == "" || ep.Err != nil {
		t.Errorf("socket with TLS: %+v", ep)
	}
}

func TestSchemelessHost(t *testing.T) {
	fsys := tree(t, "", nil)
	cases := map[string]string{
		"10.0.0.5:2376": "tcp://10.0.0.5:2376",
		"myhost":        "tcp://myhost:2375", // docker's default port for a bare host, even with TLS
		"tcp://":        "tcp://localhost:2375",
		":2376":         "tcp://localhost:2376",
		"[::1]:2376":    "tcp://[::1]:2376",
	}
	for in, want := range cases {
		ep := resolve(fsys, env("DOCKER_TLS_VERIFY", "1"), CLIFlags{Hosts: []string{in}})
		if ep.Host != want || ep.Err != nil {
			t.Errorf("-H %s: host %q (err %v), want %q", in, ep.Host, ep.Err, want)
		}
	}
	ep := resolve(fsys, env(), CLIFlags{Hosts: []string{"foo://x"}})
	if got, want := ep.DockerLine(), "Failed to initialize: unable to resolve docker endpoint: invalid bind address format: foo://x"; got != want {
		t.Errorf("bad scheme:\n got %s\nwant %s", got, want)
	}
}

func TestDroppedAndMissingFiles(t *testing.T) {
	// cert.pem missing: dropped silently, no client certificate.
	fsys := tree(t, "", map[string]string{"/home/u/.docker/cert.pem": "\x00delete"})
	ep := resolve(fsys, env("DOCKER_HOST", "tcp://h:2376", "DOCKER_TLS_VERIFY", "1"), CLIFlags{})
	if ep.Err != nil || ep.ClientCert() || len(ep.Dropped) != 1 || ep.Dropped[0] != "/home/u/.docker/cert.pem" || ep.KeyFile == "" {
		t.Errorf("dropped cert: %+v", ep)
	}
	// ca.pem missing: the CLI's own error, even with --tls (no verify).
	fsys = tree(t, "", map[string]string{"/home/u/.docker/ca.pem": "\x00delete"})
	for _, f := range []CLIFlags{{TLSVerify: bp(true)}, {TLS: bp(true)}} {
		ep = resolve(fsys, env("DOCKER_HOST", "tcp://h:2376"), f)
		if got, want := ep.DockerLine(), "Failed to initialize: unable to resolve docker endpoint: open /home/u/.docker/ca.pem: no such file or directory"; got != want {
			t.Errorf("missing ca.pem:\n got %s\nwant %s", got, want)
		}
	}
	// DOCKER_CERT_PATH moves the files; --tlscert named but missing fails.
	ep = resolve(fsys, env("DOCKER_HOST", "tcp://h:2376", "DOCKER_CERT_PATH", "/nope"), CLIFlags{TLSVerify: bp(true)})
	if got := ep.DockerLine(); !strings.HasSuffix(got, "open /nope/ca.pem: no such file or directory") {
		t.Errorf("DOCKER_CERT_PATH: %s", got)
	}
	fsys = tree(t, "", nil)
	ep = resolve(fsys, env("DOCKER_HOST", "tcp://h:2376"), CLIFlags{TLSVerify: bp(true), TLSCert: sp("/x/c.pem")})
	if got := ep.DockerLine(); !strings.HasSuffix(got, "open /x/c.pem: no such file or directory") {
		t.Errorf("--tlscert missing: %s", got)
	}
}

func TestInvalidMaterialErrors(t *testing.T) {
	cases := map[string]struct{ file, data, want string }{
		"ca not PEM":    {"/home/u/.docker/ca.pem", "junk", "Failed to initialize: failed to retrieve context tls info: ca.pem seems invalid"},
		"key not PEM":   {"/home/u/.docker/key.pem", "junk", "Failed to initialize: no valid private key found"},
		"encrypted key": {"/home/u/.docker/key.pem", "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00000000000000000000000000000000\n\nAAAA\n-----END EC PRIVATE KEY-----\n", "Failed to initialize: private key is encrypted - support for encrypted private keys has been removed, see https://docs.docker.com/go/deprecated/"},
	}
	for name, c := range cases {
		fsys := tree(t, "", map[string]string{c.file: c.data})
		ep := resolve(fsys, env("DOCKER_HOST", "tcp://h:2376", "DOCKER_TLS_VERIFY", "1"), CLIFlags{})
		if got := ep.DockerLine(); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, c.want)
		}
	}
	// A socket host never builds the TLS configuration: an invalid ca.pem
	// goes unnoticed.
	fsys := tree(t, "", map[string]string{"/home/u/.docker/ca.pem": "junk"})
	if ep := resolve(fsys, env("DOCKER_TLS_VERIFY", "1", "DOCKER_HOST", "unix:///run/d.sock"), CLIFlags{}); ep.Err != nil {
		t.Errorf("socket with junk ca.pem: %v", ep.Err)
	}
}

func TestContexts(t *testing.T) {
	fsys := tree(t, "", map[string]string{})
	ep := resolve(fsys, env(), CLIFlags{Context: "prod"})
	if !ep.TLS || ep.SkipTLSVerify || !ep.ClientCert() || ep.Host != "tcp://prod.example:2376" || ep.HostFrom != `context "prod"` {
		t.Errorf("prod: %+v", ep)
	}
	if ep = resolve(fsys, env(), CLIFlags{Context: "plain"}); ep.TLS {
		t.Errorf("plain context: TLS on")
	}
	// A context with cert and key but no CA verifies against system roots.
	_, tls := ContextDir("/home/u/.docker", "prod")
	fsys = tree(t, "", map[string]string{path.Join(tls, "docker", "ca.pem"): "\x00delete", path.Join(tls, "docker", "ca.crt"): "x"})
	ep = resolve(fsys, env(), CLIFlags{Context: "prod"})
	if !ep.TLS || !ep.SystemRoots || len(ep.Ignored) != 1 || !strings.HasSuffix(ep.Ignored[0], "/docker/ca.crt") {
		t.Errorf("context without CA: %+v", ep)
	}
	ep = resolve(fsys, env(), CLIFlags{Context: "nope"})
	meta, _ := ContextDir("/home/u/.docker", "nope")
	want := `Failed to initialize: unable to resolve docker endpoint: context "nope": context not found: open ` + meta + `/meta.json: no such file or directory`
	if got := ep.DockerLine(); got != want {
		t.Errorf("missing context:\n got %s\nwant %s", got, want)
	}
	if got := resolve(fsys, env(), CLIFlags{Context: "prod", Hosts: []string{"tcp://h:1"}}).DockerLine(); got != "conflicting options: cannot specify both --host and --context" {
		t.Errorf("conflict: %s", got)
	}
	if names := CLIContexts(fsys, "/home/u/.docker"); strings.Join(names, ",") != "plain,prod" {
		t.Errorf("CLIContexts = %v", names)
	}
}

func TestConfigFlagMovesContextsNotCertPath(t *testing.T) {
	fsys := tree(t, "", map[string]string{"/other/config.json": `{"currentContext":"x"}`})
	ep := resolve(fsys, env("DOCKER_HOST", "tcp://h:2376", "DOCKER_TLS_VERIFY", "1"), CLIFlags{Config: "/other"})
	if ep.ConfigDir != "/other" || ep.CertPath != "/home/u/.docker" || ep.CAFile != "/home/u/.docker/ca.pem" {
		t.Errorf("--config: %+v", ep)
	}
	fsys = tree(t, "", map[string]string{"/home/u/.docker/config.json": `{bad`})
	ep = resolve(fsys, env(), CLIFlags{})
	if want := "WARNING: Error parsing config file (/home/u/.docker/config.json): invalid character 'b' looking for beginning of object key string"; ep.ConfigWarning != want {
		t.Errorf("config warning:\n got %s\nwant %s", ep.ConfigWarning, want)
	}
}
